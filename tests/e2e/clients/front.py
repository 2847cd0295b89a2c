"""A TCP front for the end-to-end tests: a TLS terminator, and a backend that can go away.

It listens on 127.0.0.1 and forwards each connection to a backend port, as a
load balancer does: with an ``ssl.SSLContext`` it terminates TLS; with no
backend (``backend = None``) it closes each connection at once; :meth:`cut`
also breaks the connections in progress.  Test code only.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

from devtools.opensearch.pki import Pki


class Front:
    def __init__(self, backend: int | None, tls: ssl.SSLContext | None = None) -> None:
        self.backend = backend
        self.tls = tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="front-accept").start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """No backend from now on, and every connection in progress broken."""
        self.backend = None
        with self._lock:
            broken, self._open = self._open, set()
        for sock in broken:
            _close(sock)

    def close(self) -> None:
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True, name="front-conn").start()

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            backend = self.backend
            if self.tls is not None:
                client.settimeout(10)
                client = self.tls.wrap_socket(client, server_side=True)
                client.settimeout(None)
            if backend is None:
                return
            upstream = socket.create_connection(("127.0.0.1", backend), timeout=10)
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            pump = threading.Thread(target=_pump, args=(upstream, client), daemon=True, name="front-pump")
            pump.start()
            _pump(client, upstream)
            pump.join(timeout=30)
        except (OSError, ValueError):
            pass  # a refused handshake, a backend that is down: the client sees the connection close
        finally:
            with self._lock:
                self._open.discard(client)
                if upstream is not None:
                    self._open.discard(upstream)
            _close(client)
            if upstream is not None:
                _close(upstream)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy until either side ends, then end both (HTTP/1.1 needs no half-close here)."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except (OSError, ValueError):
        pass
    _close(source)
    _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # wakes a thread blocked reading it
    with contextlib.suppress(OSError, ValueError):
        sock.close()


@contextlib.contextmanager
def fronting(backend: int | None, tls: ssl.SSLContext | None = None) -> Iterator[Front]:
    front = Front(backend, tls)
    try:
        yield front
    finally:
        front.close()


def make_tls(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A fresh test CA (its PEM file) and a server TLS context with a certificate it signed for 127.0.0.1."""
    pki = Pki(folder)
    files = pki.issue("flowstatus", server=True, unit="servers")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    return pki.ca_path, context
