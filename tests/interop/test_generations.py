"""Where the plugin's generations differ: flowstatus tells which one the node runs and answers as its plugin.

``make test`` runs this package on 2.19.6 and on 3.6.0; ``plugin_generation``
(conftest.py) says what the node's plugin does where versions differ.  The
FAILED ``error`` of each generation is checked in test_lifecycle.py, the
mapping in test_state_index.py.
"""

from __future__ import annotations

from typing import Any

from flowstatus.composition import Components
from flowstatus.domain.generation import Generation
from tests.interop.answers import AppEndpoint
from tests.interop.conftest import PluginGeneration
from tests.interop.events import record
from tests.interop.plugin import FF, STATE_INDEX, Plugin, status_path, unique


def test_flowstatus_tells_the_nodes_generation(components: Components, interop_version: str) -> None:
    major, minor, _ = (int(part) for part in interop_version.split("."))
    assert components.repository.generation() == Generation(major, minor, f"{interop_version}.0")


def test_the_plugin_answers_a_provision_as_its_generation_does(
        plugin: Plugin, plugin_generation: PluginGeneration) -> None:
    # flowstatus serves no provisioning; a provisioning engine that records events sees this answer.
    workflow_id = plugin.create(unique())
    answer = plugin.call("POST", f"{FF}/{workflow_id}/_provision")
    assert (answer.status, answer.json()) == (plugin_generation.provision_status, {"workflow_id": workflow_id})
    plugin.wait_until(workflow_id, "COMPLETED")


def test_a_user_flowstatus_builds_is_stored_and_rendered_as_the_plugin_does(
        plugin: Plugin, flowstatus: AppEndpoint, plugin_user: dict[str, Any]) -> None:
    # A partial user in an event (an authenticated creator takes the same path).
    workflow_id = unique("fs")
    record(flowstatus, {"event": "create", "workflow_id": workflow_id,
                        "user": {"name": "alice", "backend_roles": ["odfe"], "roles": ["all_access"]}})
    stored = plugin.ok("GET", f"/{STATE_INDEX}/_doc/{workflow_id}")["_source"]["user"]
    assert stored == plugin_user and list(stored) == list(plugin_user)
    path = status_path(workflow_id, "?all=true")
    ours, theirs = plugin.call("GET", path).json()["user"], flowstatus.call("GET", path).json()["user"]
    assert ours == theirs == plugin_user
    assert list(ours) == list(theirs) == list(plugin_user)
