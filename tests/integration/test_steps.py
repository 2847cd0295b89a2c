"""Steps against a real node: the companion index, step events over REST, the observer and its lease, templates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from opensearchpy import OpenSearch

from flowstatus.app import create_app
from flowstatus.cli import main
from flowstatus.composition import Components
from flowstatus.domain.steps import Sighting
from flowstatus.settings import Settings
from tests.conftest import new_id, put_template

BULK = "/_flowstatus/_bulk"


@pytest.fixture
def settings(opensearch_url: str, unique_index: str, raw: OpenSearch) -> Iterator[Settings]:
    """A state index of the test's own, its companion and its own template index (all dropped afterwards)."""
    yield Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index,
                   templates_index=f"{unique_index}-templates", request_timeout=10, step_observer_interval=0.5)
    raw.indices.delete(index=f"{unique_index}-templates", ignore=404)


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    return create_app(settings).test_client()


def post(client: FlaskClient, *events: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.post(BULK, data="\n".join(json.dumps(e) for e in events).encode(),
                         content_type="application/x-ndjson")
    assert answer.status_code == 200, answer.get_data()
    items: list[dict[str, Any]] = answer.get_json()["items"]
    return items


def test_init_index_creates_the_companion_index_hidden_with_its_mapping(settings: Settings, raw: OpenSearch) -> None:
    env = {"OPENSEARCH_URL": settings.opensearch_hosts[0], "FLOWSTATUS_STATE_INDEX": settings.state_index}
    result = CliRunner().invoke(main, ["init-index"], env=env)
    companion = f"{settings.state_index}-flowstatus-steps"
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{settings.state_index}: created; {companion}: created"
    index = raw.indices.get(index=companion)[companion]
    assert index["settings"]["index"]["hidden"] == "true"
    assert index["settings"]["index"]["auto_expand_replicas"] == "0-1"
    assert index["mappings"]["dynamic"] == "false" and index["mappings"]["properties"]["reported"]["enabled"] is False
    assert f"{companion}-writes" in index["aliases"]
    again = CliRunner().invoke(main, ["init-index"], env=env)
    assert again.output.strip() == f"{settings.state_index}: current; {companion}: current"


def test_step_events_over_rest_are_recorded_beside_the_state_never_in_it(
        client: FlaskClient, settings: Settings, raw: OpenSearch) -> None:
    wid = new_id()
    post(client, {"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid})
    steps = [{"event": "step_started", "workflow_id": wid, "workflow_step_id": "load", "workflow_step_name": "noop",
              "time": 1_700_000_000_000},
             {"event": "step_completed", "workflow_id": wid, "workflow_step_id": "load", "time": 1_700_000_000_750}]
    assert [next(iter(i.values()))["status"] for i in post(client, *steps)] == [201, 200]
    assert [next(iter(i.values()))["result"] for i in post(client, *steps)] == ["noop", "noop"]
    post(client, {"event": "provision_completed", "workflow_id": wid})
    late = post(client, {"event": "step_started", "workflow_id": wid, "workflow_step_id": "other"})
    assert late[0]["step_started"]["status"] == 409
    state = raw.get(index=settings.state_index, id=wid)["_source"]
    assert set(state) <= {"workflow_id", "state", "provisioning_progress", "provision_start_time",
                          "provision_end_time", "resources_created"}
    body = client.get(f"/_flowstatus/workflow/{wid}/_steps").get_json()
    assert [(s["id"], s["state"], s["source"], s["duration_ms"]) for s in body["steps"]] == [
        ("load", "completed", "reported", {"min": 750, "max": 750})]


def template(unique: str) -> dict[str, Any]:
    """A template document as the plugin stores it: a noop, then an index."""
    return {"name": unique, "use_case": "TEST", "workflows": {"provision": {
        "user_params": {},
        "nodes": [{"id": "wait_1", "type": "noop", "previous_node_inputs": {}, "user_inputs": {"delay": "1s"}},
                  {"id": "index_1", "type": "create_index", "previous_node_inputs": {"wait_1": "x"},
                   "user_inputs": {"index_name": unique}}],
        "edges": [{"source": "wait_1", "dest": "index_1"}]}}}


def test_the_observer_sights_resources_of_a_template_workflow_between_two_looks(
        client: FlaskClient, settings: Settings, raw: OpenSearch) -> None:
    wid = new_id()
    put_template(raw, settings.templates_index, wid, template(wid))
    post(client, {"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid})
    raw.indices.refresh(index=settings.state_index)  # the observer finds PROVISIONING workflows by search
    built = Components(settings)
    clock = iter(range(5_000_000_000_000, 5_000_000_100_000, 1000))
    observer = built.step_observer
    observer.clock = lambda: next(clock)
    assert observer.tick().observing
    post(client, {"event": "resource_created", "workflow_id": wid, "workflow_step_name": "create_index",
                  "workflow_step_id": "index_1", "resource_id": wid})
    report = observer.tick()
    assert (report.workflows, report.sightings) == (1, 1)
    stored = built.step_store.get_many([wid])[wid]
    assert stored is not None and stored.records is not None
    assert stored.records.sightings == (Sighting("index_1", "create_index", 5_000_000_001_000, 5_000_000_000_000),)
    steps = client.get(f"/_flowstatus/workflow/{wid}/_steps").get_json()["steps"]
    assert [(s["id"], s["state"]) for s in steps] == [("wait_1", "completed"), ("index_1", "completed")]
    assert steps[1]["end"] == {"basis": "first_seen", "time": None, "earliest": 5_000_000_000_000,
                               "latest": 5_000_000_001_000}


def test_of_two_processes_one_observes_until_it_stops(settings: Settings) -> None:
    one, two = Components(settings), Components(settings)
    first, second = one.step_observer, two.step_observer
    now = [6_000_000_000_000]
    first.clock = second.clock = lambda: now[0]
    assert first.tick().observing
    assert not second.tick().observing
    first.stop()
    now[0] += second.ttl // 4  # the next time the other process reads the lease
    assert second.tick().observing
    lease = two.step_store.read_lease()
    assert lease is not None and lease.lease is not None and lease.lease.holder == second.holder


def test_the_templates_index_missing_lists_steps_from_events(client: FlaskClient) -> None:
    wid = new_id()
    post(client, {"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid})
    body = client.get(f"/_flowstatus/workflow/{wid}/_steps").get_json()
    assert (body["listed_from"], body["steps"]) == ("events", [])


def test_flowstatus_ingest_applies_step_events_in_order_with_state_events(settings: Settings, tmp_path: Path) -> None:
    wid = new_id()
    lines = [{"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid},
             {"event": "step_started", "workflow_id": wid, "workflow_step_id": "a", "time": 1_700_000_000_000},
             {"event": "step_failed", "workflow_id": wid, "workflow_step_id": "a", "error": "boom"},
             {"event": "provision_failed", "workflow_id": wid, "error": "a failed"},
             {"event": "step_started", "workflow_id": wid, "workflow_step_id": "b"}]
    events = tmp_path / "events.ndjson"
    events.write_text("\n".join(json.dumps(e) for e in lines))
    env = {**os.environ, "OPENSEARCH_URL": settings.opensearch_hosts[0], "FLOWSTATUS_STATE_INDEX": settings.state_index}
    result = subprocess.run([sys.executable, "-m", "flowstatus", "ingest", str(events)], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stderr  # the last line is refused: the workflow failed before it
    assert "6 events" in result.stderr and "5 applied" in result.stderr and "line 6: 409" in result.stderr
    stored = Components(settings).step_store.get_many([wid])[wid]
    assert stored is not None and stored.records is not None
    assert [(r.step_id, r.outcome and r.outcome.value, r.error) for r in stored.records.reported] == [
        ("a", "failed", "boom")]
