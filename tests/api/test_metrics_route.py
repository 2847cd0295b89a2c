"""GET /metrics on the in-memory store: workflow metrics, event counters, and who sees the workflow metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import g
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.domain.access import Caller
from flowstatus.domain.model import User
from flowstatus.repository.memory import InMemoryStateRepository, InMemoryStateSearch
from flowstatus.settings import Settings
from tests.api.conftest import put
from tests.conftest import new_id
from tests.exposition import metric

BULK = "/_flowstatus/_bulk"
READER = User("reader", ("team-a",), ("flow_framework_read_access",))
ADMIN = User("admin", (), ("all_access",))


def _scrape(store: InMemoryStateRepository, caller: Caller | None = None, **settings: Any) -> str:
    app = create_app(Settings(**settings), repository=store, search=InMemoryStateSearch(store))
    if caller is not None:
        @app.before_request
        def _as_caller() -> None:  # stands in for authentication
            g.caller = caller
    response = app.test_client().get("/metrics", headers={"x-tenant-id": "t1"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_workflow_metrics_count_the_stored_workflows(store: InMemoryStateRepository) -> None:
    put(store, new_id(), {"state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
                          "provision_start_time": 1_000})
    put(store, new_id(), {"state": "FAILED", "provisioning_progress": "FAILED", "error": "quota exceeded\ntrace",
                          "provision_start_time": 1_000, "provision_end_time": 31_000})
    text = _scrape(store)
    assert metric(text, "flowstatus_workflows_by_state", state="PROVISIONING") == 1
    assert metric(text, "flowstatus_workflows_by_progress", provisioning_progress="FAILED") == 1
    assert metric(text, "flowstatus_workflows_failed_by_error", error="quota exceeded") == 1
    assert metric(text, "flowstatus_workflow_provisioning_duration_seconds_bucket", state="FAILED", le="30.0") == 1
    assert metric(text, "flowstatus_workflow_oldest_provisioning_age_seconds") > 1_000_000, "started in 1970"
    assert metric(text, "flowstatus_workflow_metrics_stale") == 0


def test_the_workflow_metrics_can_be_turned_off(store: InMemoryStateRepository) -> None:
    text = _scrape(store, workflow_metrics=False)
    assert "flowstatus_workflow_metrics_stale" not in text and "flowstatus_workflows_by_state" not in text


def test_events_are_counted_by_kind_and_outcome(client: FlaskClient) -> None:
    def counts() -> tuple[float, float, float]:
        text = client.get("/metrics").get_data(as_text=True)
        return (metric(text, "flowstatus_events_applied_total", kind="create", result="created"),
                metric(text, "flowstatus_events_applied_total", kind="create", result="noop"),
                metric(text, "flowstatus_events_refused_total", kind="provision_completed", reason="not_found"))

    before = counts()
    wid = new_id()
    lines = [{"event": "create", "workflow_id": wid}, {"event": "create", "workflow_id": wid},
             {"event": "provision_completed", "workflow_id": new_id()}]
    body = "\n".join(json.dumps(line) for line in lines) + "\n"
    assert client.post(BULK, data=body, content_type="application/x-ndjson").status_code == 200
    after = counts()
    assert [a - b for a, b in zip(after, before)] == [1, 1, 1]
    assert wid not in client.get("/metrics").get_data(as_text=True), "no workflow id in any label"


@pytest.mark.parametrize(("caller", "rules", "shown"), [
    (Caller(READER), {"filter_by_backend_roles": True}, False),
    (Caller(READER, "t1"), {"multi_tenancy": True}, False),
    (Caller(ADMIN), {"filter_by_backend_roles": True}, True),
    (Caller(ADMIN, "t1"), {"multi_tenancy": True, "workflow_metrics_tenants": 3}, True),
    (Caller(READER), {}, True),
])
def test_with_access_rules_on_only_all_access_sees_the_workflow_metrics(
    store: InMemoryStateRepository, caller: Caller, rules: dict[str, Any], shown: bool
) -> None:
    put(store, new_id(), {"state": "FAILED", "provisioning_progress": "FAILED", "error": "team-b secret",
                          "tenant_id": "t2"})
    text = _scrape(store, caller, **rules)
    assert ("team-b secret" in text) is shown
    assert ("flowstatus_workflows_by_state" in text) is shown
    assert "flowstatus_http_requests_total" in text, "the process metrics are for every reader"
    if rules.get("workflow_metrics_tenants"):
        assert metric(text, "flowstatus_workflows_by_tenant", tenant="t2", state="FAILED") == 1
