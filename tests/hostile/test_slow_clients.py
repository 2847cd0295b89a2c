"""Clients that hold connections: slow bodies cannot stall everyone; pipelined requests are answered in order."""

from __future__ import annotations

import json
import resource
import socket
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from tests.hostile.conftest import READER, WRITER, ServerFactory
from tests.hostile.raw import Reader, connect, request

SLOW = 2000          # slow-body connections held by one client address
PER_CLIENT = 16      # FLOWSTATUS_MAX_BODIES_PER_CLIENT of the server
WORKERS = 2
STATUS = "/_plugins/_flow_framework/workflow/{}/_status"


@pytest.fixture
def many_files() -> Iterator[None]:
    """Room for a few thousand sockets in this process and the server it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = SLOW * 2 + 1024
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.fail(f"this test needs {wanted} open files; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    req = urllib.request.Request(url, headers=READER)
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, time.monotonic() - started
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, time.monotonic() - started


def test_slow_bodies_from_one_address_do_not_stall_other_clients(hostile_server: ServerFactory,
                                                                 many_files: None) -> None:
    with hostile_server(FLOWSTATUS_BODY_TIMEOUT="60", FLOWSTATUS_MAX_BODIES_PER_CLIENT=str(PER_CLIENT)) as server:
        head = request("POST", "/_flowstatus/_bulk", {**WRITER, "Content-Type": "application/x-ndjson",
                                                      "Content-Length": "100000"})
        attackers: list[socket.socket] = []
        stop = threading.Event()

        def trickle() -> None:  # a byte now and then on every connection still open
            while not stop.wait(1.0):
                for sock in attackers:
                    try:
                        sock.send(b" ")
                    except OSError:
                        pass

        trickler = threading.Thread(target=trickle, daemon=True)
        try:
            for _ in range(SLOW):
                sock = connect(server.url, source="127.0.0.2", timeout=10)
                sock.sendall(head + b"{")
                attackers.append(sock)
            trickler.start()
            time.sleep(2)  # let the server take every connection in
            timings = [_timed_get(server.url + STATUS.format(f"victim-{i}")) for i in range(20)]
            assert all(status == 404 for status, _ in timings), timings
            took = sorted(t for _, t in timings)
            # Stalled, a read waits for its 10 s timeout; served, milliseconds (bounds leave room for a busy CI).
            assert took[len(took) // 2] < 1.0 and took[-1] < 5.0, f"status reads took {took} s while {SLOW} " \
                                                                 "slow bodies were held"

            refused = 0
            for sock in attackers:
                sock.settimeout(0.05)
                try:
                    data = sock.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    refused += 1
                    continue
                if data.startswith(b"HTTP/1.1 503"):
                    refused += 1
            held = SLOW - refused
            assert held <= WORKERS * PER_CLIENT, f"one address holds {held} request bodies"
        finally:
            stop.set()
            for sock in attackers:
                sock.close()


def test_pipelined_requests_are_answered_in_order(hostile_server: ServerFactory) -> None:
    with hostile_server() as server:
        ids = [f"pipelined-{uuid.uuid4().hex[:6]}-{i}" for i in range(4)]
        # The first without credentials (401), then three that may read.
        wire = b"".join(request("GET", STATUS.format(wid), READER if i else None) for i, wid in enumerate(ids))
        with connect(server.url) as sock:
            sock.sendall(wire)
            reader = Reader(sock)
            answers = [reader.answer() for _ in ids]
    assert [a.status for a in answers] == [401, 404, 404, 404]
    assert [json.loads(a.body)["error"] for a in answers[1:]] == [f"Fail to find workflow status of {w}"
                                                                  for w in ids[1:]]


def test_pipelined_requests_after_a_body_are_answered_in_order(hostile_server: ServerFactory) -> None:
    with hostile_server() as server:
        wid = f"pipelined-{uuid.uuid4().hex[:8]}"
        event = json.dumps({"event": "create", "workflow_id": wid}).encode() + b"\n"
        wire = (request("POST", "/_flowstatus/_bulk", {**WRITER, "Content-Type": "application/x-ndjson"}, event)
                + request("GET", STATUS.format(wid), READER))
        with connect(server.url) as sock:
            sock.sendall(wire)
            reader = Reader(sock)
            first, second = reader.answer(), reader.answer()
    assert first.status == 200 and json.loads(first.body)["errors"] is False
    assert second.status == 200 and json.loads(second.body)["state"] == "NOT_STARTED"
