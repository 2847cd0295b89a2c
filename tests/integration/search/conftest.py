"""A corpus of workflow states in a real node, and clients that search it as a given caller."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from flowstatus.domain.access import ANONYMOUS, Caller
from flowstatus.domain.model import User
from tests.integration.conftest import client_as, seeded_state_index

SEARCH = "/_plugins/_flow_framework/workflow/state/_search"
NOW = int(time.time() * 1000)
MINUTE = 60_000


def user(name: str, *backend_roles: str) -> dict[str, Any]:
    return {"name": name, "backend_roles": list(backend_roles), "roles": [], "custom_attribute_names": [],
            "user_requested_tenant": None}


def resource(step: str, step_id: str, kind: str, rid: str) -> dict[str, str]:
    return {"workflow_step_name": step, "workflow_step_id": step_id, "resource_type": kind, "resource_id": rid}


CONNECTOR = resource("create_connector", "create_connector_1", "connector_id", "c-1")
MODEL = resource("register_remote_model", "register_model_2", "model_id", "m-1")
INDEX = resource("create_index", "create_index_1", "index_name", "my-index")

# As the plugin stores them: alice and bob in tenants a and b, one workflow without a user.
CORPUS: dict[str, dict[str, Any]] = {
    "wf-done-a": {"workflow_id": "wf-done-a", "state": "COMPLETED", "provisioning_progress": "DONE",
                  "provision_start_time": NOW - 120 * MINUTE, "provision_end_time": NOW - 100 * MINUTE,
                  "user": user("alice", "team-a"), "resources_created": [CONNECTOR, MODEL], "tenant_id": "a"},
    "wf-failed-a": {"workflow_id": "wf-failed-a", "error": "WorkflowStepException during step create_index",
                    "state": "FAILED", "provisioning_progress": "FAILED",
                    "provision_start_time": NOW - 30 * MINUTE, "provision_end_time": NOW - 29 * MINUTE,
                    "user": user("alice", "team-a"), "resources_created": [INDEX], "tenant_id": "a"},
    "wf-failed-old-b": {"workflow_id": "wf-failed-old-b", "error": "old failure", "state": "FAILED",
                        "provisioning_progress": "FAILED", "provision_start_time": NOW - 300 * MINUTE,
                        "provision_end_time": NOW - 180 * MINUTE, "user": user("bob", "team-b"),
                        "resources_created": [], "tenant_id": "b"},
    "wf-running-b": {"workflow_id": "wf-running-b", "state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
                     "provision_start_time": NOW - 5 * MINUTE, "user": user("bob", "team-b"),
                     "resources_created": [CONNECTOR], "tenant_id": "b"},
    "wf-running-a": {"workflow_id": "wf-running-a", "state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
                     "provision_start_time": NOW - 90 * MINUTE, "user": user("alice", "team-a"), "tenant_id": "a"},
    "wf-new-b": {"workflow_id": "wf-new-b", "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED",
                 "user": user("carol", "team-b", "team-c"), "tenant_id": "b"},
    "wf-done-none": {"workflow_id": "wf-done-none", "state": "COMPLETED", "provisioning_progress": "DONE",
                     "provision_start_time": NOW - 60 * MINUTE, "provision_end_time": NOW - 59 * MINUTE,
                     "resources_created": [CONNECTOR, MODEL, INDEX]},
}
ALL = set(CORPUS)
BOBS = {"wf-failed-old-b", "wf-running-b", "wf-new-b"}

BOB = Caller(User("bob", backend_roles=("team-b",)), tenant_id="b")
NOBODY = Caller(User("nobody"), tenant_id="b")
ADMIN = Caller(User("root", roles=("all_access",)), tenant_id="a")


@pytest.fixture(scope="module")
def corpus(opensearch_url: str) -> Iterator[str]:
    """A state index holding exactly :data:`CORPUS`, for this module."""
    with seeded_state_index(opensearch_url, "search", CORPUS) as index:
        yield index


Searcher = Callable[..., FlaskClient]


@pytest.fixture
def searcher(opensearch_url: str, corpus: str) -> Searcher:
    """``searcher(caller, **settings)``: a client of an app on the corpus that sees every request as ``caller``."""

    def make(caller: Caller = ANONYMOUS, **overrides: Any) -> FlaskClient:
        return client_as(opensearch_url, corpus, caller, **overrides)

    return make


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {hit["_id"] for hit in response.get_json()["hits"]["hits"]}


def search(client: FlaskClient, body: dict[str, Any]) -> Any:
    return client.post(SEARCH, json=body)

