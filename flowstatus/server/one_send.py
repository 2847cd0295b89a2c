"""gunicorn responses whose head leaves with the first body bytes, in one send.

gunicorn writes a response's head and then each body chunk with a system
call of its own.  flowstatus mostly answers small JSON bodies, where the
second send costs about as much as the first, and the client reads two TCP
segments.  :class:`OneSendResponse` holds the head back until the first
body bytes (or the end of the response) and sends both together; nothing
else about the response changes.
"""

from __future__ import annotations

from typing import Any

from gunicorn.http import wsgi


class _HeadHolder:
    """A response's socket on which the head waits for what follows it."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._head: bytes | None = None
        self.holding = False

    def sendall(self, data: bytes) -> None:
        if self.holding:  # the head, from send_headers
            self.holding, self._head = False, bytes(data)
            return
        if self._head is not None:
            data, self._head = self._head + data, None
        self._sock.sendall(data)

    def release(self) -> None:
        """Send a head still held (a response without body bytes)."""
        if self._head is not None:
            head, self._head = self._head, None
            self._sock.sendall(head)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class OneSendResponse(wsgi.Response):  # type: ignore[misc]
    """gunicorn's response, writing its head with its first body bytes."""

    def __init__(self, req: Any, sock: Any, cfg: Any) -> None:
        super().__init__(req, _HeadHolder(sock), cfg)

    def send_headers(self) -> None:
        if not self.headers_sent:
            self.sock.holding = True
        super().send_headers()

    def sendfile(self, respiter: Any) -> Any:
        self.send_headers()
        self.sock.release()  # the file goes straight from the kernel: the head must be out first
        return super().sendfile(respiter)

    def close(self) -> None:
        super().close()
        self.sock.release()


def install() -> None:
    """Make the workers of this process build :class:`OneSendResponse` (gunicorn creates responses by
    this module-level name)."""
    wsgi.Response = OneSendResponse
