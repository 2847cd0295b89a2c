"""Where flowstatus's ``_status`` differs from the plugin's by design: each difference, both answers.

docs/compatibility.md lists these differences and why they exist.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.answers import AppEndpoint, assert_reads_alike
from tests.interop.events import record, resource
from tests.interop.plugin import FF, Plugin, status_path, unique

# The ``user`` keys of the 2.19 plugin and of the 3.3+ plugin, each mapped to the other's.
OLDER_USER_KEYS = ("name", "backend_roles", "roles", "custom_attribute_names", "user_requested_tenant")
NEWEST_USER_KEYS = ("name", "backend_roles", "roles", "user_requested_tenant", "user_requested_tenant_access",
                    "custom_attribute_names")
OTHER_GENERATIONS_USER_KEYS = {OLDER_USER_KEYS: list(NEWEST_USER_KEYS), NEWEST_USER_KEYS: list(OLDER_USER_KEYS)}


def parse_failure(workflow_id: str) -> dict[str, str]:
    return {"error": f"Failed to parse workflowState: {workflow_id}"}


def test_difference_each_resource_also_carries_a_key_named_after_its_type(
        plugin: Plugin, flowstatus: AppEndpoint) -> None:
    index = unique()
    workflow_id = plugin.provisioned(index)
    entry = {"workflow_step_name": "create_index", "workflow_step_id": "create_index_1",
             "resource_type": "index_name", "resource_id": index}
    for query in ("", "?all=true"):
        assert plugin.call("GET", status_path(workflow_id, query)).json()["resources_created"] == [entry]
        ours = flowstatus.call("GET", status_path(workflow_id, query)).json()["resources_created"]
        assert ours == [{**entry, "index_name": index}]
    plugin.deprovisioned(workflow_id, allow_delete=index)


def test_difference_an_unreadable_document_is_a_502_where_the_plugin_answers_500(
        plugin: Plugin, flowstatus: AppEndpoint) -> None:
    # Neither can read it (a user output must be a string or an object of strings).
    workflow_id = unique("seed")
    plugin.store(workflow_id, {"workflow_id": workflow_id, "state": "COMPLETED", "user_outputs": {"k": 5}})
    ours, theirs = plugin.call("GET", status_path(workflow_id)), flowstatus.call("GET", status_path(workflow_id))
    assert (ours.status, ours.json()) == (500, parse_failure(workflow_id))
    assert (theirs.status, theirs.json()) == (502, parse_failure(workflow_id))


@pytest.mark.parametrize("extra, shown", [
    ({"schema_version": 4}, {}),  # in the mapping, written by some tools, never a state key
    ({"ui_metadata": {"type": "Unknown"}}, {}),  # a state key up to 2.13
    ({"provision_steps": [{"id": "a"}]}, {}),  # a key of some future plugin
    ({"error": None}, {}),  # a cleared field
    ({"provision_start_time": "2024-01-01T00:00:00.000Z"}, {"provision_start_time": 1704067200000}),
], ids=["schema_version", "ui_metadata", "future-key", "null", "iso-time"])
def test_difference_documents_the_plugin_cannot_parse_but_other_writers_wrote_are_read(
        extra: dict[str, Any], shown: dict[str, Any], plugin: Plugin, flowstatus: AppEndpoint) -> None:
    workflow_id = unique("seed")
    plugin.store(workflow_id, {"workflow_id": workflow_id, "state": "COMPLETED", "provisioning_progress": "DONE",
                               **extra})
    path = status_path(workflow_id, "?all=true")
    ours, theirs = plugin.call("GET", path), flowstatus.call("GET", path)
    assert (ours.status, ours.json()) == (500, parse_failure(workflow_id))
    assert (theirs.status, theirs.json()) == (200, {"workflow_id": workflow_id, "state": "COMPLETED",
                                                    "provisioning_progress": "DONE", **shown})


LEGACY = {"workflow_step_name": "create_connector", "workflow_step_id": "c1", "connector_id": "abc"}
NUMERIC = {"workflow_step_name": "create_index", "workflow_step_id": "c1", "resource_type": "index_name",
           "resource_id": 5}
FIVE_KEYS = {"workflow_step_name": "create_index", "workflow_step_id": "c1", "resource_type": "index_name",
             "resource_id": "abc", "note": "x"}


@pytest.mark.parametrize("entry, plugin_shows, flowstatus_shows", [
    (LEGACY, LEGACY, None),
    (NUMERIC, {**NUMERIC, "resource_id": "5"}, None),
    (FIVE_KEYS, FIVE_KEYS, {**FIVE_KEYS, "note": None}),
], ids=["legacy-shape", "number", "fifth-key"])
def test_difference_resources_are_read_only_with_the_four_string_keys(
        entry: dict[str, Any], plugin_shows: dict[str, Any], flowstatus_shows: dict[str, Any] | None,
        plugin: Plugin, flowstatus: AppEndpoint) -> None:
    workflow_id = unique("seed")
    plugin.store(workflow_id, {"workflow_id": workflow_id, "state": "COMPLETED", "resources_created": [entry]})
    ours, theirs = plugin.call("GET", status_path(workflow_id)), flowstatus.call("GET", status_path(workflow_id))
    assert (ours.status, ours.json()["resources_created"]) == (200, [plugin_shows])
    if flowstatus_shows is None:
        assert (theirs.status, theirs.json()) == (502, parse_failure(workflow_id))
    else:
        shown = {k: v for k, v in flowstatus_shows.items() if v is not None} | {"index_name": "abc"}
        assert (theirs.status, theirs.json()["resources_created"]) == (200, [shown])


def test_difference_a_reprovision_clears_the_old_error(plugin: Plugin, flowstatus: AppEndpoint) -> None:
    # The plugin means to clear it, but its partial update cannot remove a key.
    taken = unique()
    plugin.put_index(taken)
    workflow_id = plugin.provisioned(taken)
    error = plugin.status(workflow_id)["error"]
    plugin.ok("DELETE", f"/{taken}")
    plugin.reprovision(workflow_id, taken)
    kept = plugin.wait_until(workflow_id, "COMPLETED")
    assert kept["error"] == error
    assert_reads_alike(plugin, flowstatus, status_path(workflow_id, "?all=true"))  # the same document, read alike

    written = unique("fs")
    record(flowstatus, {"event": "create", "workflow_id": written}, {"event": "provision_started", "workflow_id": written},
           {"event": "provision_failed", "workflow_id": written, "error": error},
           {"event": "provision_started", "workflow_id": written, "reprovision": True},
           {"event": "resource_created", "workflow_id": written, **resource(unique())},
           {"event": "provision_completed", "workflow_id": written})
    cleared = assert_reads_alike(plugin, flowstatus, status_path(written, "?all=true")).json()
    assert cleared["state"] == "COMPLETED" and "error" not in cleared


def test_difference_no_template_routes(plugin: Plugin, flowstatus: AppEndpoint) -> None:
    # Without an id the path is the plugin's get-workflow (template) route, which flowstatus does not serve.
    path = f"{FF}/_status"
    ours, theirs = plugin.call("GET", path), flowstatus.call("GET", path)
    assert (ours.status, ours.json()) == (404, {"error": "Failed to retrieve template (_status) from global context."})
    assert (theirs.status, theirs.json()) == (400, {"error": f"no handler found for uri [{path}] and method [GET]"})


def test_difference_long_polls_and_etags(plugin: Plugin, flowstatus: AppEndpoint) -> None:
    workflow_id = plugin.create(unique())
    path = status_path(workflow_id, "?wait_for_completion_timeout=1ms")
    ours, theirs = plugin.call("GET", path), flowstatus.call("GET", path)
    assert ours.status == 400 and "unrecognized parameter: [wait_for_completion_timeout]" in ours.body.decode()
    assert theirs.status == 200 and theirs.json()["state"] == "NOT_STARTED"
    assert "etag" not in plugin.call("GET", status_path(workflow_id)).headers
    assert flowstatus.call("GET", status_path(workflow_id)).headers["etag"]
    # A near miss of flowstatus's parameter gets flowstatus's own hint.
    near = status_path(workflow_id, "?wait_for_completion_timeouts=1s")
    assert plugin.call("GET", near).json()["error"]["reason"].endswith("[wait_for_completion_timeouts]")
    assert flowstatus.call("GET", near).json()["error"]["reason"].endswith("did you mean [wait_for_completion_timeout]?")


def test_difference_a_user_the_other_generations_plugin_wrote_keeps_its_shape(
        plugin: Plugin, flowstatus: AppEndpoint, plugin_user: dict[str, Any]) -> None:
    # As a document from before an upgrade (or a downgrade) holds it.
    other = OTHER_GENERATIONS_USER_KEYS[tuple(plugin_user)]
    workflow_id = unique("seed")
    stored = {key: plugin_user.get(key) for key in other}
    plugin.store(workflow_id, {"workflow_id": workflow_id, "state": "NOT_STARTED",
                               "provisioning_progress": "NOT_STARTED", "user": stored})
    path = status_path(workflow_id, "?all=true")
    ours, theirs = plugin.call("GET", path).json()["user"], flowstatus.call("GET", path).json()["user"]
    assert list(ours) == list(plugin_user) and list(theirs) == other
    assert all(ours.get(key) == value for key, value in theirs.items()), "the same values"
