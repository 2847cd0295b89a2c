"""The stored format and the status rendering, field by field."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from flowstatus.domain.model import ResourceCreated, User, WorkflowState
from flowstatus.schemas.state import dump_state, load_state, render_status

CONNECTOR = {
    "workflow_step_name": "create_connector",
    "workflow_step_id": "create_connector_1",
    "resource_type": "connector_id",
    "resource_id": "NdjCQYwBLmvn802B0IwE",
}

# A document as a 3.3+ plugin stores it, keys in its order, security on.
STORED_3X = {
    "workflow_id": "K13IR5QBEpCfUu_-AQdU",
    "error": "WorkflowStepException during step create_index, boom, restStatus: BAD_REQUEST",
    "state": "FAILED",
    "provisioning_progress": "FAILED",
    "provision_start_time": 1710435961112,
    "provision_end_time": 1710435962001,
    "user": {
        "name": "alice",
        "backend_roles": ["odfe"],
        "roles": ["all_access", "own_index"],
        "user_requested_tenant": None,
        "user_requested_tenant_access": None,
        "custom_attribute_names": [],
    },
    "resources_created": [CONNECTOR],
    "tenant_id": "tenant-a",
    "all_shared_principals": ["user:one"],
}


def test_a_plugin_document_round_trips_byte_for_byte() -> None:
    assert dump_state(load_state(STORED_3X)) == STORED_3X
    assert list(dump_state(load_state(STORED_3X))) == list(STORED_3X)


@pytest.mark.parametrize(
    "source",
    [
        # 2.12/2.13: ui_metadata still a state field, user of the 2.x shape.
        {"workflow_id": "w", "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED",
         "ui_metadata": {"type": "Unknown"},
         "user": {"name": "bob", "backend_roles": [], "roles": [], "custom_attribute_names": [],
                  "user_requested_tenant": None}},
        # 2.14+: provision start writes an explicit empty list.
        {"workflow_id": "w", "state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
         "provision_start_time": 1721933687578, "resources_created": []},
        # schema_version inside a document, nulls where fields were cleared.
        {"workflow_id": "w", "state": "COMPLETED", "schema_version": 1, "error": None,
         "provisioning_progress": "DONE", "user_outputs": {}},
        # The sync-timeout fallback state, and times as the mapping's ISO form.
        {"workflow_id": "w", "state": "UNKNOWN", "provision_start_time": "2024-07-25T18:54:47.578Z"},
    ],
)
def test_documents_of_every_plugin_version_load(source: dict) -> None:
    state = load_state(source)
    assert state.workflow_id == "w"
    assert "ui_metadata" not in dump_state(state)
    assert "schema_version" not in dump_state(state)


def test_iso_times_load_as_epoch_millis() -> None:
    state = load_state({"provision_start_time": "2024-07-25T18:54:47.578Z"})
    assert state.provision_start_time == 1721933687578


def test_unknown_keys_from_a_newer_plugin_survive_a_rewrite() -> None:
    state = load_state({**STORED_3X, "provision_steps": [{"id": "a"}]})
    assert dump_state(state)["provision_steps"] == [{"id": "a"}]


# The user object of a 2.12 to 3.1 plugin (as the 2.19.6 plugin writes and renders it), and of 3.2.
USER_2X = {"name": "bob", "backend_roles": ["b"], "roles": ["r"], "custom_attribute_names": [],
           "user_requested_tenant": None}
USER_3_2 = {**USER_2X, "user_requested_tenant_access": None}


@pytest.mark.parametrize("user", [USER_2X, USER_3_2, STORED_3X["user"]], ids=["2.12-3.1", "3.2", "3.3+"])
def test_a_user_in_a_plugins_shape_is_rendered_and_rewritten_in_that_shape(user: dict) -> None:
    state = load_state({"workflow_id": "w", "user": user})
    for body in (render_status(state, full=True)["user"], dump_state(state)["user"]):
        assert body == user
        assert list(body) == list(user)


def test_any_other_user_gets_the_newest_shape() -> None:
    for user in ({"name": "bob"}, {"roles": ["r"], **USER_2X}, {"name": "bob", "backend_roles": []}):
        state = load_state({"user": user})
        assert list(render_status(state, full=True)["user"]) == list(STORED_3X["user"])
    assert list(dump_state(WorkflowState(user=User("alice")))["user"]) == list(STORED_3X["user"])
    assert load_state({"user": USER_2X}).user == User("bob", ("b",), ("r",)), "the shape takes no part in equality"
    assert dump_state(load_state({"user": {**USER_2X, "future_key": 1}}))["user"] == USER_2X, "unknown keys do not count"


def test_unknown_user_keys_are_ignored() -> None:
    state = load_state({"user": {"name": "a", "future_key": 1}})
    assert state.user == User("a")


@pytest.mark.parametrize(
    "source",
    [
        {"state": 5},
        {"provision_start_time": "yesterday"},
        {"provision_start_time": True},
        {"resources_created": [{"workflow_step_name": "x"}]},
        {"resources_created": "nope"},
        {"user": {"backend_roles": []}},
        {"user_outputs": {"k": 1}},
    ],
)
def test_malformed_documents_are_refused(source: dict) -> None:
    with pytest.raises(ValidationError):
        load_state(source)


def test_stored_form_omits_absent_and_empty_fields() -> None:
    assert dump_state(WorkflowState.fresh("w")) == {
        "workflow_id": "w",
        "state": "NOT_STARTED",
        "provisioning_progress": "NOT_STARTED",
    }


def test_short_status_has_only_the_four_fields_in_order() -> None:
    body = render_status(load_state(STORED_3X), full=False)
    assert list(body) == ["workflow_id", "error", "state", "resources_created"]


def test_full_status_keeps_the_plugin_key_order() -> None:
    body = render_status(load_state(STORED_3X), full=True)
    assert list(body) == list(STORED_3X)
    assert list(body["user"]) == list(STORED_3X["user"])
    assert body["user"]["user_requested_tenant"] is None


def test_each_resource_carries_the_plugin_keys_and_the_seed_key() -> None:
    body = render_status(load_state(STORED_3X), full=False)
    assert body["resources_created"] == [{**CONNECTOR, "connector_id": CONNECTOR["resource_id"]}]


def test_empty_lists_and_maps_never_render() -> None:
    state = WorkflowState(workflow_id="w", state="PROVISIONING", user_outputs={}, resources_created=())
    assert render_status(state, full=True) == {"workflow_id": "w", "state": "PROVISIONING"}


def test_a_resource_type_named_like_a_key_does_not_overwrite_it() -> None:
    odd = ResourceCreated("s", "s1", "resource_id", "x")
    body = render_status(WorkflowState(resources_created=(odd,)), full=False)
    assert body["resources_created"] == [
        {"workflow_step_name": "s", "workflow_step_id": "s1", "resource_type": "resource_id", "resource_id": "x"}
    ]
