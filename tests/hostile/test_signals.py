"""Operators' signals to a real ``flowstatus serve``: every exit path of a worker leaves shared state alone."""

from __future__ import annotations

import os
import signal
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Served
from tests.hostile.conftest import READER, ServerFactory

STATUS = "/_plugins/_flow_framework/workflow/{}/_status"


def workers(server: Served) -> set[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def get(server: Served, path: str) -> tuple[int, bytes]:
    req = urllib.request.Request(server.url + path, headers=READER)
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def assert_serving(server: Served, rounds: int = 12) -> None:
    """Every worker answers a status read and the metrics (connections spread over the workers)."""
    for _ in range(rounds):
        status, _ = get(server, STATUS.format(f"absent-{uuid.uuid4().hex[:6]}"))
        assert status == 404
        status, body = get(server, "/metrics")
        assert status == 200 and b"flowstatus_http_requests_total" in body, body[:300]
    assert server.process.poll() is None, "the server stopped"


@pytest.fixture
def server(hostile_server: ServerFactory) -> Served:
    with hostile_server("--worker-timeout", "2") as started:
        wait_for(lambda: len(workers(started)) == 2, "two workers")
        assert_serving(started)
        yield started


def _replaced(server: Served, before: set[int]) -> Callable[[], bool]:
    return lambda: len(workers(server)) == 2 and not (workers(server) & before)


def test_sighup_restarts_every_worker_and_nothing_breaks(server: Served) -> None:
    before = workers(server)
    os.kill(server.process.pid, signal.SIGHUP)
    wait_for(_replaced(server, before), "new workers after SIGHUP")
    assert_serving(server)


def test_ttin_and_ttou_add_and_remove_a_worker(server: Served) -> None:
    os.kill(server.process.pid, signal.SIGTTIN)
    wait_for(lambda: len(workers(server)) == 3, "a third worker")
    assert_serving(server)
    os.kill(server.process.pid, signal.SIGTTOU)
    wait_for(lambda: len(workers(server)) == 2, "back to two workers")
    assert_serving(server)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["graceful-exit", "killed"])
def test_a_worker_that_exits_is_replaced_and_nothing_breaks(server: Served, how: signal.Signals) -> None:
    victim = min(workers(server))
    os.kill(victim, how)
    wait_for(lambda: victim not in workers(server) and len(workers(server)) == 2, "a replacement worker")
    assert_serving(server)


def test_a_hung_worker_is_killed_at_the_timeout_and_nothing_breaks(server: Served) -> None:
    victim = min(workers(server))
    os.kill(victim, signal.SIGSTOP)  # no heartbeat: the master kills it after --worker-timeout
    try:
        wait_for(lambda: victim not in workers(server) and len(workers(server)) == 2, "the hung worker replaced")
    finally:
        if victim in workers(server):
            os.kill(victim, signal.SIGCONT)
    assert_serving(server)
