"""A raw HTTP/1.1 client for what ordinary clients cannot send: chunked and broken bodies, slow bodies,
pipelined requests, many connections from chosen loopback addresses."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def connect(url: str, source: str = "127.0.0.1", timeout: float = 10.0) -> socket.socket:
    """A connection to ``url`` from the loopback address ``source`` (127.0.0.0/8 all reach loopback)."""
    sock = socket.create_connection(address(url), timeout=timeout, source_address=(source, 0))
    return sock


def request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> bytes:
    """One request's bytes; a ``Content-Length`` is added for ``body`` unless a framing header is given."""
    head = {"Host": "127.0.0.1", **(headers or {})}
    if body is not None and "Transfer-Encoding" not in head and "Content-Length" not in head:
        head["Content-Length"] = str(len(body))
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in head.items()), "", ""]
    return "\r\n".join(lines).encode() + (body or b"")


def chunked(data: bytes, size: int = 4096) -> bytes:
    """``data`` in chunked framing, with its terminating chunk."""
    out = [b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size]) for i in range(0, len(data), size)]
    return b"".join(out) + b"0\r\n\r\n"


class Reader:
    """Reads answers off one connection, in order."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def answer(self) -> Answer:
        """The next whole answer; raises ``ConnectionError`` if the connection ends before one."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError(f"connection closed before an answer: {self.buffer[:200]!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                raise ConnectionError("connection closed inside an answer")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Answer(int(status_line.split()[1]), headers, body)

    def closed(self, within: float = 5.0) -> bool:
        """Whether the server closes the connection (EOF, or a reset) within ``within`` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if not self.sock.recv(65536):
                    return True
            except (ConnectionResetError, BrokenPipeError):
                return True
            except TimeoutError:
                return False
        return False


def exchange(url: str, data: bytes, *, source: str = "127.0.0.1", timeout: float = 10.0) -> Answer:
    """Send ``data`` on a new connection and read one answer."""
    with connect(url, source, timeout) as sock:
        sock.sendall(data)
        return Reader(sock).answer()
