"""The ports of the step feature: flowstatus's companion index, and the plugin's templates.

:class:`StepStore` keeps one document of step records per workflow (and the
step observer's lease) in an index of flowstatus's own, beside the state
index: the plugin's state parser refuses unknown keys, so nothing of this
may go into the state document.  :class:`TemplateStore` reads the provision
graph of the plugin's templates.  Implementations: the OpenSearch adapters
(:mod:`.opensearch_steps`, :mod:`.opensearch_templates`) and the in-memory
twins of :mod:`.memory_steps`, held to one suite by ``tests/contract``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flowstatus.domain.step_observations import Lease
from flowstatus.domain.steps import StepGraph, StepRecords
from flowstatus.repository.port import IndexReport, WriteResult

# The lease's document id: a workflow id never holds "/", so it cannot collide with one.
LEASE_ID = "observer/lease"


@dataclass(frozen=True)
class Version:
    """Where a document stood when read (for optimistic concurrency)."""

    seq_no: int
    primary_term: int


@dataclass(frozen=True)
class StoredRecords:
    """A workflow's step records and their version; ``records`` is ``None`` for a document that does not load."""

    records: StepRecords | None
    version: Version


@dataclass(frozen=True)
class PutRecords:
    """Write ``records``: as a new document (``expected`` is ``None``) or over the one at ``expected``."""

    records: StepRecords
    expected: Version | None = None


@dataclass(frozen=True)
class StoredLease:
    lease: Lease | None  # None: a lease document that does not load
    version: Version


@dataclass(frozen=True)
class StoredGraph:
    """A template's provision graph (``None``: the template has none, or it does not load) and its version."""

    graph: StepGraph | None
    version: Version


class StepStore(abc.ABC):
    """Step records and the observer's lease in the companion index.

    Every method may raise :class:`~flowstatus.repository.errors.StoreUnavailable`.
    """

    index: str

    @abc.abstractmethod
    def ensure_index(self) -> IndexReport:
        """Create the companion index with its mapping (hidden), or add what an older one lacks. Idempotent."""

    @abc.abstractmethod
    def index_exists(self) -> bool:
        """Whether the companion index exists."""

    @abc.abstractmethod
    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, StoredRecords | None]:
        """Realtime reads of several workflows' records in one round trip (``None``: none, or no index)."""

    @abc.abstractmethod
    def write_many(self, puts: Sequence[PutRecords]) -> list[WriteResult]:
        """Apply ``puts`` in one round trip; one result per put, in order.

        A put whose ``expected`` version is no longer current (or, for a new
        document, that finds one) is a CONFLICT and changes nothing.  A
        missing index is first created as :meth:`ensure_index` does; no write
        ever creates it with dynamic mappings.
        """

    @abc.abstractmethod
    def read_lease(self) -> StoredLease | None:
        """The observer's lease now (realtime), ``None`` if there is none."""

    @abc.abstractmethod
    def write_lease(self, lease: Lease, expected: Version | None) -> bool:
        """Write ``lease`` only if the lease document is still at ``expected`` (``None``: still absent).

        Returns whether it was written; ``False`` means another process wrote first.
        """


class TemplateStore(abc.ABC):
    """Reads the provision graphs of the plugin's templates (``.plugins-flow-framework-templates``).

    Never writes; reads only the graph's fields.  May raise
    :class:`~flowstatus.repository.errors.StoreUnavailable`.
    """

    index: str

    @abc.abstractmethod
    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, StoredGraph | None]:
        """Each workflow's graph in one round trip (``None``: no template, or no template index)."""
