"""The opensearch-py client flowstatus uses, and the one translation of its errors.

This module and its two users (:mod:`.opensearch_state`, :mod:`.opensearch_search`)
are the only code that imports opensearch-py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from opensearchpy import JSONSerializer, OpenSearch, Transport, Urllib3HttpConnection
from opensearchpy import exceptions as os_exc

from flowstatus.observability import metrics
from flowstatus.observability.request_context import request_id
from flowstatus.repository.errors import StoreError, StoreUnavailable
from flowstatus.settings import Settings

# Statuses that mean "the cluster cannot serve this now", worth a retry later.
UNAVAILABLE_STATUSES = frozenset({408, 429, 502, 503, 504})


class OrjsonSerializer(JSONSerializer):  # type: ignore[misc]
    """opensearch-py's JSON (de)serializer on orjson: several times faster on big states."""

    def loads(self, s: str | bytes) -> Any:
        return orjson.loads(s)

    def dumps(self, data: Any) -> str:
        if isinstance(data, str):
            return data
        return orjson.dumps(data, default=self.default).decode()


# What OpenSearch says, in a Warning header, on every request to a registered
# system index; the plugin registers its state index as one.
SYSTEM_INDEX_WARNING = "this request accesses system indices"


class StateIndexConnection(Urllib3HttpConnection):  # type: ignore[misc]
    """opensearch-py's connection, minus the warning about accessing system indices.

    Reading and writing the plugin's state index is what flowstatus is for,
    so on a cluster that runs the plugin OpenSearch would warn on every
    request: opensearch-py would print it in every process, and raise it as
    an exception under ``-W error``.  Every other warning is passed on.
    """

    def _raise_warnings(self, warning_headers: Any) -> None:
        others = [header for header in warning_headers or () if SYSTEM_INDEX_WARNING not in header]
        super()._raise_warnings(others)


class OpaqueIdTransport(Transport):  # type: ignore[misc]
    """Sends the current request's id as ``X-Opaque-Id`` on every call.

    OpenSearch records it in its tasks and slow logs, so an operator can
    follow one flowstatus request into the cluster.
    """

    def perform_request(self, method: str, url: str, *args: Any, headers: Any = None, **kwargs: Any) -> Any:
        rid = request_id.get()
        if rid is not None:
            headers = {**(headers or {}), "X-Opaque-Id": rid}
        return super().perform_request(method, url, *args, headers=headers, **kwargs)  # type: ignore[misc]


def build_client(settings: Settings, *, for_writes: bool = False) -> OpenSearch:
    """An opensearch-py client, pooled, with the request-path timeout.

    A read that fails on one node (refused, or slower than the timeout) is
    retried once on each other node.  The client for writes never retries:
    a write whose outcome is unknown must be read back, not repeated blindly
    (the indexer does that).

    Either client takes a node that timed out out of rotation (for
    opensearch-py's dead timeout, 60 s and doubling).  opensearch-py marks a
    node dead only where it decides to retry, so ``retry_on_timeout`` is on
    for the write client too: with ``max_retries=0`` it still never retries.
    Without it a stalled node stayed in the write rotation and, with the
    per-thread round robin, every write went to it first and paid the whole
    timeout plus a read-back (tests/reliability/test_slow_node.py).
    """
    retries = 0 if for_writes else len(settings.opensearch_hosts) - 1
    auth = None
    if settings.opensearch_username is not None:
        auth = (settings.opensearch_username, settings.opensearch_password or "")
    return OpenSearch(
        hosts=list(settings.opensearch_hosts),
        http_auth=auth,
        verify_certs=settings.opensearch_verify_certs,
        ca_certs=settings.opensearch_ca_certs,
        client_cert=settings.opensearch_client_cert,
        client_key=settings.opensearch_client_key,
        timeout=settings.request_timeout,
        pool_maxsize=settings.pool_size,  # opensearch-py ignores `maxsize`: one connection per pool
        serializer=OrjsonSerializer(),
        transport_class=OpaqueIdTransport,
        connection_class=StateIndexConnection,
        max_retries=retries,
        retry_on_timeout=True,
    )


@contextmanager
def translated(operation: str = "other") -> Iterator[None]:
    """Time one OpenSearch call and turn opensearch-py exceptions into the port's.

    Nothing transport-specific leaks out of the repository.
    """
    started = time.perf_counter()
    try:
        yield
    except os_exc.ConnectionError as exc:  # includes ConnectionTimeout
        metrics.OPENSEARCH_ERRORS.labels(operation, "unavailable").inc()
        raise StoreUnavailable(f"OpenSearch is unreachable: {exc.error}") from exc
    except os_exc.TransportError as exc:
        if exc.status_code in UNAVAILABLE_STATUSES:
            metrics.OPENSEARCH_ERRORS.labels(operation, "unavailable").inc()
            raise StoreUnavailable(f"OpenSearch answered {exc.status_code}: {exc.error}") from exc
        metrics.OPENSEARCH_ERRORS.labels(operation, "error").inc()
        raise StoreError(f"OpenSearch answered {exc.status_code}: {exc.error}") from exc
    finally:
        metrics.OPENSEARCH_LATENCY.labels(operation).observe(time.perf_counter() - started)


