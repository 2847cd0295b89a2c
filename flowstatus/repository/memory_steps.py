"""In-memory twins of the step ports, for tests and trials without OpenSearch.

They keep documents in their stored form, versioned as OpenSearch's
single-shard index does, and pass the same contract suite as the OpenSearch
adapters (``tests/contract/test_steps_contract.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from marshmallow import ValidationError

from flowstatus.domain.step_observations import Lease
from flowstatus.domain.steps import StepRecords
from flowstatus.repository.port import IndexReport, Outcome, WriteResult
from flowstatus.repository.step_port import (
    LEASE_ID,
    PutRecords,
    StepStore,
    StoredGraph,
    StoredLease,
    StoredRecords,
    TemplateStore,
    Version,
)
from flowstatus.schemas.steps import GRAPH_FIELDS, dump_lease, dump_records, load_graph, load_lease, load_records
from flowstatus.settings import DEFAULT_TEMPLATES_INDEX

PRIMARY_TERM = 1
T = TypeVar("T")


class _Documents:
    """Documents of one in-memory index: ``None`` until it exists; one ``_seq_no`` sequence."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[dict[str, Any], int]] | None = None
        self.seq_no = -1
        self.lock = threading.Lock()

    def create_index(self) -> IndexReport:
        with self.lock:
            if self.docs is None:
                self.docs = {}
                return IndexReport.CREATED
            return IndexReport.CURRENT

    def get(self, doc_id: str) -> tuple[dict[str, Any], Version] | None:
        found = (self.docs or {}).get(doc_id)
        return None if found is None else (found[0], Version(found[1], PRIMARY_TERM))

    def get_many(self, ids: Iterable[str], load: Callable[[dict[str, Any], Version], T]) -> dict[str, T | None]:
        """``load(source, version)`` of each document found (``None`` for the others), in one locked read."""
        with self.lock:
            found = {doc_id: self.get(doc_id) for doc_id in dict.fromkeys(ids)}
        return {doc_id: None if doc is None else load(*doc) for doc_id, doc in found.items()}

    def put(self, doc_id: str, source: Mapping[str, Any], expected: Version | None) -> WriteResult:
        """Store ``source`` if the document is still at ``expected`` (``None``: absent); the index exists."""
        assert self.docs is not None
        current = self.docs.get(doc_id)
        now = None if current is None else Version(current[1], PRIMARY_TERM)
        if now != expected:
            return WriteResult(Outcome.CONFLICT, error="version conflict" if current else "document missing")
        self.seq_no += 1
        self.docs[doc_id] = (dict(source), self.seq_no)
        return WriteResult(Outcome.DONE, self.seq_no, PRIMARY_TERM)


class InMemoryStepStore(StepStore):
    """The companion index in a dict; thread-safe."""

    def __init__(self, index: str = ".plugins-flow-framework-state-flowstatus-steps") -> None:
        self.index = index
        self._index = _Documents()

    def ensure_index(self) -> IndexReport:
        return self._index.create_index()

    def index_exists(self) -> bool:
        return self._index.docs is not None

    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, StoredRecords | None]:
        return self._index.get_many(workflow_ids, lambda source, version: StoredRecords(_records(source), version))

    def write_many(self, puts: Sequence[PutRecords]) -> list[WriteResult]:
        if not puts:
            return []
        self.ensure_index()
        with self._index.lock:
            return [self._index.put(p.records.workflow_id, dump_records(p.records), p.expected) for p in puts]

    def read_lease(self) -> StoredLease | None:
        with self._index.lock:
            found = self._index.get(LEASE_ID)
        if found is None:
            return None
        try:
            return StoredLease(load_lease(found[0]), found[1])
        except ValidationError:
            return StoredLease(None, found[1])

    def write_lease(self, lease: Lease, expected: Version | None) -> bool:
        self.ensure_index()
        with self._index.lock:
            return self._index.put(LEASE_ID, dump_lease(lease), expected).outcome is Outcome.DONE

    def put_raw(self, doc_id: str, source: Mapping[str, Any]) -> None:
        """Store ``source`` verbatim (as a broken writer might have)."""
        self.ensure_index()
        with self._index.lock:
            current = self._index.get(doc_id)
            self._index.put(doc_id, source, current[1] if current else None)


def _records(source: Mapping[str, Any]) -> StepRecords | None:
    try:
        return load_records(source)
    except ValidationError:
        return None


def graph_fields(source: Mapping[str, Any]) -> dict[str, Any]:
    """``source`` reduced to :data:`GRAPH_FIELDS`, as OpenSearch's ``_source_includes`` reduces it."""
    def keep(value: Any, paths: list[list[str]]) -> Any:
        if isinstance(value, list):
            return [kept for item in value if (kept := keep(item, paths)) is not None]
        if not isinstance(value, Mapping):
            return None  # a leaf below which a longer path was asked for
        out = {}
        for key, item in value.items():
            deeper = [p[1:] for p in paths if p[0] == key]
            if any(not p for p in deeper):
                out[key] = item  # the path names this field: all of it
            elif deeper and (kept := keep(item, deeper)) not in (None, {}, []):
                out[key] = kept
        return out

    kept: dict[str, Any] = keep(source, [path.split(".") for path in GRAPH_FIELDS])
    return kept


class InMemoryTemplateStore(TemplateStore):
    """Template documents in a dict (``put`` them as the plugin stores them)."""

    def __init__(self, index: str = DEFAULT_TEMPLATES_INDEX) -> None:
        self.index = index
        self._index = _Documents()

    def put(self, workflow_id: str, source: Mapping[str, Any]) -> None:
        """Store a template document as the plugin would (creating the index)."""
        self._index.create_index()
        with self._index.lock:
            current = self._index.get(workflow_id)
            self._index.put(workflow_id, source, current[1] if current else None)

    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, StoredGraph | None]:
        return self._index.get_many(workflow_ids, lambda source, version: _graph(graph_fields(source), version))


def _graph(source: Mapping[str, Any], version: Version) -> StoredGraph:
    try:
        return StoredGraph(load_graph(source), version)
    except ValidationError:
        return StoredGraph(None, version)
