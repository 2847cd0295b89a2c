"""A lean HTTP/1.1 connection for opensearch-py: sockets, keep-alive and the httptools parser.

opensearch-py's transport keeps doing what it is good at (choosing a node,
retrying a read on the others, taking a failing node out of rotation,
(de)serialising); this class only replaces its urllib3 connection, whose
request and response handling (http.client's header parsing above all) cost
about 180 µs of CPU per call against about 50 µs here, measured on a 2-core
machine.  Status reads are the hot path, so that difference is a large part
of what a read costs (see docs/benchmarks.md).

Behaviour kept from opensearch-py's urllib3 connection: TLS through the
given ``ssl_context`` (built by :func:`~flowstatus.repository.opensearch_credentials.tls_context`), HTTP Basic
credentials, the same exceptions (``ConnectionError``, ``ConnectionTimeout``,
``SSLError``, ``TransportError`` subclasses by status), ``ignore``, and
warnings from ``Warning`` headers.  A request on a kept-alive socket that the
server had closed is sent again on a new socket, but only when it is a read
(GET, HEAD, or a POST to ``_mget``, ``_search`` or ``_count``): a write whose
outcome is unknown is never repeated here.
"""

from __future__ import annotations

import base64
import socket
import ssl
import threading
import weakref
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlencode

import httptools
from opensearchpy.connection.base import Connection
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import ConnectionTimeout, SSLError

READ_SUFFIXES = ("/_mget", "/_search", "/_count")
# What OpenSearch says, in a Warning header, on every request to a registered
# system index; the plugin registers its state index as one.
SYSTEM_INDEX_WARNING = "this request accesses system indices"
RECV_BYTES = 256 * 1024


class NotSent(OpenSearchConnectionError):  # type: ignore[misc]
    """The node refused the connection: no byte of the request reached OpenSearch, so another node may take it."""


class _Response:
    """Collects one response from the parser's callbacks (``head``: the answer to a HEAD has no body)."""

    __slots__ = ("body", "complete", "head", "headers", "keep_alive", "parser", "warnings")

    def __init__(self, head: bool) -> None:
        self.headers: dict[str, str] = {}
        self.warnings: list[str] = []
        self.body: list[bytes] = []
        self.complete = False
        self.head = head
        self.keep_alive = False
        self.parser = httptools.HttpResponseParser(self)

    def on_headers_complete(self) -> None:
        # Asked here: once the message is complete the parser has moved on.
        self.keep_alive = self.parser.should_keep_alive()
        if self.head:
            self.complete = True

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        if key == "warning":
            self.warnings.append(text)
        self.headers[key] = f"{self.headers[key]},{text}" if key in self.headers else text

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_message_complete(self) -> None:
        self.complete = True


_Answer = tuple[int, dict[str, str], bytes, list[str]]  # status, headers, body, Warning header values


class StaleConnection(Exception):
    """A kept-alive socket turned out to be closed before any answer arrived."""


class LeanConnection(Connection):  # type: ignore[misc]
    """One OpenSearch node, reached over a small pool of kept-alive sockets."""

    def __init__(
        self,
        host: str = "localhost",
        port: int | None = None,
        http_auth: Any = None,
        use_ssl: bool = False,
        pool_maxsize: int | None = None,
        headers: dict[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(host=host, port=port, use_ssl=use_ssl, headers=headers, **kwargs)
        if http_auth is not None:
            pair = ":".join(http_auth) if isinstance(http_auth, (tuple, list)) else str(http_auth)
            self.headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        self.headers["connection"] = "keep-alive"
        if self.use_ssl and ssl_context is None:
            # One place builds TLS for OpenSearch (trust, client certificate, checks):
            # flowstatus.repository.opensearch_credentials.tls_context, which build_client passes.
            raise ValueError("an https node needs the ssl_context of opensearch_credentials.tls_context")
        self._context = ssl_context if self.use_ssl else None
        self._idle: list[socket.socket] = []
        self._max_idle = pool_maxsize or 10
        self._lock = threading.Lock()
        # Close the kept sockets when the connection is dropped, as urllib3's pools do.
        weakref.finalize(self, _close_all, self._idle)

    @property
    def pool_size(self) -> int:
        """How many idle sockets are kept for reuse (more may be open at once; the rest are closed after use)."""
        return self._max_idle

    # -- sockets ---------------------------------------------------------------

    def _connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection((self.hostname, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._context is not None:
            sock = self._context.wrap_socket(sock, server_hostname=self.hostname)
        return sock

    def _take(self) -> socket.socket | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give_back(self, sock: socket.socket) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(sock)
                return
        sock.close()

    def close(self) -> None:
        with self._lock:
            _close_all(self._idle)

    # -- requests --------------------------------------------------------------

    def perform_request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        timeout: float | None = None,
        ignore: Collection[int] = (),
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        path = self.url_prefix + url + (f"?{urlencode(params)}" if params else "")
        wire = self._request_bytes(method, path, body, headers)
        wait = timeout or self.timeout
        try:
            response = self._exchange(wire, wait, head=method == "HEAD", retry_stale=_is_read(method, url))
        except StaleConnection as exc:
            raise OpenSearchConnectionError("N/A", str(exc), exc) from None
        except ssl.SSLError as exc:
            raise SSLError("N/A", str(exc), exc) from None
        except TimeoutError as exc:
            raise ConnectionTimeout("TIMEOUT", str(exc), exc) from None
        except ConnectionRefusedError as exc:  # only connect() is refused; a sent request is reset instead
            raise NotSent("N/A", str(exc), exc) from None
        except OSError as exc:
            raise OpenSearchConnectionError("N/A", str(exc), exc) from None
        status, found, data, warnings = response
        if warnings:
            self._raise_warnings(warnings)
        if not 200 <= status < 300 and status not in ignore:
            self.log_request_fail(method, self.host + path, path, body, 0.0, status, data.decode(errors="replace"))
            self._raise_error(status, data.decode("utf-8", "surrogatepass"), found.get("content-type"))
        return status, found, data

    def _raise_warnings(self, warning_headers: Any) -> None:
        """Pass on OpenSearch's warnings, except the one about accessing system indices.

        Reading and writing the plugin's state index is what flowstatus is
        for, so on a cluster that runs the plugin OpenSearch warns on every
        request: passed on, it would be printed by every process, and raised
        as an exception under ``-W error``.
        """
        others = [header for header in warning_headers or () if SYSTEM_INDEX_WARNING not in header]
        super()._raise_warnings(others)

    def _request_bytes(self, method: str, path: str, body: bytes | None, headers: Mapping[str, str] | None) -> bytes:
        merged = {**self.headers, **{k.lower(): v for k, v in (headers or {}).items()}}
        if body is not None:
            if isinstance(body, str):
                body = body.encode("utf-8")
            merged["content-length"] = str(len(body))
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.hostname}:{self.port}",
                 *(f"{k}: {v}" for k, v in merged.items()), "", ""]
        return "\r\n".join(lines).encode("latin-1") + (body or b"")

    def _exchange(self, wire: bytes, timeout: float, *, head: bool, retry_stale: bool) -> _Answer:
        sock = self._take()
        if sock is not None:
            try:
                return self._over(sock, wire, timeout, head=head, reused=True)
            except StaleConnection:
                if not retry_stale:
                    raise
        return self._over(self._connect(timeout), wire, timeout, head=head, reused=False)

    def _over(self, sock: socket.socket, wire: bytes, timeout: float, *, head: bool, reused: bool) -> _Answer:
        """Send ``wire`` on ``sock`` and read the whole answer; the socket is kept if it may be reused."""
        response = _Response(head)
        parser = response.parser
        received = False
        try:
            sock.settimeout(timeout)
            sock.sendall(wire)
            while not response.complete:
                data = sock.recv(RECV_BYTES)
                if not data:
                    if reused and not received:
                        raise StaleConnection("the kept-alive connection was closed by OpenSearch")
                    # http.client's words, which the error translation recognises (an https port answering http).
                    raise OSError("Remote end closed connection without response" if not received else
                                  "OpenSearch closed the connection before its answer was complete")
                received = True
                parser.feed_data(data)
        except (ConnectionResetError, BrokenPipeError) as exc:
            sock.close()
            if reused and not received:
                raise StaleConnection(str(exc)) from None
            raise
        except BaseException:
            sock.close()
            raise
        if response.keep_alive:
            self._give_back(sock)
        else:
            sock.close()
        return parser.get_status_code(), response.headers, b"".join(response.body), response.warnings


def _close_all(sockets: list[socket.socket]) -> None:
    while sockets:
        sockets.pop().close()


def _is_read(method: str, url: str) -> bool:
    return method in ("GET", "HEAD") or (method == "POST" and url.endswith(READ_SUFFIXES))

