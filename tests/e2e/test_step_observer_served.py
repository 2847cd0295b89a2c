"""The step observer in the real ``flowstatus serve``: every worker runs its loop, one of them observes."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

from tests.conftest import new_id
from tests.e2e.conftest import serving
from tests.e2e.test_long_poll_capacity import worker_pids


def _post(url: str, *events: dict[str, Any]) -> None:
    body = "".join(json.dumps(e) + "\n" for e in events).encode()
    request = urllib.request.Request(url + "/_flowstatus/_bulk", data=body, method="POST",
                                     headers={"Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200 and not json.loads(answer.read())["errors"]


def _steps(url: str, workflow_id: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_flowstatus/workflow/{workflow_id}/_steps", timeout=30) as answer:
        body: dict[str, Any] = json.loads(answer.read())
    return body


def test_one_worker_of_the_server_observes_and_the_step_end_is_first_seen(
        opensearch_url: str, unique_index: str, raw: OpenSearch, tmp_path: Path) -> None:
    env = {"FLOWSTATUS_STEP_OBSERVER_INTERVAL": "0.2", "FLOWSTATUS_REFRESH": "true"}
    with serving(opensearch_url, unique_index, tmp_path / "serve.log", "--workers", "2", env=env) as server:
        wid = new_id()
        _post(server.url, {"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid})
        time.sleep(1.0)  # a few looks without the resource
        _post(server.url, {"event": "resource_created", "workflow_id": wid, "workflow_step_name": "create_index",
                           "workflow_step_id": "index_1", "resource_id": "docs"})
        deadline = time.monotonic() + 20
        while True:
            (step,) = _steps(server.url, wid)["steps"]
            if step["end"]["basis"] == "first_seen" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert step["state"] == "completed" and step["end"]["basis"] == "first_seen", step
        assert step["end"]["latest"] - step["end"]["earliest"] <= 2000  # within about one look
        lease = raw.get(index=f"{unique_index}-flowstatus-steps", id="observer/lease")["_source"]["lease"]
        holder_pid = int(lease["holder"].split(":")[1])
        assert holder_pid in worker_pids(server.process.pid), (lease, worker_pids(server.process.pid))


def test_a_stopped_server_gives_up_the_lease_at_once(
        opensearch_url: str, unique_index: str, raw: OpenSearch, tmp_path: Path) -> None:
    """Another process observes as soon as the holder stops, not after the lease's lifetime."""
    lease_of = {"index": f"{unique_index}-flowstatus-steps", "id": "observer/lease"}
    with serving(opensearch_url, unique_index, tmp_path / "serve.log", "--workers", "1",
                 env={"FLOWSTATUS_STEP_OBSERVER_INTERVAL": "0.2"}):
        deadline = time.monotonic() + 20
        while not raw.get(**lease_of, ignore=404).get("found"):
            assert time.monotonic() < deadline, "the worker never took the lease"
            time.sleep(0.1)
        held = raw.get(**lease_of)["_source"]["lease"]
        assert held["expires"] > time.time() * 1000 + 5000, held  # a lease lives at least 10 s
    stopped = time.time() * 1000
    released = raw.get(**lease_of)["_source"]["lease"]
    assert released["holder"] == held["holder"] and released["expires"] <= stopped, (held, released)
