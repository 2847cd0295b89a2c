"""Request bodies: read whole within the limits, or refused whole before anything is done with them.

Every route that takes a body reads it through :func:`read_body`:

* the size limit is checked on the bytes actually received, with or without
  ``Content-Length`` (a chunked body one byte over the limit is a 413, never
  a body cut at the limit);
* broken framing (a chunk size that is not hex, a missing last chunk, a
  connection closed before ``Content-Length`` bytes arrived) is a 400 in
  OpenSearch's error shape, never a 500;
* the whole body must arrive within ``timeout`` seconds (408), and one client
  address may be reading at most ``per_client`` bodies at once in this process
  (503 with ``Retry-After``), so that slow bodies cannot hold the server;
* a connection whose request body was not read whole (a refusal, or a route
  that ignores bodies) is closed after the answer rather than drained (see
  :mod:`flowstatus.api.framing` and :mod:`flowstatus.server.connections`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, BinaryIO

from flask import request

from flowstatus.api.components import components
from flowstatus.api.errors import ApiError, OpenSearchError, PluginError
from flowstatus.api.framing import BODY_READ, is_chunked

CHUNK = 64 * 1024


class BodyTooLarge(PluginError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body is larger than the limit of {limit} bytes")


class MalformedBody(OpenSearchError):
    def __init__(self, reason: str) -> None:
        super().__init__(400, "parse_exception", reason)


class BodyTimeout(OpenSearchError):
    def __init__(self, seconds: float) -> None:
        super().__init__(408, "timeout_exception", f"The request body did not arrive within {seconds:g} s")


class TooManyBodies(PluginError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(503, "Too many request bodies in progress from this address, retry later",
                         {"Retry-After": str(retry_after)})


class _Readers:
    """How many bodies each client address is sending right now (this process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count: Counter[str] = Counter()

    @contextmanager
    def slot(self, peer: str, limit: int, retry_after: int) -> Iterator[None]:
        with self._lock:
            if limit and self._count[peer] >= limit:
                raise TooManyBodies(retry_after)
            self._count[peer] += 1
        try:
            yield
        finally:
            with self._lock:
                self._count[peer] -= 1
                if not self._count[peer]:
                    del self._count[peer]


READERS = _Readers()


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`BodyTimeout` if the block takes longer than ``seconds``.

    Under gevent (how ``flowstatus serve`` runs) the read is interrupted at
    the deadline; elsewhere (threaded test servers) the server's own socket
    timeouts bound it and the deadline is checked between reads.
    """
    try:
        from gevent import Timeout
        from gevent.monkey import is_module_patched
    except ImportError:  # pragma: no cover - gevent is a dependency
        is_module_patched = None
    if is_module_patched is not None and is_module_patched("socket"):
        timeout = Timeout(seconds, BodyTimeout(seconds))
        timeout.start()
        try:
            yield
        finally:
            timeout.cancel()
        return
    yield


def _content_length(environ: Mapping[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise MalformedBody(f"Content-Length [{raw}] is not a number of bytes")
    return int(raw)


def _read(stream: BinaryIO, want: int) -> bytes:
    """Up to ``want`` bytes; framing errors of any server become :class:`MalformedBody`."""
    try:
        return stream.read(want)
    except ApiError:
        raise
    except Exception as exc:  # noqa: BLE001 - every server reports broken framing its own way
        raise MalformedBody(f"the request body is not well framed: {exc.__class__.__name__}") from None


def read_body(environ: MutableMapping[str, Any], *, limit: int, timeout: float, per_client: int,
              retry_after: int) -> bytes:
    """The whole request body of ``environ`` (a WSGI environ), or an :class:`ApiError` saying why not.

    Raises :class:`BodyTooLarge` (413), :class:`MalformedBody` (400),
    :class:`BodyTimeout` (408) or :class:`TooManyBodies` (503).
    """
    length = _content_length(environ)
    if length is not None and length > limit:
        raise BodyTooLarge(limit)
    chunked = length is None and is_chunked(environ)
    if length is None and not chunked:
        environ[BODY_READ] = True  # HTTP/1.1: no Content-Length and no chunked framing means no body
        return b""
    stream = environ["wsgi.input"]
    peer = str(environ.get("REMOTE_ADDR") or "")
    parts: list[bytes] = []
    received = 0
    with READERS.slot(peer, per_client, retry_after), _deadline(timeout):
        while length is None or received < length:
            want = CHUNK if length is None else min(CHUNK, length - received)
            part = _read(stream, want)
            if not part:
                if length is not None:
                    raise MalformedBody(f"the body ended after {received} of {length} bytes")
                break
            received += len(part)
            if received > limit:
                raise BodyTooLarge(limit)
            parts.append(part)
    environ[BODY_READ] = True
    return b"".join(parts)


def request_body() -> bytes:
    """The current request's body, read under the configured limits (see :func:`read_body`)."""
    settings = components().settings
    return read_body(request.environ, limit=settings.max_bulk_bytes, timeout=settings.body_timeout,
                     per_client=settings.max_bodies_per_client, retry_after=settings.retry_after)
