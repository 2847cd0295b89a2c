"""The workflow metrics: a Prometheus collector over the cached workflow census.

Computed when scraped, not kept up to date by every worker: ``collect`` asks
the :class:`~flowstatus.observability.census_cache.CensusCache`, which
searches the state index at most once per interval for the whole server.
Registered on the registry of each exposition (see
:func:`flowstatus.observability.metrics.exposition`), never on the
process-wide one, so it is exported exactly once, multi-process or not.
The metrics are documented in docs/operations.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.metrics_core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from flowstatus.domain.census import WorkflowCensus
from flowstatus.observability.census_cache import CensusCache

STALE = "flowstatus_workflow_metrics_stale"
LAST_SUCCESS = "flowstatus_workflow_metrics_last_success_timestamp_seconds"
BY_STATE = "flowstatus_workflows_by_state"
BY_PROGRESS = "flowstatus_workflows_by_progress"
FINISHED_LAST_HOUR = "flowstatus_workflows_finished_last_hour"
OLDEST_PROVISIONING = "flowstatus_workflow_oldest_provisioning_age_seconds"
DURATION = "flowstatus_workflow_provisioning_duration_seconds"
FAILED_BY_ERROR = "flowstatus_workflows_failed_by_error"
BY_TENANT = "flowstatus_workflows_by_tenant"
NAMES = (STALE, LAST_SUCCESS, BY_STATE, BY_PROGRESS, FINISHED_LAST_HOUR, OLDEST_PROVISIONING, DURATION,
         FAILED_BY_ERROR, BY_TENANT)
"""Every family this collector may export."""


def _gauge(name: str, documentation: str, labels: Mapping[str, int], label: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in labels.items():
        family.add_metric([value], count)
    return family


class WorkflowCollector:
    """The workflow gauges from ``cache``; ``tenants`` adds the per-tenant breakdown."""

    def __init__(self, cache: CensusCache, *, tenants: bool = False, clock: Callable[[], float] = time.time) -> None:
        self.cache = cache
        self.tenants = tenants
        self.clock = clock

    def describe(self) -> Iterator[Metric]:
        """The families without samples: lets a registry check names without taking a census."""
        yield GaugeMetricFamily(STALE, "")
        yield GaugeMetricFamily(LAST_SUCCESS, "")
        yield from self._families(WorkflowCensus(0.0))

    def collect(self) -> Iterator[Metric]:
        """Every workflow metric; only the stale gauge (1) while no census was ever taken."""
        record = self.cache.current()
        stale = record is None or record.stale
        yield GaugeMetricFamily(
            STALE, "1 when the last workflow census failed and the workflow metrics are older values.",
            value=1 if stale else 0,
        )
        if record is None or record.census is None:
            return
        yield GaugeMetricFamily(
            LAST_SUCCESS, "When the workflow metrics were computed (Unix time).", value=record.census.taken_at
        )
        yield from self._families(record.census)

    def _families(self, census: WorkflowCensus) -> Iterator[Metric]:
        yield _gauge(BY_STATE, "Workflows per state.", census.by_state, "state")
        yield _gauge(BY_PROGRESS, "Workflows per provisioning progress.", census.by_progress, "provisioning_progress")
        yield _gauge(
            FINISHED_LAST_HOUR, "COMPLETED or FAILED workflows whose provisioning ended in the last hour.",
            census.finished_last_hour, "state",
        )
        yield GaugeMetricFamily(
            OLDEST_PROVISIONING, "How long the oldest PROVISIONING workflow has been provisioning (0: none).",
            value=census.oldest_provisioning_age(self.clock()),
        )
        durations = GaugeHistogramMetricFamily(
            DURATION, "Provisioning durations of the most recently finished workflows.", labels=["state"]
        )
        for state, histogram in census.durations.items():
            buckets = [(floatToGoString(bound), float(count)) for bound, count in histogram.cumulative()]
            durations.add_metric([state], buckets, histogram.total_seconds)
        yield durations
        yield _gauge(FAILED_BY_ERROR, "FAILED workflows per first line of their error.", census.failed_by_error, "error")
        if self.tenants:
            by_tenant = GaugeMetricFamily(BY_TENANT, "Workflows per tenant and state.", labels=["tenant", "state"])
            for tenant, states in census.by_tenant.items():
                for state, count in states.items():
                    by_tenant.add_metric([tenant, state], count)
            yield by_tenant
