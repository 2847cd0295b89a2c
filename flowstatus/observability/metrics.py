"""Prometheus metrics.

Labels are bounded: routes are URL templates, never workflow ids; methods
outside a fixed set count as ``OTHER``.  Under gunicorn the metrics of all
workers are aggregated through ``PROMETHEUS_MULTIPROC_DIR`` (set by
``flowstatus serve``); otherwise the process's own registry is used.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

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


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "OTHER"


def exposition() -> bytes:
    """The text exposition of every metric (all gunicorn workers when multi-process)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)
