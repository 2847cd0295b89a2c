"""The ports: what the rest of flowstatus may ask of the store.

:class:`StateRepository` reads and writes state documents; :class:`StateSearch`
searches them.  Implementations: the OpenSearch adapters
(:mod:`flowstatus.repository.opensearch_state`, :mod:`flowstatus.repository.opensearch_search`)
and the in-memory ones of :mod:`flowstatus.repository.memory`, which the
contract suite in ``tests/contract`` holds to the same behaviour.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flowstatus.domain.generation import Generation
from flowstatus.domain.model import WorkflowState
from flowstatus.repository.errors import CorruptDocument


@dataclass(frozen=True)
class Versioned:
    """A state together with the version it was read at (for optimistic concurrency)."""

    state: WorkflowState
    seq_no: int
    primary_term: int


@dataclass(frozen=True)
class Create:
    """Write ``state`` as a new document; conflicts if one already exists."""

    workflow_id: str
    state: WorkflowState


@dataclass(frozen=True)
class Replace:
    """Overwrite the document, only if it is still at ``seq_no``/``primary_term``."""

    workflow_id: str
    state: WorkflowState
    seq_no: int
    primary_term: int


@dataclass(frozen=True)
class Delete:
    """Delete the document, only if it is still at ``seq_no``/``primary_term``."""

    workflow_id: str
    seq_no: int
    primary_term: int


WriteOp = Create | Replace | Delete


class Outcome(enum.Enum):
    DONE = "done"
    CONFLICT = "conflict"  # someone wrote first: re-read and try again
    UNAVAILABLE = "unavailable"  # the shard could not take it now: retry later
    FAILED = "failed"  # refused for another reason, see ``error``


@dataclass(frozen=True)
class WriteResult:
    """What happened to one :data:`WriteOp`. Versions are set when ``outcome`` is DONE."""

    outcome: Outcome
    seq_no: int | None = None
    primary_term: int | None = None
    error: str | None = None


Lookup = Versioned | None | CorruptDocument


@dataclass(frozen=True)
class Readiness:
    """Whether a status read and an event write would succeed now; ``reason`` says why not."""

    reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.reason is None


class IndexReport(enum.Enum):
    CREATED = "created"
    UPGRADED = "upgraded"
    CURRENT = "current"
    REPAIRED = "repaired"


class StateRepository(abc.ABC):
    """Reads and writes workflow-state documents.

    Every method may raise :class:`flowstatus.repository.errors.StoreUnavailable` when the
    store cannot be reached in time; nothing else about the transport leaks.
    """

    index: str

    @abc.abstractmethod
    def ensure_index(self) -> IndexReport:
        """Create the state index with the mapping of the cluster's plugin, or upgrade an older one in place.

        Idempotent; safe to race with another creator.  Raises
        :class:`flowstatus.repository.errors.MappingConflict` if an old mapping cannot be
        upgraded without a reindex.
        """

    def repair_index(self, progress: Callable[[str, int, int | None], None]) -> IndexReport:
        """As :meth:`ensure_index`, and an index whose mapping cannot be upgraded in place is given
        the plugin's mapping by copying its documents, none lost (REPAIRED).

        ``progress(stage, done, total)`` is called as documents are copied.
        Resumes a repair that stopped part way.  Only the OpenSearch adapter
        can meet such an index; elsewhere this is :meth:`ensure_index`.
        """
        return self.ensure_index()

    @abc.abstractmethod
    def generation(self) -> Generation:
        """Which OpenSearch release and Flow Framework plugin version the cluster runs.

        Read once and kept; read again when the store was unavailable (the
        cluster may come back upgraded), when :meth:`ensure_index` runs, and
        at least every few minutes.  What depends on it: the mapping
        :meth:`ensure_index` gives, and the shape of a ``user`` flowstatus
        built in what :meth:`write_many` writes.  A cluster that will not say
        is taken for the newest generation.  Raises
        :class:`~flowstatus.repository.errors.StoreUnavailable` when the store
        cannot be reached to read it.
        """

    @abc.abstractmethod
    def index_exists(self) -> bool:
        """Whether the state index exists."""

    @abc.abstractmethod
    def readiness(self) -> Readiness:
        """Whether reads and writes of states would succeed now: the index exists, enough
        copies of its shard are active for a read and for a write (``wait_for_active_shards``),
        and the store lets flowstatus read, search and write it (on a secured cluster it may
        refuse, or hide the index).

        Raises :class:`~flowstatus.repository.errors.StoreTLSError` when the TLS handshake
        fails, and :class:`~flowstatus.repository.errors.StoreUnavailable` when the
        store cannot be reached.
        """

    @abc.abstractmethod
    def nested_objects_limit(self) -> int:
        """The state index's ``index.mapping.nested_objects.limit`` (OpenSearch's default 10,000 when unset).

        Read once and kept; a missing index answers the default.
        """

    @abc.abstractmethod
    def get(self, workflow_id: str) -> Versioned:
        """A realtime read of one state (no refresh needed after a write).

        Raises :class:`~flowstatus.repository.errors.IndexMissing`,
        :class:`~flowstatus.repository.errors.DocumentMissing` or
        :class:`~flowstatus.repository.errors.CorruptDocument`.
        """

    @abc.abstractmethod
    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, Lookup]:
        """Realtime reads of several states in one round trip.

        Each id maps to its :class:`Versioned`, ``None`` if missing, or a
        :class:`~flowstatus.repository.errors.CorruptDocument`.  Raises
        :class:`~flowstatus.repository.errors.IndexMissing` if the index does not exist.
        """

    @abc.abstractmethod
    def versions(self, workflow_ids: Iterable[str]) -> dict[str, tuple[int, int] | None]:
        """Realtime ``(primary_term, seq_no)`` of several states in one round trip, without their content.

        ``None`` for a missing document.  The pair changes whenever the
        document does, so a caller that kept the pair of its last read knows
        without reading again that the state is unchanged.  Raises
        :class:`~flowstatus.repository.errors.IndexMissing` if the index does not exist.
        """

    @abc.abstractmethod
    def write_many(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """Apply ``ops`` in one round trip; one result per op, in order.

        Each op succeeds or fails on its own.  A CONFLICT leaves the document
        as it was.  A missing state index is first created as
        :meth:`ensure_index` does, never with dynamic mappings.  A ``user``
        flowstatus built is written in the shape of the plugin of
        :meth:`generation` (:func:`flowstatus.schemas.state.dump_state`).
        """

    def write(self, op: WriteOp) -> WriteResult:
        """One op; see :meth:`write_many`."""
        return self.write_many([op])[0]


class StateSearch(abc.ABC):
    """Runs search bodies on the state index and answers with OpenSearch's search response.

    Bodies arrive already restricted to what the caller may see
    (:mod:`flowstatus.services.scoped_search`).
    """

    index: str

    @abc.abstractmethod
    def search(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The search response for ``body``: ``hits`` (each with ``_id``, ``_source`` as
        stored, ``_version``, ``_seq_no``, ``_primary_term``), ``aggregations``, and
        ``timed_out: true`` when the search ran out of time and answers partly.

        Raises :class:`~flowstatus.repository.errors.SearchIndexMissing` when
        the index does not exist, :class:`~flowstatus.repository.errors.SearchRejected`
        for a body the store refuses, :class:`~flowstatus.repository.errors.StoreUnavailable`
        when the store cannot be reached, is overloaded or failed the whole search
        in time, and :class:`~flowstatus.repository.errors.StoreError` otherwise.
        """
