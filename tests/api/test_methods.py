"""HEAD and OPTIONS on the plugin's routes are answered as OpenSearch answers them (not as Flask would)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from flowstatus.repository.memory import InMemoryStateRepository
from tests.api.conftest import put
from tests.conftest import new_id
from tests.integration.test_status_api import STATUS

SEARCH = "/_plugins/_flow_framework/workflow/state/_search"
ROUTES = [(STATUS.format("abc"), "GET"), (SEARCH, "GET,POST")]


@pytest.mark.parametrize("path, allowed", ROUTES)
def test_head_is_a_405_with_the_routes_methods(path: str, allowed: str, client: FlaskClient,
                                                store: InMemoryStateRepository) -> None:
    put(store, "abc", {"workflow_id": "abc", "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED"})
    response = client.head(path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert response.get_data() == b""


@pytest.mark.parametrize("path, allowed", ROUTES)
def test_options_is_an_empty_200_naming_the_routes_methods(path: str, allowed: str, client: FlaskClient) -> None:
    response = client.options(path)
    assert response.status_code == 200
    assert response.headers["Allow"] == allowed
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert response.get_data() == b""


def test_the_search_routes_405_names_both_methods(client: FlaskClient) -> None:
    response = client.put(SEARCH, json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET,POST"
    assert response.get_json()["error"].endswith("and method [PUT], allowed: [GET, POST]")


def test_flowstatus_own_routes_keep_head(client: FlaskClient, store: InMemoryStateRepository) -> None:
    put(store, new_id(), {"state": "NOT_STARTED"})
    assert client.head("/_health").status_code == 200
    assert client.head("/_flowstatus/ui").status_code == 200
