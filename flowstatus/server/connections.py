"""Closing a connection whose request body the app did not read, instead of draining it.

gunicorn keeps a connection alive by reading whatever is left of the
previous request's body, at the client's pace and without a bound.  After a
refusal (413 over the limit, 400 broken framing, 408 too slow, 503 too many
bodies, 401 before any byte of the body was read) that would let one client
hold a worker's connection for as long as it likes, or make the server read
a gigabyte it has just refused.  So when the app did not read the body to its
end, the connection is closed after the answer: the answer is written, the
write side is shut (the client sees the end of the answer at once), what is
already on its way is read for a moment and thrown away (so the close does
not reset the connection under the answer), and the socket is closed.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flowstatus.api.framing import has_unread_body

LINGER_SECONDS = 1.0
LINGER_BYTES = 1024 * 1024

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _linger(sock: socket.socket) -> None:
    """Shut the write side, then discard incoming bytes for a bounded time, so closing sends no reset."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        drained = 0
        while drained < LINGER_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            data = sock.recv(64 * 1024)
            if not data:
                break
            drained += len(data)
    except OSError:
        pass


class _Answer:
    """The app's answer, with a close() that lingers after it has been written."""

    def __init__(self, body: Iterable[bytes], sock: socket.socket) -> None:
        self._body = body
        self._sock = sock

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()
        _linger(self._sock)


def close_unread_bodies(app: WsgiApp) -> WsgiApp:
    """Wrap ``app`` so that gunicorn closes (with a short linger) connections whose body was not read."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = app(environ, start_response)
        if not has_unread_body(environ):
            return body
        response = getattr(start_response, "__self__", None)  # gunicorn's Response
        sock = environ.get("gunicorn.socket")
        if response is None or not hasattr(response, "force_close") or sock is None:
            return body
        response.force_close()
        return _Answer(body, sock)

    return wsgi
