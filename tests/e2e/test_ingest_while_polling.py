"""End to end: events streamed through ``flowstatus ingest`` while a client polls ``flowstatus serve``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

from opensearchpy import OpenSearch

from flowstatus.schemas.state import STATE_KEYS
from tests.conftest import new_id
from tests.e2e.conftest import Served
from tests.integration.test_status_api import DOC_PAGE_SHOWN, contains

CONNECTOR = {"workflow_step_name": "create_connector", "workflow_step_id": "create_connector_1",
             "resource_id": "NdjCQYwBLmvn802B0IwE"}
MODEL = {"workflow_step_name": "register_remote_model", "workflow_step_id": "register_model_2",
         "resource_id": "N9jCQYwBLmvn802B0oyh"}


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def poll_until_changed(url: str, last: dict | None, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = get(url)
        if status == 200 and body != last:
            return body
        time.sleep(0.05)
    raise AssertionError(f"status did not change from {last}")


def test_a_poller_sees_the_documentation_pages_three_moments(served: Served, opensearch_url: str) -> None:
    wid = "8xL8bowB8y25Tqfenm50-" + new_id()
    status_url = f"{served.url}/_plugins/_flow_framework/workflow/{wid}/_status"
    events = [
        {"event": "create", "workflow_id": wid},
        {"event": "provision_started", "workflow_id": wid},
        {"event": "resource_created", "workflow_id": wid, **CONNECTOR},
        {"event": "resource_created", "workflow_id": wid, **MODEL},
        {"event": "provision_completed", "workflow_id": wid},
    ]
    ingest = subprocess.Popen([sys.executable, "-m", "flowstatus", "ingest", "-"], env=served.env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[dict] = []
    try:
        assert ingest.stdin is not None
        for event in events:
            ingest.stdin.write(json.dumps(event) + "\n")
            ingest.stdin.flush()
            seen.append(poll_until_changed(status_url, seen[-1] if seen else None))
        output = ingest.communicate(timeout=60)[0]
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.communicate()
    assert ingest.returncode == 0, output
    assert "5 events" in output and "0 rejected" in output

    states = [(body["state"], len(body.get("resources_created", []))) for body in seen]
    assert states == [("NOT_STARTED", 0), ("PROVISIONING", 0), ("PROVISIONING", 1), ("PROVISIONING", 2), ("COMPLETED", 2)]
    expect = {k: {**v, "workflow_id": wid} for k, v in DOC_PAGE_SHOWN.items()}
    assert contains(seen[0], expect["before"])
    assert contains(seen[2], expect["during"])
    assert contains(seen[4], expect["after"])

    # What was written is the plugin's own format.
    source = OpenSearch([opensearch_url]).get(index=served.env["FLOWSTATUS_STATE_INDEX"], id=wid)["_source"]
    assert set(source) <= set(STATE_KEYS)
    assert source["resources_created"][1] == {**MODEL, "resource_type": "model_id"}


def test_serve_prints_its_url_and_a_curl_line(served: Served) -> None:
    status, body = get(f"{served.url}/_plugins/_flow_framework/workflow/{new_id()}/_status")
    assert status == 404 and "error" in body
    output = served.output()
    assert f"flowstatus is serving on {served.url}" in output
    assert "curl -s '" + served.url in output


def test_ingest_reports_rejected_line_numbers(served: Served) -> None:
    wid = new_id()
    lines = [json.dumps({"event": "create", "workflow_id": wid}), "not json",
             json.dumps({"event": "provision_completed", "workflow_id": wid}), ""]
    result = subprocess.run([sys.executable, "-m", "flowstatus", "ingest", "-"], env=served.env,
                            input="\n".join(lines), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "rejected lines: 2, 3" in result.stderr
    assert "line 3: 409" in result.stderr
