"""OpenSearch unreachable or hanging: 503 with Retry-After, never a 500 or a hung request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from flowstatus.app import create_app
from flowstatus.settings import Settings

STATUS = "/_plugins/_flow_framework/workflow/abc/_status"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers (a hung node)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_unreachable_opensearch_is_503_with_retry_after() -> None:
    app = create_app(Settings(opensearch_hosts=(f"http://127.0.0.1:{closed_port()}",), retry_after=7))
    response = app.test_client().get(STATUS)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.get_json() == {"error": "OpenSearch is unavailable, retry later"}


def test_a_hanging_node_is_503_within_the_timeout(silent_server: str) -> None:
    app = create_app(Settings(opensearch_hosts=(silent_server,), request_timeout=1.0))
    started = time.monotonic()
    response = app.test_client().get(STATUS)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert elapsed < 5, f"took {elapsed:.1f}s with a 1s timeout"
