"""In-memory twins of the ports, for tests and trials without OpenSearch.

:class:`InMemoryStateRepository` keeps documents in their stored (dumped)
form and versions them as OpenSearch's single-shard index does (one
``_seq_no`` sequence, a ``_version`` per document), so it behaves like the
OpenSearch adapter.  :class:`InMemoryStateSearch` answers the part of the
query DSL that flowstatus itself sends (see :mod:`.memory_search`).
``tests/contract`` runs one suite against these and the OpenSearch adapters,
which is what allows them anywhere a real node is not the point.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from flowstatus.domain.generation import NEWEST, Generation
from flowstatus.repository.errors import CorruptDocument, DocumentMissing, IndexMissing, SearchIndexMissing
from flowstatus.repository.memory_search import StoredDoc, run_search
from flowstatus.repository.port import (
    Create,
    Delete,
    IndexReport,
    Lookup,
    Outcome,
    Readiness,
    Replace,
    StateRepository,
    StateSearch,
    Versioned,
    WriteOp,
    WriteResult,
)
from flowstatus.schemas.state import dump_state, load_state

PRIMARY_TERM = 1
DEFAULT_NESTED_LIMIT = 10_000  # OpenSearch's default index.mapping.nested_objects.limit


@dataclass(frozen=True)
class _Doc:
    source: dict[str, Any]
    seq_no: int
    version: int


class InMemoryStateRepository(StateRepository):
    """State documents in a dict; thread-safe.

    ``cluster_generation`` is the generation it answers as (the newest by
    default); set it to play another cluster, or one upgraded under flowstatus.
    """

    def __init__(self, index: str = ".plugins-flow-framework-state", *, nested_limit: int = DEFAULT_NESTED_LIMIT,
                 generation: Generation = NEWEST) -> None:
        self.index = index
        self.nested_limit = nested_limit
        self.cluster_generation = generation
        self._docs: dict[str, _Doc] | None = None  # None: the index does not exist
        self._seq_no = -1  # one sequence per shard, like OpenSearch's single-shard index
        self._lock = threading.Lock()

    def ensure_index(self) -> IndexReport:
        with self._lock:
            if self._docs is None:
                self._docs = {}
                return IndexReport.CREATED
            return IndexReport.CURRENT

    def generation(self) -> Generation:
        return self.cluster_generation

    def index_exists(self) -> bool:
        return self._docs is not None

    def nested_objects_limit(self) -> int:
        return self.nested_limit

    def readiness(self) -> Readiness:
        return Readiness() if self.index_exists() else Readiness("the state index does not exist")

    def _lookup(self, workflow_id: str) -> Lookup:
        if self._docs is None:
            raise IndexMissing(self.index)
        doc = self._docs.get(workflow_id)
        if doc is None:
            return None
        try:
            return Versioned(load_state(doc.source), doc.seq_no, PRIMARY_TERM)
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

    def versions(self, workflow_ids: Iterable[str]) -> dict[str, tuple[int, int] | None]:
        with self._lock:
            if self._docs is None:
                raise IndexMissing(self.index)
            docs = self._docs
            return {wid: (PRIMARY_TERM, doc.seq_no) if (doc := docs.get(wid)) else None
                    for wid in dict.fromkeys(workflow_ids)}

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
        elif current is None or (current.seq_no, PRIMARY_TERM) != (op.seq_no, op.primary_term):
            return WriteResult(Outcome.CONFLICT, error="version conflict")
        if isinstance(op, Delete):
            self._seq_no += 1
            del self._docs[op.workflow_id]
        else:
            assert isinstance(op, (Create, Replace))
            self._store(op.workflow_id, dump_state(op.state, self.cluster_generation))
        return WriteResult(Outcome.DONE, self._seq_no, PRIMARY_TERM)

    def _store(self, workflow_id: str, source: dict[str, Any]) -> None:
        assert self._docs is not None
        self._seq_no += 1
        previous = self._docs.get(workflow_id)
        self._docs[workflow_id] = _Doc(source, self._seq_no, previous.version + 1 if previous else 1)

    def put_raw(self, workflow_id: str, source: dict[str, Any]) -> None:
        """Store ``source`` verbatim, as another writer (the plugin, or a broken one) might have."""
        self.ensure_index()
        with self._lock:
            self._store(workflow_id, source)

    def snapshot(self) -> list[StoredDoc] | None:
        """Every stored document with its versions (``None`` if the index does not exist)."""
        with self._lock:
            if self._docs is None:
                return None
            return [StoredDoc(wid, d.source, d.seq_no, PRIMARY_TERM, d.version) for wid, d in self._docs.items()]

    def raw(self, workflow_id: str) -> dict[str, Any] | None:
        """The stored ``_source`` of one document, as stored (``None`` if there is none)."""
        with self._lock:
            doc = (self._docs or {}).get(workflow_id)
            return doc.source if doc else None


class InMemoryStateSearch(StateSearch):
    """Searches an :class:`InMemoryStateRepository`.

    Raises :class:`~flowstatus.repository.errors.SearchIndexMissing` like
    OpenSearch when the index does not exist, and ``ValueError`` for a part
    of the query DSL it does not implement (never a silently wrong answer).
    """

    def __init__(self, repository: InMemoryStateRepository) -> None:
        self.repository = repository
        self.index = repository.index

    def search(self, body: Mapping[str, Any]) -> dict[str, Any]:
        docs = self.repository.snapshot()
        if docs is None:
            reason = f"no such index [{self.index}]"
            cause = {"type": "index_not_found_exception", "reason": reason, "index": self.index}
            raise SearchIndexMissing(self.index, {**cause, "root_cause": [dict(cause)]})
        return run_search(self.index, docs, body)


def in_memory_store(index: str = ".plugins-flow-framework-state", *,
                    generation: Generation = NEWEST) -> tuple[InMemoryStateRepository, InMemoryStateSearch]:
    """A repository and a search over the same in-memory documents, answering as ``generation``."""
    repository = InMemoryStateRepository(index, generation=generation)
    return repository, InMemoryStateSearch(repository)
