"""GET …/_status: flowstatus's own HTTP behaviour (parameters, rendering, errors), on the in-memory store."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from flowstatus.repository.memory import InMemoryStateRepository
from tests.api.conftest import put
from tests.conftest import new_id
from tests.integration.test_status_api import CONNECTOR, DOC_PAGE_STORED, MODEL, STATUS


@pytest.mark.parametrize("query, full", [("", False), ("?all=false", False), ("?all=true", True),
                                         ("?all", True), ("?all=", True), ("?all=%20", False)])
def test_all_parameter(query: str, full: bool, client: FlaskClient, store: InMemoryStateRepository) -> None:
    wid = new_id()
    put(store, wid, {"workflow_id": wid, "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED"})
    body = client.get(STATUS.format(wid) + query).get_json()
    assert ("provisioning_progress" in body) is full


@pytest.mark.parametrize("value", ["TRUE", "1", "yes", "foo"])
def test_bad_all_values_get_opensearchs_nested_400(value: str, client: FlaskClient) -> None:
    response = client.get(STATUS.format(new_id()) + f"?all={value}")
    reason = f"Failed to parse value [{value}] as only [true] or [false] are allowed."
    assert response.status_code == 400
    assert response.get_json() == {
        "error": {"root_cause": [{"type": "illegal_argument_exception", "reason": reason}],
                  "type": "illegal_argument_exception", "reason": reason},
        "status": 400,
    }


@pytest.mark.parametrize(
    "query, reason",
    [("?foo=1", "contains unrecognized parameter: [foo]"),
     ("?al=true", "contains unrecognized parameter: [al] -> did you mean [all]?"),
     ("?alll&pretyy", "contains unrecognized parameters: [alll] -> did you mean [all]?, [pretyy] -> did you mean [pretty]?")],
)
def test_unknown_parameters(query: str, reason: str, client: FlaskClient) -> None:
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


def test_pretty(client: FlaskClient, store: InMemoryStateRepository) -> None:
    wid = new_id()
    put(store, wid, DOC_PAGE_STORED["during"] | {"workflow_id": wid})
    text = client.get(STATUS.format(wid) + "?pretty").get_data(as_text=True)
    assert text.startswith('{\n  "workflow_id" : "' + wid + '",\n')
    assert text.endswith("}\n")
    assert json.loads(text) == client.get(STATUS.format(wid)).get_json()
    errors = client.get(STATUS.format(new_id()) + "?pretty").get_data(as_text=True)
    assert errors.startswith('{\n  "error" : ')


def test_filter_path_human_and_error_trace(client: FlaskClient, store: InMemoryStateRepository) -> None:
    wid = new_id()
    put(store, wid, DOC_PAGE_STORED["after"] | {"workflow_id": wid})
    body = client.get(STATUS.format(wid) + "?filter_path=state,resources_created.resource_id").get_json()
    assert body == {"state": "COMPLETED", "resources_created": [{"resource_id": CONNECTOR["resource_id"]},
                                                                {"resource_id": MODEL["resource_id"]}]}
    plain = client.get(STATUS.format(wid)).get_json()
    assert client.get(STATUS.format(wid) + "?human=true&error_trace=true").get_json() == plain
    assert client.get(STATUS.format(wid) + "?human=maybe").status_code == 400
    # Errors are never filtered, as in OpenSearch.
    missing = client.get(STATUS.format(new_id()) + "?filter_path=state")
    assert "error" in missing.get_json()


def test_a_body_on_the_get_is_ignored(client: FlaskClient, store: InMemoryStateRepository) -> None:
    wid = new_id()
    put(store, wid, DOC_PAGE_STORED["before"] | {"workflow_id": wid})
    response = client.get(STATUS.format(wid), data=b'{"query": nonsense', content_type="application/json")
    assert response.status_code == 200
    assert response.get_json()["state"] == "NOT_STARTED"


@pytest.mark.parametrize("wid", ["x" * 513, "a%0Ab", "a%00b", "a%2Fb", "a%7Fb"])
def test_ids_opensearch_cannot_hold_get_a_400_not_an_opensearch_error(wid: str, client: FlaskClient) -> None:
    response = client.get(STATUS.format(wid))
    assert response.status_code == 400
    assert list(response.get_json()) == ["error"]
    assert response.get_json()["error"].startswith("workflow_id ")
