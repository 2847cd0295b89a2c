"""GET …/_status against a real node, point for point with the plugin."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from opensearchpy import OpenSearch

from tests.conftest import new_id
from tests.integration.conftest import put_stored

STATUS = "/_plugins/_flow_framework/workflow/{}/_status"

CONNECTOR = {
    "workflow_step_name": "create_connector",
    "workflow_step_id": "create_connector_1",
    "resource_type": "connector_id",
    "resource_id": "NdjCQYwBLmvn802B0IwE",
}
MODEL = {
    "workflow_step_name": "register_remote_model",
    "workflow_step_id": "register_model_2",
    "resource_type": "model_id",
    "resource_id": "N9jCQYwBLmvn802B0oyh",
}

# The three moments of the Flow Framework documentation page's example, stored as the plugin stores them.
DOC_PAGE_STORED = {
    "before": {"workflow_id": "8xL8bowB8y25Tqfenm50", "state": "NOT_STARTED",
               "provisioning_progress": "NOT_STARTED"},
    "during": {"workflow_id": "8xL8bowB8y25Tqfenm50", "state": "PROVISIONING",
               "provisioning_progress": "IN_PROGRESS", "provision_start_time": 1721933687578,
               "resources_created": [CONNECTOR]},
    "after": {"workflow_id": "8xL8bowB8y25Tqfenm50", "state": "COMPLETED",
              "provisioning_progress": "DONE", "provision_start_time": 1721933687578,
              "provision_end_time": 1721933687634, "resources_created": [CONNECTOR, MODEL]},
}
# The documentation page's example responses, verbatim.
DOC_PAGE_SHOWN = {
    "before": {"workflow_id": "8xL8bowB8y25Tqfenm50", "state": "NOT_STARTED"},
    "during": {"workflow_id": "8xL8bowB8y25Tqfenm50", "state": "PROVISIONING",
               "resources_created": [{"workflow_step_name": "create_connector",
                                      "workflow_step_id": "create_connector_1",
                                      "connector_id": "NdjCQYwBLmvn802B0IwE"}]},
    "after": {"workflow_id": "8xL8bowB8y25Tqfenm50", "state": "COMPLETED",
              "resources_created": [{"workflow_step_name": "create_connector",
                                     "workflow_step_id": "create_connector_1",
                                     "connector_id": "NdjCQYwBLmvn802B0IwE"},
                                    {"workflow_step_name": "register_remote_model",
                                     "workflow_step_id": "register_model_2",
                                     "model_id": "N9jCQYwBLmvn802B0oyh"}]},
}


def contains(actual: object, expected: object) -> bool:
    """Every key and value of ``expected`` is in ``actual`` (lists element-wise)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and contains(actual[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(contains, actual, expected))
    return actual == expected


@pytest.mark.parametrize("moment", ["before", "during", "after"])
def test_the_documentation_pages_three_examples(
    moment: str, client: FlaskClient, raw: OpenSearch, state_index: str
) -> None:
    put_stored(raw, state_index, "8xL8bowB8y25Tqfenm50", DOC_PAGE_STORED[moment])
    response = client.get(STATUS.format("8xL8bowB8y25Tqfenm50"))
    assert response.status_code == 200
    assert response.content_type == "application/json; charset=UTF-8"
    body = response.get_json()
    assert contains(body, DOC_PAGE_SHOWN[moment]), body
    # ...and exactly the plugin's short form, plus the seed key on each resource.
    assert list(body) == [k for k in ("workflow_id", "state", "resources_created") if k in body]
    for entry, stored in zip(body.get("resources_created", []), DOC_PAGE_STORED[moment].get("resources_created", [])):
        assert entry == {**stored, stored["resource_type"]: stored["resource_id"]}


def test_all_true_renders_every_field_in_the_plugin_order(
    client: FlaskClient, raw: OpenSearch, state_index: str
) -> None:
    wid = new_id()
    stored = {
        "workflow_id": wid, "error": "boom", "state": "FAILED", "provisioning_progress": "FAILED",
        "provision_start_time": 1710435961112, "provision_end_time": 1710435962001,
        "user": {"name": "alice", "backend_roles": ["odfe"], "roles": ["all_access"],
                 "custom_attribute_names": [], "user_requested_tenant": None},
        "user_outputs": {}, "resources_created": [MODEL], "tenant_id": "t",
        "all_shared_principals": ["user:one"],
    }
    put_stored(raw, state_index, wid, stored)
    body = client.get(STATUS.format(wid) + "?all=true").get_json()
    assert list(body) == ["workflow_id", "error", "state", "provisioning_progress", "provision_start_time",
                          "provision_end_time", "user", "resources_created", "tenant_id", "all_shared_principals"]
    assert body["user"] == stored["user"], "a 2.x plugin's user is rendered as that plugin renders it"
    assert list(body["user"]) == list(stored["user"])
    assert isinstance(body["provision_start_time"], int)
    short = client.get(STATUS.format(wid)).get_json()
    assert list(short) == ["workflow_id", "error", "state", "resources_created"]


def test_unknown_workflow_is_404(client: FlaskClient, state_index: str) -> None:
    wid = new_id()
    response = client.get(STATUS.format(wid))
    assert response.status_code == 404
    assert response.get_json() == {"error": f"Fail to find workflow status of {wid}"}


def test_missing_state_index_is_the_other_404(fresh_client: FlaskClient) -> None:
    wid = new_id()
    response = fresh_client.get(STATUS.format(wid))
    assert response.status_code == 404
    assert response.get_json() == {"error": f"Failed to get workflow status of: {wid}"}


def test_a_corrupt_stored_document_is_not_a_500(client: FlaskClient, raw: OpenSearch, state_index: str) -> None:
    wid = new_id()
    # The mapping lets user_outputs hold anything; the plugin format allows strings only.
    put_stored(raw, state_index, wid, {"workflow_id": wid, "state": "COMPLETED", "user_outputs": {"k": [1, 2]}})
    response = client.get(STATUS.format(wid))
    assert response.status_code == 502
    assert response.get_json() == {"error": f"Failed to parse workflowState: {wid}"}


def test_documents_from_older_plugin_versions_are_served(
    fresh_client: FlaskClient, raw: OpenSearch, unique_index: str
) -> None:
    # A 2.12-era index: schema_version 1, ui_metadata mapped, no user mapping.
    raw.indices.create(index=unique_index, body={
        "settings": {"index": {"hidden": True}},
        "mappings": {"dynamic": False, "_meta": {"schema_version": 1},
                     "properties": {"workflow_id": {"type": "keyword"}, "state": {"type": "keyword"},
                                    "ui_metadata": {"type": "object"}}}})
    wid = new_id()
    put_stored(raw, unique_index, wid, {
        "workflow_id": wid, "state": "COMPLETED", "provisioning_progress": "DONE", "ui_metadata": {"type": "x"},
        "provision_start_time": 1707000000000, "provision_end_time": 1707000001000,
        "user": {"name": "bob", "backend_roles": [], "roles": [], "custom_attribute_names": [],
                 "user_requested_tenant": None},
        "resources_created": [MODEL]})
    body = fresh_client.get(STATUS.format(wid) + "?all=true").get_json()
    assert body["state"] == "COMPLETED"
    assert "ui_metadata" not in body
    assert body["user"]["name"] == "bob"
    assert body["resources_created"][0]["model_id"] == MODEL["resource_id"]
