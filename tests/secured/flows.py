"""What a user of flowstatus does, through a Flask test client or a real server: record events, read
the status, search, open the status page. Each step asserts the answer a working flowstatus gives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import new_id
from tests.e2e.conftest import free_port

STATUS = "/_plugins/_flow_framework/workflow/{}/_status"
SEARCH = "/_plugins/_flow_framework/workflow/state/_search"
BULK = "/_flowstatus/_bulk"
UI = "/_flowstatus/ui"
RESOURCE = {"workflow_step_name": "create_index", "workflow_step_id": "create_index_1",
            "resource_type": "index_name", "resource_id": "index-1"}


def events(wid: str) -> bytes:
    """A workflow created, started and given one resource."""
    lines = [{"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid},
             {"event": "resource_created", "workflow_id": wid, **RESOURCE}]
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def http(base: str, method: str, path: str, body: bytes | None = None,
         content_type: str = "application/json") -> tuple[int, bytes]:
    """One request to a real flowstatus server: status and body, whatever the status."""
    request = urllib.request.Request(base + path, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _check_work(answers: dict[str, tuple[int, bytes]], wid: str) -> dict[str, Any]:
    status, body = answers["bulk"]
    bulk = json.loads(body)
    assert status == 200 and not bulk["errors"], body
    status, body = answers["status"]
    assert status == 200, body
    state = json.loads(body)
    assert (state["state"], state["provisioning_progress"]) == ("PROVISIONING", "IN_PROGRESS")
    assert state["resources_created"][0]["resource_id"] == "index-1"
    status, body = answers["search"]
    assert status == 200, body
    assert [hit["_id"] for hit in json.loads(body)["hits"]["hits"]] == [wid]
    status, body = answers["page"]
    assert status == 200 and wid.encode() in body, body[:300]
    return state


def work_through_client(client: FlaskClient, wid: str | None = None) -> dict[str, Any]:
    """Record a workflow's events and read them back every way, through the Flask test client."""
    wid = wid or new_id()
    answers = {}
    response = client.post(BULK, data=events(wid), content_type="application/x-ndjson")
    answers["bulk"] = (response.status_code, response.get_data())
    response = client.get(STATUS.format(wid) + "?all=true")
    answers["status"] = (response.status_code, response.get_data())
    response = client.post(SEARCH, json={"query": {"term": {"workflow_id": wid}}})
    answers["search"] = (response.status_code, response.get_data())
    response = client.get(f"{UI}/workflow/{wid}")
    answers["page"] = (response.status_code, response.get_data())
    return _check_work(answers, wid)


def work_through_server(base: str, wid: str | None = None) -> dict[str, Any]:
    """As :func:`work_through_client`, over HTTP to a running ``flowstatus serve``."""
    wid = wid or new_id()
    answers = {
        "bulk": http(base, "POST", BULK, events(wid), "application/x-ndjson"),
        "status": http(base, "GET", STATUS.format(wid) + "?all=true"),
        "search": http(base, "POST", SEARCH, json.dumps({"query": {"term": {"workflow_id": wid}}}).encode()),
        "page": http(base, "GET", f"{UI}/workflow/{wid}"),
    }
    return _check_work(answers, wid)


def _serve_command(port: int, *options: str) -> list[str]:
    return [sys.executable, "-m", "flowstatus", "serve", "--port", str(port), "--workers", "1", *options]


def process_env(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without any flowstatus or OpenSearch setting, plus ``env``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("OPENSEARCH_", "FLOWSTATUS_"))}
    return {**kept, **env}


def serve_until_exit(env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    """``flowstatus serve`` that must stop at start by itself; killed (and the test failed) after 60 s."""
    return subprocess.run(_serve_command(free_port(), *options), env=process_env(env), capture_output=True,
                          text=True, check=False, timeout=60)


def serve_start_output(env: dict[str, str], *options: str,
                       while_serving: Callable[[str], None] | None = None) -> str:
    """What ``flowstatus serve`` prints until it serves, then ``while_serving(its URL)``, then it is
    stopped; fails if it exits by itself first."""
    port = free_port()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(_serve_command(port, *options), env=process_env(env), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while b"flowstatus is serving" not in _read(out):
                assert process.poll() is None, f"serve exited with {process.returncode}: {_read(out).decode()}"
                assert time.monotonic() < deadline, _read(out).decode()
                time.sleep(0.2)
            if while_serving is not None:
                while_serving(f"http://127.0.0.1:{port}")
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        return _read(out).decode(errors="replace")


def _read(out: Any) -> bytes:
    out.seek(0)
    return bytes(out.read())
