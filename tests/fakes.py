"""An in-memory StateRepository for fast unit tests.

It keeps documents in their stored (dumped) form and versions them with a
per-document sequence number, so it behaves like the OpenSearch adapter;
``tests/contract`` runs one suite against both to keep it honest.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from marshmallow import ValidationError

from flowstatus.repository import (
    Create,
    Delete,
    IndexReport,
    Lookup,
    Outcome,
    Replace,
    StateRepository,
    Versioned,
    WriteOp,
    WriteResult,
)
from flowstatus.repository.errors import CorruptDocument, DocumentMissing, IndexMissing
from flowstatus.schemas.state import dump_state, load_state

PRIMARY_TERM = 1


class InMemoryStateRepository(StateRepository):
    def __init__(self, index: str = ".plugins-flow-framework-state") -> None:
        self.index = index
        self._docs: dict[str, tuple[dict[str, Any], int]] | None = None
        self._seq_no = -1  # one sequence per shard, like OpenSearch's single-shard index
        self._lock = threading.Lock()

    def ensure_index(self) -> IndexReport:
        with self._lock:
            if self._docs is None:
                self._docs = {}
                return IndexReport.CREATED
            return IndexReport.CURRENT

    def index_exists(self) -> bool:
        return self._docs is not None

    def _lookup(self, workflow_id: str) -> Lookup:
        if self._docs is None:
            raise IndexMissing(self.index)
        if workflow_id not in self._docs:
            return None
        source, seq_no = self._docs[workflow_id]
        try:
            return Versioned(load_state(source), seq_no, PRIMARY_TERM)
        except ValidationError as exc:
            return CorruptDocument(workflow_id, exc.messages)

    def get(self, workflow_id: str) -> Versioned:
        with self._lock:
            found = self._lookup(workflow_id)
        if found is None:
            raise DocumentMissing(workflow_id)
        if isinstance(found, CorruptDocument):
            raise found
        return found

    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, Lookup]:
        with self._lock:
            return {wid: self._lookup(wid) for wid in dict.fromkeys(workflow_ids)}

    def write_many(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        if not ops:
            return []
        self.ensure_index()
        with self._lock:
            return [self._write(op) for op in ops]

    def _write(self, op: WriteOp) -> WriteResult:
        assert self._docs is not None
        current = self._docs.get(op.workflow_id)
        if isinstance(op, Create):
            if current is not None:
                return WriteResult(Outcome.CONFLICT, error="document already exists")
        elif current is None or (current[1], PRIMARY_TERM) != (op.seq_no, op.primary_term):
            return WriteResult(Outcome.CONFLICT, error="version conflict")
        self._seq_no += 1
        if isinstance(op, Delete):
            del self._docs[op.workflow_id]
        else:
            assert isinstance(op, (Create, Replace))
            self._docs[op.workflow_id] = (dump_state(op.state), self._seq_no)
        return WriteResult(Outcome.DONE, self._seq_no, PRIMARY_TERM)

    def put_raw(self, workflow_id: str, source: dict[str, Any]) -> None:
        """Store ``source`` verbatim, as another writer might have (tests only)."""
        self.ensure_index()
        with self._lock:
            assert self._docs is not None
            self._seq_no += 1
            self._docs[workflow_id] = (source, self._seq_no)
