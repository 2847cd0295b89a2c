"""The opensearch-py client flowstatus uses, and the one translation of its errors.

This module and its two users (:mod:`.opensearch_state`, :mod:`.opensearch_search`)
are the only code that imports opensearch-py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from opensearchpy import JSONSerializer, OpenSearch, Transport
from opensearchpy import exceptions as os_exc

from flowstatus.observability import metrics
from flowstatus.observability.request_context import opaque_id
from flowstatus.repository.errors import StoreAccessRefused, StoreError, StoreTLSError, StoreUnavailable
from flowstatus.repository.lean_connection import LeanConnection, NotSent
from flowstatus.repository.opensearch_credentials import basic_auth, tls_context
from flowstatus.settings import Settings

# Statuses that mean "the cluster cannot serve this now", worth a retry later.
UNAVAILABLE_STATUSES = frozenset({408, 429, 502, 503, 504})
GUIDE = "docs/secured-cluster.md"
CREDENTIALS_REFUSED = (
    "OpenSearch refuses flowstatus's credentials (401 Unauthorized): check OPENSEARCH_USERNAME and its password "
    "(OPENSEARCH_PASSWORD or OPENSEARCH_PASSWORD_FILE), or the client certificate (OPENSEARCH_CLIENT_CERT)"
)
# The security plugin names the user and its roles after what it refused; flowstatus
# repeats only what was refused (answers such as /_ready are public).
_USER_PART = re.compile(r"\s*(and )?User \[.*$", re.DOTALL)


class OrjsonSerializer(JSONSerializer):  # type: ignore[misc]
    """opensearch-py's JSON (de)serializer on orjson: several times faster on big states."""

    def loads(self, s: str | bytes) -> Any:
        return orjson.loads(s)

    def dumps(self, data: Any) -> str:
        if isinstance(data, str):
            return data
        return orjson.dumps(data, default=self.default).decode()


class OpaqueIdTransport(Transport):  # type: ignore[misc]
    """Sends the current request's id as ``X-Opaque-Id`` on every call that does not set its own.

    OpenSearch records it in its tasks and slow logs, so an operator can
    follow one flowstatus request into the cluster.

    A client that never retries (the one for writes) still sends a request
    again when a node refused the connection (:class:`NotSent`): nothing of
    it reached OpenSearch, so it cannot be applied twice.  opensearch-py has
    marked that node dead, so the next attempt goes to another; each node is
    tried at most once.  Without this, one stopped node of three failed a
    third of the writes with 503 while two nodes were serving.
    """

    def perform_request(self, method: str, url: str, *args: Any, headers: Any = None, **kwargs: Any) -> Any:
        rid = opaque_id.get()
        if rid is not None and "X-Opaque-Id" not in (headers or {}):
            headers = {**(headers or {}), "X-Opaque-Id": rid}
        resends = len(self.connection_pool.connections) - 1 if self.max_retries == 0 else 0
        for _ in range(resends):
            try:
                return super().perform_request(method, url, *args, headers=headers, **kwargs)  # type: ignore[misc]
            except NotSent:
                continue
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

    TLS trust, the client certificate and the credentials are read from
    their files now (:mod:`.opensearch_credentials`); an unusable file raises
    :class:`~flowstatus.repository.errors.StoreSettingsError`.  No connection
    is opened.  Requests go over
    :class:`~flowstatus.repository.lean_connection.LeanConnection` rather
    than urllib3: the same behaviour, a fraction of the CPU.
    """
    retries = 0 if for_writes else len(settings.opensearch_hosts) - 1
    return OpenSearch(
        hosts=list(settings.opensearch_hosts),
        http_auth=basic_auth(settings),
        ssl_context=tls_context(settings),
        timeout=settings.request_timeout,
        pool_maxsize=settings.pool_size,  # opensearch-py ignores `maxsize`: one connection per pool
        serializer=OrjsonSerializer(),
        transport_class=OpaqueIdTransport,
        connection_class=LeanConnection,
        max_retries=retries,
        retry_on_timeout=True,
    )


PRIMARIES_WAIT = 30.0  # seconds an index another process just created may take to start its primary shards


def wait_for_primaries(client: OpenSearch, index: str, seconds: float = PRIMARIES_WAIT) -> None:
    """Return once every primary shard of ``index`` is active; :class:`StoreUnavailable` after ``seconds``.

    For an index another process has just created: creating an index
    returns once its primary is active, but the loser of a creation race
    is told only that the index exists, and a read of a shard still
    starting answers 503.  Call inside :func:`translated`.
    """
    answer = client.cluster.health(index=index, wait_for_status="yellow", timeout=f"{seconds:g}s",
                                   request_timeout=seconds + 5, ignore=408)
    if answer.get("timed_out"):
        raise StoreUnavailable(f"{index} exists but its primary shards are not active after {seconds:g} s "
                               f"(cluster health of the index: {answer.get('status')})")


@contextmanager
def translated(operation: str = "other") -> Iterator[None]:
    """Time one OpenSearch call and turn opensearch-py exceptions into the port's.

    Nothing transport-specific leaks out of the repository.  A failed TLS
    handshake raises :class:`~flowstatus.repository.errors.StoreTLSError`,
    refused credentials or permissions :class:`~flowstatus.repository.errors.StoreAccessRefused`.
    """
    started = time.perf_counter()
    try:
        yield
    except os_exc.SSLError as exc:
        metrics.OPENSEARCH_ERRORS.labels(operation, "tls").inc()
        raise StoreTLSError(tls_failure(str(exc.error))) from exc
    except os_exc.ConnectionError as exc:  # includes ConnectionTimeout
        metrics.OPENSEARCH_ERRORS.labels(operation, "unavailable").inc()
        hint = ""
        if "Remote end closed connection without response" in str(exc.error):
            hint = " (an https server closes plain http connections: should OPENSEARCH_URL start with https://?)"
        raise StoreUnavailable(f"OpenSearch is unreachable: {exc.error}{hint}") from exc
    except os_exc.TransportError as exc:
        refusal = access_refusal(exc.status_code, exc.info)
        if refusal is not None:
            metrics.OPENSEARCH_ERRORS.labels(operation, "refused").inc()
            raise StoreAccessRefused(refusal) from exc
        if exc.status_code in UNAVAILABLE_STATUSES:
            metrics.OPENSEARCH_ERRORS.labels(operation, "unavailable").inc()
            raise StoreUnavailable(f"OpenSearch answered {exc.status_code}: {exc.error}") from exc
        metrics.OPENSEARCH_ERRORS.labels(operation, "error").inc()
        raise StoreError(f"OpenSearch answered {exc.status_code}: {exc.error}") from exc
    finally:
        metrics.OPENSEARCH_LATENCY.labels(operation).observe(time.perf_counter() - started)




def tls_failure(error: str) -> str:
    """What a failed TLS handshake with OpenSearch means, from the SSL library's words."""
    if "CERTIFICATE_VERIFY_FAILED" in error:
        return (f"OpenSearch's TLS certificate cannot be verified ({error}): OPENSEARCH_CA_CERTS must name the CA "
                "bundle that signed it, and the certificate must name the host of OPENSEARCH_URL")
    if "WRONG_VERSION_NUMBER" in error or "record layer failure" in error:
        return f"OpenSearch does not answer TLS ({error}): is OPENSEARCH_URL https:// on a port that serves http?"
    if "alert" in error.lower():
        return (f"OpenSearch refused the TLS handshake ({error}): check the client certificate "
                "(OPENSEARCH_CLIENT_CERT, OPENSEARCH_CLIENT_KEY) and that OpenSearch trusts its CA")
    return f"TLS with OpenSearch failed ({error})"


def security_reason(reason: str) -> str:
    """OpenSearch's ``security_exception`` reason without the user name and roles that follow it."""
    return _USER_PART.sub("", reason).strip() or "no reason given"


def access_refusal(status: object, body: object) -> str | None:
    """The message for an answer that refuses flowstatus's credentials or permissions, else ``None``.

    401; 403 with a ``security_exception`` or no body at all (HEAD).  A 403
    for another reason (a ``cluster_block_exception``: a read-only index) is
    not a refusal of access.
    """
    if status == 401:
        return CREDENTIALS_REFUSED
    if status != 403:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("type") == "security_exception":
        said = f"security_exception: {security_reason(str(error.get('reason', '')))}"
    elif not body:
        said = "no reason given"
    else:
        return None
    return f"OpenSearch refuses flowstatus's user access to the state index (403 {said}); see {GUIDE}"
