"""A pass-through HTTP proxy in front of a real OpenSearch node that records every request.

Tests count what flowstatus asks OpenSearch (``searches``), read the headers
it sends, and take the node away (:meth:`RecordingProxy.stop`) and bring it
back on the same port (:meth:`RecordingProxy.start`) to play an outage.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

REFUSAL = (b'{"error":{"root_cause":[{"type":"security_exception","reason":"no permissions for '
           b'[indices:data/read/get] and User [name=flowstatus]"}],"type":"security_exception","reason":'
           b'"no permissions for [indices:data/read/get] and User [name=flowstatus]"},"status":403}')


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class RecordingProxy:
    """Forwards to ``target`` (an OpenSearch URL) from a free loopback port; a context manager."""

    def __init__(self, target: str, refuse: Callable[[str, str], bool] = lambda method, path: False) -> None:
        """``refuse(method, path)``: answer that request 403 ``security_exception`` as the security plugin would."""
        self.target = urllib.parse.urlsplit(target)
        self.refuse = refuse
        self.seen: list[Seen] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def searches(self) -> int:
        """How many ``_search`` requests went through."""
        return sum(1 for s in self.seen if urllib.parse.urlsplit(s.path).path.endswith("/_search"))

    def start(self) -> Self:
        """Listen (again, on the same port once it had one) and forward."""
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self.port = server.server_port
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open connections: new ones are refused, as by a node that is down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=10)
            self._server = None
        for connection in list(self._connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client
        self._connections.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                proxy._connections.add(self.connection)

            def finish(self) -> None:
                proxy._connections.discard(self.connection)
                super().finish()

            def _forward(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                proxy.seen.append(Seen(self.command, self.path, headers))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.refuse(self.command, self.path):
                    self._answer(403, REFUSAL)
                    return
                target = proxy.target
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                upstream.request(self.command, self.path, body=body or None, headers=dict(self.headers))
                reply = upstream.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            def _answer(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _forward

            def log_message(self, *args: object) -> None:
                pass

        return Forward
