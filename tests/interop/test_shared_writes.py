"""The plugin and flowstatus writing the same workflow, each after the other.

The plugin's own writes (provision, deprovision, delete) keep working on a
state document flowstatus wrote, and flowstatus's events apply to a document
the plugin wrote, down to the plugin deprovisioning a resource flowstatus
recorded.  Both read every step alike.
"""

from __future__ import annotations

from typing import Any

from tests.interop.answers import AppEndpoint, assert_reads_alike
from tests.interop.events import record, resource
from tests.interop.plugin import Plugin, status_path, unique

QUERIES = ("", "?all=true")


def reads_alike(plugin: Plugin, flowstatus: AppEndpoint, workflow_id: str) -> dict[str, Any]:
    for query in QUERIES:
        answer = assert_reads_alike(plugin, flowstatus, status_path(workflow_id, query))
    return dict(answer.json())


def test_the_plugin_provisions_deprovisions_and_deletes_a_state_flowstatus_wrote(
        plugin: Plugin, flowstatus: AppEndpoint, plugin_user: dict[str, Any]) -> None:
    index = unique()
    workflow_id = plugin.create(index)
    # flowstatus replaces the plugin's document with its own, holding a creator.
    record(flowstatus, {"event": "deleted", "workflow_id": workflow_id},
           {"event": "create", "workflow_id": workflow_id, "user": plugin_user})
    assert reads_alike(plugin, flowstatus, workflow_id)["user"] == plugin_user

    plugin.provision(workflow_id)
    plugin.wait_until(workflow_id, "COMPLETED")
    completed = reads_alike(plugin, flowstatus, workflow_id)
    assert completed["user"] == plugin_user, "the plugin's partial updates keep what flowstatus wrote"
    assert [r["resource_id"] for r in completed["resources_created"]] == [index]

    plugin.deprovisioned(workflow_id, allow_delete=index)
    # A full deprovision resets the document with the caller as its user: none without security.
    assert reads_alike(plugin, flowstatus, workflow_id) == {
        "workflow_id": workflow_id, "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED"}
    plugin.delete(workflow_id)
    assert_reads_alike(plugin, flowstatus, status_path(workflow_id))


def test_the_plugin_deprovisions_a_resource_flowstatus_recorded_on_its_workflow(
        plugin: Plugin, flowstatus: AppEndpoint) -> None:
    index, extra = unique(), unique()
    workflow_id = plugin.provisioned(index)
    plugin.put_index(extra)
    record(flowstatus,
           {"event": "provision_started", "workflow_id": workflow_id, "reprovision": True},
           {"event": "resource_created", "workflow_id": workflow_id, **resource(extra, "create_index_2")},
           {"event": "provision_completed", "workflow_id": workflow_id})
    completed = reads_alike(plugin, flowstatus, workflow_id)
    assert completed["state"] == "COMPLETED"
    assert [r["resource_id"] for r in completed["resources_created"]] == [index, extra]

    plugin.deprovisioned(workflow_id, allow_delete=f"{index},{extra}")
    assert not plugin.index_exists(extra) and not plugin.index_exists(index)
    assert reads_alike(plugin, flowstatus, workflow_id)["state"] == "NOT_STARTED"

    # And flowstatus records a new run on the document the plugin reset.
    record(flowstatus, {"event": "provision_started", "workflow_id": workflow_id})
    assert reads_alike(plugin, flowstatus, workflow_id)["state"] == "PROVISIONING"
