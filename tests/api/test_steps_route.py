"""``GET /_flowstatus/workflow/<id>/_steps`` and the step events and pages, over HTTP on the in-memory twins."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.domain.access import Caller
from flowstatus.domain.model import User
from flowstatus.repository.errors import StoreUnavailable
from flowstatus.repository.memory import InMemoryStateRepository, InMemoryStateSearch
from flowstatus.repository.memory_steps import InMemoryStepStore, InMemoryTemplateStore
from flowstatus.settings import Settings

STEPS = "/_flowstatus/workflow/{}/_steps"
TEMPLATE = {"workflows": {"provision": {
    "nodes": [{"id": "wait_1", "type": "noop"}, {"id": "index_1", "type": "create_index"}],
    "edges": [{"source": "wait_1", "dest": "index_1"}]}}}


class Stores:
    def __init__(self) -> None:
        self.states = InMemoryStateRepository()
        self.states.ensure_index()
        self.steps = InMemoryStepStore()
        self.templates = InMemoryTemplateStore()

    def app(self, caller: Caller | None = None, **settings: Any) -> Flask:
        app = create_app(Settings(**settings), repository=self.states, search=InMemoryStateSearch(self.states),
                         step_store=self.steps, templates=self.templates)
        if caller is not None:
            @app.before_request
            def _as_caller() -> None:  # stands in for authentication
                g.caller = caller
        return app


@pytest.fixture
def stores() -> Stores:
    return Stores()


@pytest.fixture
def client(stores: Stores) -> FlaskClient:
    return stores.app().test_client()


def post(client: FlaskClient, *lines: str) -> dict[str, Any]:
    answer = client.post("/_flowstatus/_bulk", data="\n".join(lines).encode(), content_type="application/x-ndjson")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.get_json()
    return body


def provisioning(client: FlaskClient, stores: Stores, workflow_id: str = "wf") -> None:
    stores.templates.put(workflow_id, TEMPLATE)
    post(client, f'{{"event":"create","workflow_id":"{workflow_id}"}}',
         f'{{"event":"provision_started","workflow_id":"{workflow_id}","time":1000}}')


def step(kind: str, step_id: str, workflow_id: str = "wf", **extra: Any) -> str:
    fields = "".join(f',"{k}":{v!r}'.replace("'", '"') for k, v in extra.items())
    return f'{{"event":"{kind}","workflow_id":"{workflow_id}","workflow_step_id":"{step_id}"{fields}}}'


def test_the_answer_lists_the_templates_steps_with_their_state_and_source(client: FlaskClient, stores: Stores) -> None:
    provisioning(client, stores)
    answer = client.get(STEPS.format("wf"))
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-cache"
    body = answer.get_json()
    assert (body["workflow_id"], body["state"], body["listed_from"]) == ("wf", "PROVISIONING", "template")
    assert [(s["id"], s["type"], s["state"], s["source"]) for s in body["steps"]] == [
        ("wait_1", "noop", "running", "observed"), ("index_1", "create_index", "pending", "observed")]
    items = post(client, step("step_completed", "wait_1", time=1400, workflow_step_name="noop"))["items"]
    assert items == [{"step_completed": {"workflow_id": "wf", "status": 201, "result": "created",
                                         "_seq_no": 0, "_primary_term": 1}}]
    done = client.get(STEPS.format("wf")).get_json()["steps"]
    assert done[0]["state"] == "completed" and done[0]["source"] == "reported"
    assert done[0]["end"] == {"basis": "reported", "time": 1400, "earliest": 1400, "latest": 1400}
    assert done[1]["state"] == "running"


def test_the_status_answer_is_unchanged_by_steps(client: FlaskClient, stores: Stores) -> None:
    provisioning(client, stores)
    before = client.get("/_plugins/_flow_framework/workflow/wf/_status?all=true").get_data()
    post(client, step("step_started", "wait_1", time=1100))
    assert client.get("/_plugins/_flow_framework/workflow/wf/_status?all=true").get_data() == before


def test_unknown_workflows_and_bad_requests_get_the_status_routes_answers(client: FlaskClient, stores: Stores) -> None:
    assert client.get(STEPS.format("nope")).get_json() == {"error": "Fail to find workflow status of nope"}
    assert client.get(STEPS.format("nope")).status_code == 404
    bad = client.get(STEPS.format("a%01b"))
    assert bad.status_code == 400 and "control characters" in bad.get_json()["error"]
    unknown = client.get(STEPS.format("nope") + "?all=true")
    assert unknown.status_code == 400
    assert "contains unrecognized parameter: [all]" in unknown.get_json()["error"]["reason"]
    missing = Stores()
    missing.states = InMemoryStateRepository()
    gone = missing.app().test_client().get(STEPS.format("nope"))
    assert gone.get_json() == {"error": "Failed to get workflow status of: nope"}


def test_the_access_rules_are_the_status_routes(stores: Stores) -> None:
    owner = Caller(User("alice", ("team-a",)))
    writer = stores.app(owner, filter_by_backend_roles=True).test_client()
    provisioning(writer, stores)
    other = stores.app(Caller(User("mallory", ("team-b",))), filter_by_backend_roles=True).test_client()
    refused = other.get(STEPS.format("wf"))
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "User does not have permissions to access workflow: wf"}
    assert writer.get(STEPS.format("wf")).status_code == 200
    items = post(other, step("step_started", "wait_1"))["items"]
    assert items[0]["step_started"]["status"] == 403


def test_etags_name_every_document_the_answer_is_made_of(client: FlaskClient, stores: Stores) -> None:
    provisioning(client, stores)
    first = client.get(STEPS.format("wf"))
    tag = first.headers["ETag"]
    assert client.get(STEPS.format("wf"), headers={"If-None-Match": tag}).status_code == 304
    assert client.get(STEPS.format("wf") + "?pretty", headers={"If-None-Match": tag}).status_code == 200
    post(client, step("step_started", "wait_1"))  # changes the step records only
    assert client.get(STEPS.format("wf"), headers={"If-None-Match": tag}).status_code == 200
    tag = client.get(STEPS.format("wf")).headers["ETag"]
    stores.templates.put("wf", TEMPLATE)  # a template written again
    assert client.get(STEPS.format("wf"), headers={"If-None-Match": tag}).status_code == 200


def test_a_long_poll_returns_when_a_step_changes_and_waits_otherwise(client: FlaskClient, stores: Stores) -> None:
    provisioning(client, stores)
    tag = client.get(STEPS.format("wf")).headers["ETag"]
    writer = stores.app().test_client()
    timer = threading.Timer(0.3, lambda: post(writer, step("step_completed", "wait_1")))
    timer.start()
    started = time.monotonic()
    try:
        answer = client.get(STEPS.format("wf") + "?wait_for_completion_timeout=10s", headers={"If-None-Match": tag})
    finally:
        timer.join()
    assert answer.status_code == 200 and time.monotonic() - started < 8
    assert answer.get_json()["steps"][0]["state"] == "completed"
    unchanged = client.get(STEPS.format("wf") + "?wait_for_completion_timeout=300ms",
                           headers={"If-None-Match": answer.headers["ETag"]})
    assert unchanged.status_code == 304


def test_a_long_poll_without_an_etag_returns_when_the_workflow_ends(client: FlaskClient, stores: Stores) -> None:
    provisioning(client, stores)
    writer = stores.app().test_client()
    timer = threading.Timer(0.3, lambda: post(writer, '{"event":"provision_completed","workflow_id":"wf"}'))
    timer.start()
    try:
        answer = client.get(STEPS.format("wf") + "?wait_for_completion_timeout=10s")
    finally:
        timer.join()
    assert answer.get_json()["state"] == "COMPLETED"
    assert {s["state"] for s in answer.get_json()["steps"]} == {"completed"}


def test_filter_path_and_pretty_apply(client: FlaskClient, stores: Stores) -> None:
    provisioning(client, stores)
    body = client.get(STEPS.format("wf") + "?filter_path=steps.id,steps.state").get_json()
    assert body == {"steps": [{"id": "wait_1", "state": "running"}, {"id": "index_1", "state": "pending"}]}
    assert client.get(STEPS.format("wf") + "?pretty").get_data(as_text=True).startswith('{\n  "workflow_id" : "wf"')


class Unreachable(InMemoryStepStore):
    def get_many(self, workflow_ids: Any) -> Any:
        raise StoreUnavailable("OpenSearch is unreachable")


def test_an_unreachable_companion_index_is_a_503_and_the_pages_say_what_they_cannot_show(stores: Stores) -> None:
    client = stores.app().test_client()
    provisioning(client, stores)
    stores.steps = Unreachable()
    broken = stores.app().test_client()
    answer = broken.get(STEPS.format("wf"))
    assert answer.status_code == 503 and "Retry-After" in answer.headers
    page = broken.get("/_flowstatus/ui/workflow/wf")
    assert page.status_code == 200 and 'id="steps-unavailable"' in page.get_data(as_text=True)
    assert broken.get("/_flowstatus/ui").status_code == 200


def test_the_pages_show_the_timeline_and_the_running_step(client: FlaskClient, stores: Stores) -> None:
    provisioning(client, stores)
    post(client, step("step_completed", "wait_1", time=1400))
    detail = client.get("/_flowstatus/ui/workflow/wf").get_data(as_text=True)
    assert 'data-step-id="wait_1" data-step-state="completed" data-source="reported"' in detail
    assert 'data-step-id="index_1" data-step-state="running"' in detail
    assert '<rect class="solid"' in detail
    listing = client.get("/_flowstatus/ui").get_data(as_text=True)
    assert '<span class="running-step"' in listing and "<code>index_1</code> create_index" in listing
