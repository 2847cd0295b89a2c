"""Prometheus metrics.

Labels are bounded: routes are URL templates, never workflow ids; methods
outside a fixed set count as ``OTHER``; event kinds, results and rejections
are enums.  Under gunicorn the metrics of all workers are aggregated through
``PROMETHEUS_MULTIPROC_DIR`` (set by ``flowstatus serve``); otherwise the
process's own registry is used.  The workflow metrics come from a collector
computed at scrape time (:mod:`flowstatus.observability.workflow_collector`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from flowstatus.domain.outcomes import EventResult

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"})

HTTP_REQUESTS = Counter(
    "flowstatus_http_requests_total", "HTTP requests answered.", ["route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "flowstatus_http_request_duration_seconds", "Time to answer an HTTP request.", ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
OPENSEARCH_LATENCY = Histogram(
    "flowstatus_opensearch_request_duration_seconds", "Time of calls to OpenSearch.", ["operation"],
    buckets=LATENCY_BUCKETS,
)
OPENSEARCH_ERRORS = Counter(
    "flowstatus_opensearch_errors_total", "Failed calls to OpenSearch.", ["operation", "kind"]
)
CONFLICT_RETRIES = Counter(
    "flowstatus_indexer_conflict_retries_total", "Workflows re-read after a version conflict."
)
LONG_POLL_WAITERS = Gauge(
    "flowstatus_long_poll_waiters", "Long-poll requests waiting now.", multiprocess_mode="livesum"
)
EVENTS_APPLIED = Counter(
    "flowstatus_events_applied_total", "Events applied by this process, per kind and effect.", ["kind", "result"]
)
EVENTS_REFUSED = Counter(
    "flowstatus_events_refused_total", "Events this process did not apply, per kind and reason.", ["kind", "reason"]
)


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "OTHER"


def count_events(results: Iterable[EventResult]) -> None:
    """Count the indexer's ``results``: applied per kind and result, refused per kind and rejection."""
    for outcome in results:
        kind = outcome.event.kind.value
        if outcome.rejection is not None:
            EVENTS_REFUSED.labels(kind, outcome.rejection.value).inc()
        elif outcome.result is not None:
            EVENTS_APPLIED.labels(kind, outcome.result.value).inc()


def shared_directory() -> str | None:
    """The directory the worker processes of this server share for metrics, if any."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Forwarded:
    """Another registry's metrics, as one collector of the exposition's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def exposition(*collectors: Collector) -> bytes:
    """The text exposition of every metric (all gunicorn workers when multi-process), and of ``collectors``.

    ``collectors`` are registered on this exposition's registry only, so
    each is collected once per scrape however many workers there are.
    """
    registry = CollectorRegistry(auto_describe=False)
    if shared_directory():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forwarded(DEFAULT_REGISTRY))
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)
