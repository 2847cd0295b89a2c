"""The composition root: every collaborator of one process, built once, in one place.

The app factory (:func:`flowstatus.app.create_app`) and the command line both
take their repository, search, indexer, watcher, access policy and
authenticator from :class:`Components`, so a collaborator is configured the
same way wherever it is used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from flowstatus.domain.access import AccessPolicy
from flowstatus.observability import metrics
from flowstatus.observability.census_cache import CensusCache
from flowstatus.observability.workflow_collector import WorkflowCollector
from flowstatus.repository.port import StateRepository, StateSearch
from flowstatus.repository.step_port import StepStore, TemplateStore
from flowstatus.services.authentication import Authenticator
from flowstatus.services.indexer import StatusIndexer
from flowstatus.services.long_poll import StatusWatcher
from flowstatus.services.readiness import ReadinessCheck
from flowstatus.services.scoped_search import ScopedSearch
from flowstatus.services.status_reads import StatusReads
from flowstatus.services.step_events import Backoff, StepRecorder
from flowstatus.services.step_observer import StepObserver
from flowstatus.services.step_reads import Probe, ProbeReader, StepReads
from flowstatus.services.workflow_census import WorkflowCensusTaker
from flowstatus.settings import Settings

if TYPE_CHECKING:
    from opensearchpy import OpenSearch


class Components:
    """The collaborators for ``settings``, each built on first use and then kept.

    ``repository`` and ``search`` replace the OpenSearch adapters (tests pass
    the in-memory pair of :mod:`flowstatus.repository.memory`), as
    ``step_store`` and ``templates`` do for the step feature's
    (:mod:`flowstatus.repository.memory_steps`).  Building opens no connection.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        repository: StateRepository | None = None,
        search: StateSearch | None = None,
        step_store: StepStore | None = None,
        templates: TemplateStore | None = None,
    ) -> None:
        self.settings = settings
        self._waiters = {"status": 0, "steps": 0}  # each watcher's last reported count, for one gauge
        self._waiters_lock = threading.Lock()
        given = {"repository": repository, "search": search, "step_store": step_store, "templates": templates}
        self.__dict__.update({name: value for name, value in given.items() if value is not None})

    @cached_property
    def client(self) -> OpenSearch:
        """The one OpenSearch client (and connection pool) for reads and searches."""
        from flowstatus.repository.opensearch_client import build_client

        return build_client(self.settings)

    @cached_property
    def write_client(self) -> OpenSearch:
        """The one client (and connection pool) for writes: it never retries what may have been applied."""
        from flowstatus.repository.opensearch_client import build_client

        return build_client(self.settings, for_writes=True)

    @cached_property
    def repository(self) -> StateRepository:
        from flowstatus.repository.opensearch_state import OpenSearchStateRepository

        return OpenSearchStateRepository.from_settings(self.settings, self.client, self.write_client)

    @cached_property
    def search(self) -> StateSearch:
        from flowstatus.repository.opensearch_search import OpenSearchStateSearch

        return OpenSearchStateSearch.from_settings(self.settings, self.client)

    @cached_property
    def policy(self) -> AccessPolicy:
        return AccessPolicy(self.settings.filter_by_backend_roles, self.settings.multi_tenancy)

    @cached_property
    def indexer(self) -> StatusIndexer:
        return StatusIndexer(
            self.repository,
            retries=self.settings.conflict_retries,
            on_retry=metrics.CONFLICT_RETRIES.inc,
            on_results=metrics.count_events,
            policy=self.policy,
            steps=self.step_recorder,
        )

    @cached_property
    def watcher(self) -> StatusWatcher:
        return StatusWatcher(
            self.repository,
            interval=self.settings.long_poll_interval,
            max_waiters=self.settings.long_poll_max_waiters,
            on_waiters=self._counting_waiters("status"),
        )

    def _counting_waiters(self, watcher: str) -> Callable[[int], None]:
        """The ``on_waiters`` of ``watcher``: the long-poll gauge counts the waiters of both watchers.

        Each watcher reports its own count; the sum is taken and set under one
        lock, so a report never overwrites a newer total with an older one.
        """

        def report(count: int) -> None:
            with self._waiters_lock:
                self._waiters[watcher] = count
                metrics.LONG_POLL_WAITERS.set(sum(self._waiters.values()))

        return report

    @cached_property
    def status_reads(self) -> StatusReads:
        return StatusReads(self.repository, self.policy, self.watcher)

    @cached_property
    def readiness(self) -> ReadinessCheck:
        return ReadinessCheck(self.repository)

    # -- steps ---------------------------------------------------------------------

    @cached_property
    def step_store(self) -> StepStore:
        """The companion index, ``<state index>-flowstatus-steps``."""
        from flowstatus.repository.opensearch_steps import OpenSearchStepStore, steps_index

        settings = self.settings
        return OpenSearchStepStore(self.client, steps_index(settings.state_index),
                                   write_client=self.write_client, refresh=settings.refresh)

    @cached_property
    def templates(self) -> TemplateStore:
        from flowstatus.repository.opensearch_templates import OpenSearchTemplateStore

        return OpenSearchTemplateStore(self.client, self.settings.templates_index)

    @cached_property
    def step_recorder(self) -> StepRecorder:
        return StepRecorder(self.repository, self.step_store, policy=self.policy,
                            backoff=Backoff(retries=self.settings.conflict_retries),
                            on_retry=metrics.CONFLICT_RETRIES.inc)

    @cached_property
    def steps_watcher(self) -> StatusWatcher[Probe]:
        """Long polls on steps: one watcher per process, as for status (its own waiter cap)."""
        return StatusWatcher(
            ProbeReader(self.repository, self.step_store),
            interval=self.settings.long_poll_interval,
            max_waiters=self.settings.long_poll_max_waiters,
            on_waiters=self._counting_waiters("steps"),
        )

    @cached_property
    def step_reads(self) -> StepReads:
        return StepReads(self.status_reads, self.step_store, self.templates, self.steps_watcher)

    @cached_property
    def step_observer(self) -> StepObserver:
        """This process's step observer (not started: :meth:`StepObserver.start`)."""
        return StepObserver(self.repository, self.search, self.step_store,
                            interval=self.settings.step_observer_interval)

    @cached_property
    def scoped_search(self) -> ScopedSearch:
        return ScopedSearch(self.search, self.policy)

    @cached_property
    def workflow_metrics(self) -> WorkflowCollector | None:
        """The workflow metrics' collector (``None`` when they are off); builds its cache, opens nothing.

        Worker processes that share ``PROMETHEUS_MULTIPROC_DIR`` share one
        census per interval.  A worker waits for another's census at most
        about one search's time before serving the last values.
        """
        settings = self.settings
        if not settings.workflow_metrics:
            return None
        census = WorkflowCensusTaker(self.search, tenants=settings.workflow_metrics_tenants)
        cache = CensusCache(
            census.attempt,
            interval=settings.workflow_metrics_interval,
            directory=metrics.shared_directory(),
            wait=settings.request_timeout + 2,
        )
        return WorkflowCollector(cache, tenants=settings.workflow_metrics_tenants > 0)

    @cached_property
    def authenticator(self) -> Authenticator:
        """Raises :class:`~flowstatus.services.passwords.UsersFileError` for an unusable users file."""
        return Authenticator.from_settings(self.settings)
