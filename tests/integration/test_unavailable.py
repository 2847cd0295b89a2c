"""OpenSearch unreachable or hanging: 503 with Retry-After, never a 500 or a hung request."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator

import orjson
import pytest
from opensearchpy import OpenSearch

from flowstatus.app import create_app
from flowstatus.repository.opensearch_client import build_client
from flowstatus.settings import Settings
from tests.conftest import new_id

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


def test_a_stopped_node_among_live_ones_fails_no_write(settings: Settings) -> None:
    """A refused connection carried nothing, so the write goes to the next node instead of answering 503."""
    hosts = (f"http://127.0.0.1:{closed_port()}", *settings.opensearch_hosts)
    client = create_app(dataclasses.replace(settings, opensearch_hosts=hosts)).test_client()
    for _ in range(4):  # writes take the nodes in turn: the stopped one comes up within two
        workflow_id = new_id("refused")
        response = client.post("/_flowstatus/_bulk", data=orjson.dumps({"event": "create", "workflow_id": workflow_id}),
                               content_type="application/x-ndjson")
        assert response.status_code == 200 and not response.get_json()["errors"], response.get_data(as_text=True)
        assert client.get(STATUS.replace("abc", workflow_id)).status_code == 200


def test_the_write_client_sends_a_refused_request_to_the_next_node(settings: Settings, raw: OpenSearch,
                                                                   unique_index: str) -> None:
    """The write client never retries what may have been applied, but a refused connection carried nothing."""
    raw.indices.create(index=unique_index, body={"settings": {"index": {"hidden": True}}})
    hosts = (f"http://127.0.0.1:{closed_port()}", *settings.opensearch_hosts)
    writes = build_client(dataclasses.replace(settings, opensearch_hosts=hosts), for_writes=True)
    try:
        for n in range(2):  # the nodes are taken in turn: one of the two writes is sent to the stopped node first
            assert writes.index(index=unique_index, id=str(n), body={"n": n}, refresh=True)["result"] == "created"
    finally:
        writes.close()
    assert raw.count(index=unique_index)["count"] == 2
