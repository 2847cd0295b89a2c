"""GET …/_status against a real node, point for point with the plugin."""

from __future__ import annotations

import json

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

# The three moments of the seed page, stored as the plugin stores them.
SEED_STORED = {
    "before": {"workflow_id": "8xL8bowB8y25Tqfenm50", "state": "NOT_STARTED",
               "provisioning_progress": "NOT_STARTED"},
    "during": {"workflow_id": "8xL8bowB8y25Tqfenm50", "state": "PROVISIONING",
               "provisioning_progress": "IN_PROGRESS", "provision_start_time": 1721933687578,
               "resources_created": [CONNECTOR]},
    "after": {"workflow_id": "8xL8bowB8y25Tqfenm50", "state": "COMPLETED",
              "provisioning_progress": "DONE", "provision_start_time": 1721933687578,
              "provision_end_time": 1721933687634, "resources_created": [CONNECTOR, MODEL]},
}
# The seed page's example responses, verbatim.
SEED_SHOWN = {
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
def test_the_seed_pages_three_examples(
    moment: str, client: FlaskClient, raw: OpenSearch, state_index: str
) -> None:
    put_stored(raw, state_index, "8xL8bowB8y25Tqfenm50", SEED_STORED[moment])
    response = client.get(STATUS.format("8xL8bowB8y25Tqfenm50"))
    assert response.status_code == 200
    assert response.content_type == "application/json; charset=UTF-8"
    body = response.get_json()
    assert contains(body, SEED_SHOWN[moment]), body
    # ...and exactly the plugin's short form, plus the seed key on each resource.
    assert list(body) == [k for k in ("workflow_id", "state", "resources_created") if k in body]
    for entry, stored in zip(body.get("resources_created", []), SEED_STORED[moment].get("resources_created", [])):
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
    assert body["user"] == {"name": "alice", "backend_roles": ["odfe"], "roles": ["all_access"],
                            "user_requested_tenant": None, "user_requested_tenant_access": None,
                            "custom_attribute_names": []}
    assert isinstance(body["provision_start_time"], int)
    short = client.get(STATUS.format(wid)).get_json()
    assert list(short) == ["workflow_id", "error", "state", "resources_created"]


@pytest.mark.parametrize("query, full", [("", False), ("?all=false", False), ("?all=true", True),
                                         ("?all", True), ("?all=", True), ("?all=%20", False)])
def test_all_parameter(query: str, full: bool, client: FlaskClient, raw: OpenSearch, state_index: str) -> None:
    wid = new_id()
    put_stored(raw, state_index, wid, {"workflow_id": wid, "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED"})
    body = client.get(STATUS.format(wid) + query).get_json()
    assert ("provisioning_progress" in body) is full


@pytest.mark.parametrize("value", ["TRUE", "1", "yes", "foo"])
def test_bad_all_values_get_opensearchs_nested_400(value: str, client: FlaskClient, state_index: str) -> None:
    response = client.get(STATUS.format(new_id()) + f"?all={value}")
    reason = f"Failed to parse value [{value}] as only [true] or [false] are allowed."
    assert response.status_code == 400
    assert response.get_json() == {
        "error": {"root_cause": [{"type": "illegal_argument_exception", "reason": reason}],
                  "type": "illegal_argument_exception", "reason": reason},
        "status": 400,
    }


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


@pytest.mark.parametrize(
    "query, reason",
    [("?foo=1", "contains unrecognized parameter: [foo]"),
     ("?al=true", "contains unrecognized parameter: [al] -> did you mean [all]?"),
     ("?alll&pretyy", "contains unrecognized parameters: [alll] -> did you mean [all]?, [pretyy] -> did you mean [pretty]?")],
)
def test_unknown_parameters(query: str, reason: str, client: FlaskClient, state_index: str) -> None:
    wid = new_id()
    response = client.get(STATUS.format(wid) + query)
    assert response.status_code == 400
    assert response.get_json()["error"]["reason"] == f"request [{STATUS.format(wid)}] {reason}"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_as_opensearch_words_it(method: str, client: FlaskClient) -> None:
    response = client.open(STATUS.format("abc") + "?all=true", method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.get_json() == {
        "error": f"Incorrect HTTP method for uri [{STATUS.format('abc')}?all=true] and method [{method}], allowed: [GET]",
        "status": 405,
    }


@pytest.mark.parametrize("path", ["/", "/_plugins/_flow_framework/workflow/abc", "/_plugins/_flow_framework/workflow//_status",
                                  "/_plugins/_flow_framework/workflow/abc/_status/extra"])
def test_unknown_routes_are_answered_in_json_as_opensearch_does(path: str, client: FlaskClient) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.get_json() == {"error": f"no handler found for uri [{path}] and method [GET]"}


def test_pretty(client: FlaskClient, raw: OpenSearch, state_index: str) -> None:
    wid = new_id()
    put_stored(raw, state_index, wid, SEED_STORED["during"] | {"workflow_id": wid})
    text = client.get(STATUS.format(wid) + "?pretty").get_data(as_text=True)
    assert text.startswith('{\n  "workflow_id" : "' + wid + '",\n')
    assert text.endswith("}\n")
    assert json.loads(text) == client.get(STATUS.format(wid)).get_json()
    errors = client.get(STATUS.format(new_id()) + "?pretty").get_data(as_text=True)
    assert errors.startswith('{\n  "error" : ')


def test_filter_path_human_and_error_trace(client: FlaskClient, raw: OpenSearch, state_index: str) -> None:
    wid = new_id()
    put_stored(raw, state_index, wid, SEED_STORED["after"] | {"workflow_id": wid})
    body = client.get(STATUS.format(wid) + "?filter_path=state,resources_created.resource_id").get_json()
    assert body == {"state": "COMPLETED", "resources_created": [{"resource_id": CONNECTOR["resource_id"]},
                                                                {"resource_id": MODEL["resource_id"]}]}
    plain = client.get(STATUS.format(wid)).get_json()
    assert client.get(STATUS.format(wid) + "?human=true&error_trace=true").get_json() == plain
    assert client.get(STATUS.format(wid) + "?human=maybe").status_code == 400
    # Errors are never filtered, as in OpenSearch.
    missing = client.get(STATUS.format(new_id()) + "?filter_path=state")
    assert "error" in missing.get_json()


def test_a_body_on_the_get_is_ignored(client: FlaskClient, raw: OpenSearch, state_index: str) -> None:
    wid = new_id()
    put_stored(raw, state_index, wid, SEED_STORED["before"] | {"workflow_id": wid})
    response = client.get(STATUS.format(wid), data=b'{"query": nonsense', content_type="application/json")
    assert response.status_code == 200
    assert response.get_json()["state"] == "NOT_STARTED"


@pytest.mark.parametrize("wid", ["x" * 513, "a%0Ab", "a%00b", "a%2Fb", "a%7Fb"])
def test_ids_opensearch_cannot_hold_get_a_400_not_an_opensearch_error(wid: str, client: FlaskClient, state_index: str) -> None:
    response = client.get(STATUS.format(wid))
    assert response.status_code == 400
    assert list(response.get_json()) == ["error"]
    assert response.get_json()["error"].startswith("workflow_id ")


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
