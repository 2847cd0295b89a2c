"""Hundreds of long polls do not take a worker each (gevent workers)."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path

from tests.conftest import new_id
from tests.e2e.conftest import serving
from tests.e2e.test_watch import ingest

WAITERS = 200


def os_threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def test_two_hundred_long_polls_on_one_worker(opensearch_url: str, unique_index: str, tmp_path: Path) -> None:
    with serving(opensearch_url, unique_index, tmp_path / "serve.log", "--workers", "1") as server:
        wid, other = new_id(), new_id()
        ingest(server, {"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid},
               {"event": "create", "workflow_id": other})
        url = f"{server.url}/_plugins/_flow_framework/workflow/{wid}/_status?wait_for_completion_timeout=60s"
        answers: list[dict] = []

        def poll() -> None:
            with urllib.request.urlopen(url, timeout=90) as response:
                answers.append(json.loads(response.read()))

        pollers = [threading.Thread(target=poll, daemon=True) for _ in range(WAITERS)]
        for t in pollers:
            t.start()
        metrics_url = f"{server.url}/metrics"
        waiting = 0.0
        for _ in range(200):
            with urllib.request.urlopen(metrics_url, timeout=10) as response:
                text = response.read().decode()
            waiting = sum(float(line.split()[-1]) for line in text.splitlines()
                          if line.startswith("flowstatus_long_poll_waiters"))
            if waiting >= WAITERS:
                break
            threading.Event().wait(0.1)
        assert waiting == WAITERS, f"only {waiting} long polls were waiting"
        # The worker still answers other requests at once...
        with urllib.request.urlopen(f"{server.url}/_plugins/_flow_framework/workflow/{other}/_status",
                                    timeout=10) as response:
            assert json.loads(response.read())["state"] == "NOT_STARTED"
        # ...and holds the waiters on a handful of OS threads, not one each.
        (worker,) = worker_pids(server.process.pid)
        threads = os_threads(worker)
        print(f"\n{WAITERS} long polls waiting on one gevent worker with {threads} OS threads")
        assert threads < 20
        ingest(server, {"event": "provision_completed", "workflow_id": wid})
        for t in pollers:
            t.join(60)
        assert len(answers) == WAITERS and all(a["state"] == "COMPLETED" for a in answers)
