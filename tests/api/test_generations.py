"""The ``user`` flowstatus answers with follows the cluster's generation (the in-memory twin set to each).

A creator flowstatus takes from an authenticated caller, or from an event
that gives only part of a user, is stored and rendered with the keys, in the
order, of the cluster's plugin.  A user a plugin wrote keeps its own shape.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.domain.generation import Generation
from flowstatus.repository.memory import InMemoryStateRepository, in_memory_store
from flowstatus.settings import Settings
from tests.api.conftest import put
from tests.conftest import new_id

BULK = "/_flowstatus/_bulk"
CALLER = {"x-proxy-user": "alice", "x-proxy-roles": "all_access", "x-proxy-backend-roles": "odfe"}
OLDER_KEYS = ["name", "backend_roles", "roles", "custom_attribute_names", "user_requested_tenant"]
NEWEST_KEYS = ["name", "backend_roles", "roles", "user_requested_tenant", "user_requested_tenant_access",
               "custom_attribute_names"]
GENERATIONS = [((2, 19), OLDER_KEYS), ((3, 6), NEWEST_KEYS)]
IDS = ["2.19", "3.6"]


def serving(release: tuple[int, int]) -> tuple[FlaskClient, InMemoryStateRepository]:
    store, search = in_memory_store(generation=Generation(*release))
    app = create_app(Settings(proxy_trusted=("127.0.0.1/32",)), repository=store, search=search)
    return app.test_client(), store


def record(client: FlaskClient, *events: dict) -> None:
    body = "".join(json.dumps(event) + "\n" for event in events)
    answer = client.post(BULK, data=body, content_type="application/x-ndjson", headers=CALLER)
    assert answer.status_code == 200 and not answer.get_json()["errors"], answer.get_json()


def shown_user(client: FlaskClient, workflow_id: str) -> dict:
    answer = client.get(f"/_plugins/_flow_framework/workflow/{workflow_id}/_status?all=true", headers=CALLER)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return dict(answer.get_json()["user"])


@pytest.mark.parametrize("release, keys", GENERATIONS, ids=IDS)
def test_an_authenticated_creator_has_the_shape_of_the_clusters_plugin(
        release: tuple[int, int], keys: list[str]) -> None:
    client, store = serving(release)
    wid = new_id()
    record(client, {"event": "create", "workflow_id": wid})
    user = shown_user(client, wid)
    assert list(user) == keys and list(store.raw(wid)["user"]) == keys  # type: ignore[index]
    assert (user["name"], user["roles"], user["backend_roles"]) == ("alice", ["all_access"], ["odfe"])


@pytest.mark.parametrize("release, keys", GENERATIONS, ids=IDS)
def test_a_partial_event_user_has_the_shape_of_the_clusters_plugin(release: tuple[int, int], keys: list[str]) -> None:
    client, _ = serving(release)
    wid = new_id()
    record(client, {"event": "create", "workflow_id": wid, "user": {"name": "bob", "roles": ["r"]}})
    assert list(shown_user(client, wid)) == keys


@pytest.mark.parametrize("keys, release", [(OLDER_KEYS, (3, 6)), (NEWEST_KEYS, (2, 19))],
                         ids=["2.19-plugin-user-on-3.6", "3.6-plugin-user-on-2.19"])
def test_a_user_a_plugin_wrote_keeps_its_shape(keys: list[str], release: tuple[int, int]) -> None:
    # Written before an upgrade (or a downgrade) by the other generation's plugin.
    client, store = serving(release)
    wid = new_id()
    written = dict.fromkeys(keys) | {"name": "carol", "backend_roles": [], "roles": ["r"], "custom_attribute_names": []}
    put(store, wid, {"workflow_id": wid, "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED",
                     "user": written})
    record(client, {"event": "provision_started", "workflow_id": wid})
    assert shown_user(client, wid) == written and list(shown_user(client, wid)) == keys


def test_after_an_upgrade_new_creators_take_the_new_shape() -> None:
    client, store = serving((2, 19))
    before, after = new_id(), new_id()
    record(client, {"event": "create", "workflow_id": before})
    store.cluster_generation = Generation(3, 6, "3.6.0.0")
    record(client, {"event": "create", "workflow_id": after})
    assert list(shown_user(client, before)) == OLDER_KEYS
    assert list(shown_user(client, after)) == NEWEST_KEYS
