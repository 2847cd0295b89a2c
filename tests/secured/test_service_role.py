"""flowstatus as its own user with the role docs/secured-cluster.md grants (system-index permission on the
state index only): everything works; a role without any one group of it is reported clearly."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flowstatus.app import create_app
from flowstatus.composition import Components
from flowstatus.domain.generation import Generation
from flowstatus.repository.opensearch_access import (
    INSPECT,
    MANAGE,
    READ,
    READ_TEMPLATES,
    READINESS,
    RECORD_STEPS,
    SEARCH,
    SYSTEM_INDEX,
    WRITE,
    PermissionGroup,
)
from flowstatus.repository.opensearch_steps import steps_index
from flowstatus.settings import DEFAULT_TEMPLATES_INDEX
from tests.conftest import new_id, ready_soon
from tests.e2e.conftest import serving
from tests.secured.conftest import STATE_INDEX, Secured, assert_secret_free, secrets_of, service_role
from tests.secured.flows import (
    BULK,
    STATUS,
    events,
    http,
    process_env,
    serve_start_output,
    work_through_client,
    work_through_server,
)

STEPS_INDEX = steps_index(STATE_INDEX)
TEMPLATES_INDEX = DEFAULT_TEMPLATES_INDEX


def put_template(secured: Secured, wid: str) -> None:
    """A template of one step, stored as the plugin stores it (with the admin certificate)."""
    template = {"name": wid, "use_case": "TEST", "workflows": {"provision": {"nodes": [
        {"id": "index_1", "type": "create_index", "user_inputs": {"index_name": wid}}], "edges": []}}}
    status, raw = secured.node.request("PUT", f"/{TEMPLATES_INDEX}/_doc/{wid}?refresh=true", template)
    assert status in (200, 201), raw


def role_without(group: PermissionGroup) -> dict[str, Any]:
    """The documented role less ``group``: on its own index's entry for the groups beside the state index."""
    role = copy.deepcopy(service_role())
    role["cluster_permissions"] = [p for p in role["cluster_permissions"] if p not in group.cluster]
    state, steps, templates = role["index_permissions"]
    entries = {RECORD_STEPS: [steps], READ_TEMPLATES: [templates]}.get(group, [state])
    for entry in entries:
        entry["allowed_actions"] = [p for p in entry["allowed_actions"] if p not in group.index]
    return role


def init_index(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowstatus", "init-index"], env=process_env(env),
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_documented_role_creates_the_index_and_does_everything(secured: Secured) -> None:
    secured.drop_state_index()
    made = init_index(secured.user_env("flowstatus"))
    assert (made.returncode, made.stdout.strip()) == (0, f"{STATE_INDEX}: created; {STEPS_INDEX}: created"), made.stderr
    client = create_app(secured.user_settings("flowstatus")).test_client()
    assert client.get("/_ready").get_json() == {"status": "ready"}
    work_through_client(client)
    ingested = subprocess.run([sys.executable, "-m", "flowstatus", "ingest", "-"], input=events(new_id()).decode(),
                              env=process_env(secured.user_env("flowstatus")), capture_output=True, text=True,
                              timeout=60, check=False)
    assert ingested.returncode == 0, ingested.stderr


def test_the_documented_role_tells_the_clusters_generation(secured: Secured) -> None:
    repository = Components(secured.user_settings("flowstatus")).repository
    assert repository.generation() == Generation(2, 19, None)  # the secured node runs no Flow Framework plugin


def test_the_real_server_as_the_user_keeps_its_password_out_of_logs_metrics_and_errors(
        secured: Secured, tmp_path: Path) -> None:
    env = process_env(secured.user_env("flowstatus"))
    with serving(secured.url, STATE_INDEX, tmp_path / "serve.log", "--workers", "2", env=env) as served:
        work_through_server(served.url)
        answers = [http(served.url, "GET", STATUS.format(new_id())), http(served.url, "GET", "/metrics"),
                   http(served.url, "GET", "/_ready")]
        assert [status for status, _ in answers] == [404, 200, 200]
        log = served.output()
    assert "ready (flowstatus may read, search and write it)" in log
    assert_secret_free(log + "".join(body.decode() for _, body in answers), secrets_of(secured, "flowstatus"))


def test_the_user_may_authenticate_with_its_own_client_certificate(secured: Secured) -> None:
    issued = secured.node.issue_client_cert("flowstatus")  # CN = the user the role is mapped to
    settings = secured.user_settings(None, opensearch_client_cert=str(issued.cert), opensearch_client_key=str(issued.key))
    client = create_app(settings).test_client()
    assert client.get("/_ready").get_json() == {"status": "ready"}
    work_through_client(client)


# OpenSearch answers a refused HEAD without a body: what it refused is known from the request alone.
INDEX_EXISTENCE = PermissionGroup(READINESS.work, index=("indices:admin/get",))


@pytest.mark.parametrize("group", [READINESS, READ, SEARCH, WRITE, INSPECT, INDEX_EXISTENCE],
                         ids=lambda g: f"{g.work}: {', '.join(g.cluster + g.index)}")
def test_a_role_without_a_group_is_named_in_ready(secured: Secured, group: PermissionGroup) -> None:
    secured.put_role("flowstatus_partial", role_without(group), ["partial"])
    client = create_app(secured.user_settings("partial")).test_client()
    ready = client.get("/_ready")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    reason = ready.get_json()["reason"]
    assert f"its role lacks the permissions to {group.work}; grant the role of docs/secured-cluster.md" in reason
    assert ("no permissions for [" in reason or "403 to a HEAD request" in reason) and "User [" not in reason
    assert "partial" not in reason
    # Granted the whole role, the same process is ready within the second its verdict is reused.
    secured.put_role("flowstatus_partial", service_role(), ["partial"])
    assert ready_soon(client).status_code == 200


@pytest.mark.parametrize(("group", "index"), [(RECORD_STEPS, STEPS_INDEX), (READ_TEMPLATES, TEMPLATES_INDEX)],
                         ids=lambda g: getattr(g, "work", g))
def test_a_role_without_a_group_beside_the_state_index_is_named_with_its_index(
        secured: Secured, group: PermissionGroup, index: str) -> None:
    Components(secured.admin_settings()).step_store.ensure_index()
    put_template(secured, new_id())
    secured.put_role("flowstatus_partial", role_without(group), ["partial"])
    client = create_app(secured.user_settings("partial")).test_client()
    ready = client.get("/_ready")
    assert ready.status_code == 503
    reason = ready.get_json()["reason"]
    assert reason.startswith(f"OpenSearch refuses flowstatus's user part of its work on {index} (403 security_exception")
    assert f"its role lacks the permissions to {group.work}; grant the role of docs/secured-cluster.md" in reason
    secured.put_role("flowstatus_partial", service_role(), ["partial"])
    assert ready_soon(client).status_code == 200


def test_the_documented_role_records_steps_and_reads_the_templates_steps(secured: Secured) -> None:
    wid = new_id()
    put_template(secured, wid)
    client = create_app(secured.user_settings("flowstatus")).test_client()
    lines = [{"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid},
             {"event": "step_started", "workflow_id": wid, "workflow_step_id": "index_1", "time": 1_700_000_000_000}]
    answer = client.post(BULK, data=b"".join(json.dumps(line).encode() + b"\n" for line in lines),
                         content_type="application/x-ndjson")
    assert answer.status_code == 200 and not answer.get_json()["errors"], answer.get_data(as_text=True)
    # The security plugin sees a newly made index's permissions a moment after it was made.
    body = client.get(f"/_flowstatus/workflow/{wid}/_steps").get_json()
    for _ in range(20):
        if body["listed_from"] == "template":
            break
        time.sleep(0.5)
        body = client.get(f"/_flowstatus/workflow/{wid}/_steps").get_json()
    assert body["listed_from"] == "template", body
    assert [(s["id"], s["state"]) for s in body["steps"]] == [("index_1", "running")]
    built = Components(secured.user_settings("flowstatus"))
    report = built.step_observer.tick()  # reads the lease, and takes it unless a server of an earlier test holds it
    lease = built.step_store.read_lease()
    assert lease is not None and lease.lease is not None
    assert report.observing == (lease.lease.holder == built.step_observer.holder)


def test_a_role_without_the_system_index_permission_is_told_what_the_index_is(secured: Secured) -> None:
    secured.put_role("flowstatus_partial", role_without(SYSTEM_INDEX), ["partial"])
    reason = create_app(secured.user_settings("partial")).test_client().get("/_ready").get_json()["reason"]
    assert "(403 security_exception: no permissions for []): it is a protected system index" in reason
    assert "system:admin/system_index" in reason


def test_serve_says_at_start_what_the_role_lacks(secured: Secured) -> None:
    secured.put_role("flowstatus_partial", role_without(WRITE), ["partial"])
    output = serve_start_output(secured.user_env("partial"))
    assert f"WARNING: state index {STATE_INDEX} is not ready: OpenSearch refuses flowstatus's user part" in output
    assert "lacks the permissions to write states" in output and "/_ready answers 503" in output


def test_without_the_management_group_an_admin_makes_the_index_and_the_rest_works(secured: Secured) -> None:
    secured.put_role("flowstatus_partial", role_without(MANAGE), ["partial"])
    secured.drop_state_index()
    refused = init_index(secured.user_env("partial"))
    assert refused.returncode == 1
    assert "OpenSearch refuses flowstatus's user access to the state index (403 security_exception: no permissions " \
           "for [indices:admin/" in refused.stderr and "see docs/secured-cluster.md" in refused.stderr
    assert init_index(secured.admin_env()).returncode == 0
    client = create_app(secured.user_settings("partial")).test_client()
    assert client.get("/_ready").status_code == 200
    work_through_client(client)


REFUSED = "OpenSearch refuses flowstatus access to the state index; /_ready says why"


def test_events_refused_per_item_answer_503_without_naming_the_user(secured: Secured) -> None:
    # Allowed to send a bulk, not to index documents: OpenSearch answers 200 and refuses each item.
    secured.put_role("flowstatus_partial", role_without(PermissionGroup("", index=("indices:data/write/index",))),
                     ["partial"])
    answer = create_app(secured.user_settings("partial")).test_client().post(
        BULK, data=events(new_id()), content_type="application/x-ndjson")
    assert answer.status_code == 200
    items = [next(iter(item.values())) for item in answer.get_json()["items"]]
    assert items[0]["status"] == 503 and items[0]["error"]["reason"] == REFUSED, items[0]
    assert "partial" not in answer.get_data(as_text=True)


def test_reads_refused_per_document_answer_503(secured: Secured) -> None:
    # A multi-get answers 200 and refuses each document when the index-level permission is missing.
    secured.put_role("flowstatus_partial", role_without(PermissionGroup("", index=("indices:data/read/mget*",))),
                     ["partial"])
    answer = create_app(secured.user_settings("partial")).test_client().post(
        BULK, data=events(new_id()), content_type="application/x-ndjson")
    assert (answer.status_code, answer.get_json()) == (503, {"error": REFUSED})
