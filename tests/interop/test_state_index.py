"""The state index: missing, made by ``flowstatus init-index``, made by the plugin, in both orders.

These tests delete the node's state index, so they run first in the package.
The plugin creates its indices lazily, on the first workflow created; it
checks that the index exists on each create, so an index deleted under the
running node is created again, with the plugin's mapping.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.composition import Components
from flowstatus.domain.events import Event, EventKind
from flowstatus.repository.opensearch_state import MAPPING, WRITE_ALIAS_SUFFIX
from flowstatus.repository.opensearch_steps import steps_index
from flowstatus.settings import Settings
from tests.interop.answers import AppEndpoint, assert_reads_alike, assert_search_alike
from tests.interop.conftest import PluginGeneration
from tests.interop.events import record
from tests.interop.plugin import FF, STATE_INDEX, Plugin, status_path, unique

pytestmark = pytest.mark.fresh_state_index

SEARCH = f"{FF}/state/_search"


def init_index(url: str) -> str:
    """Run ``flowstatus init-index`` against ``url`` (default state index); what it printed of the state index.

    The step-history companion outlives the state index these tests delete, so it is either made or found.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSTATUS_", "OPENSEARCH_"))}
    result = subprocess.run([sys.executable, "-m", "flowstatus", "init-index"], env={**env, "OPENSEARCH_URL": url},
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    state, steps = result.stdout.strip().split("; ")
    assert steps in (f"{steps_index(STATE_INDEX)}: created", f"{steps_index(STATE_INDEX)}: current"), result.stdout
    return state


def mapped(plugin: Plugin) -> set[str]:
    mapping = plugin.state_mapping()
    assert mapping["dynamic"] == "false" and mapping["_meta"] == {"schema_version": 4}, mapping
    return set(mapping["properties"])


def has_write_alias(plugin: Plugin) -> bool:
    """Whether the alias flowstatus writes through is on the state index."""
    return plugin.call("HEAD", f"/{STATE_INDEX}/_alias/{STATE_INDEX}{WRITE_ALIAS_SUFFIX}").status == 200


def test_a_missing_state_index_is_answered_alike(plugin: Plugin, flowstatus: AppEndpoint) -> None:
    plugin.delete_state_index()
    workflow_id = unique("missing")
    for query in ("", "?all=true"):
        answer = assert_reads_alike(plugin, flowstatus, status_path(workflow_id, query))
        assert answer.status == 404 and answer.json() == {"error": f"Failed to get workflow status of: {workflow_id}"}
    body = {"query": {"match_all": {}}}
    searched = plugin.call("POST", SEARCH, body)
    assert searched.status == 404 and searched.json()["error"]["type"] == "status_exception"
    assert_search_alike(searched, flowstatus.call("POST", SEARCH, body))


def generations_properties(generation: PluginGeneration) -> set[str]:
    """The properties of the state index mapping of ``generation``'s plugin."""
    return set(MAPPING["properties"]) - (set() if generation.maps_sharing else {"all_shared_principals"})


def test_init_index_makes_the_mapping_the_plugin_makes(plugin: Plugin, plugin_generation: PluginGeneration) -> None:
    plugin.delete_state_index()
    plugin.create(unique())
    plugins = plugin.state_mapping()
    assert set(plugins["properties"]) == generations_properties(plugin_generation)
    plugin.delete_state_index()
    assert init_index(plugin.url) == f"{STATE_INDEX}: created"
    assert plugin.state_mapping() == plugins


def test_the_plugin_works_in_the_index_init_index_made(plugin: Plugin, settings: Settings,
                                                       plugin_generation: PluginGeneration) -> None:
    plugin.delete_state_index()
    assert init_index(plugin.url) == f"{STATE_INDEX}: created"
    assert mapped(plugin) == generations_properties(plugin_generation) and has_write_alias(plugin)

    index = unique()
    workflow_id = plugin.provisioned(index)
    status = plugin.status(workflow_id)
    assert status["state"] == "COMPLETED" and status["resources_created"][0]["resource_id"] == index
    assert mapped(plugin) == generations_properties(plugin_generation), "the plugin kept flowstatus's mapping"
    flowstatus = AppEndpoint(_app(settings))
    for query in ("", "?all=true"):
        assert_reads_alike(plugin, flowstatus, status_path(workflow_id, query))

    written = unique("fs")
    Components(settings).indexer.record(Event(EventKind.CREATE, written))
    assert_reads_alike(plugin, flowstatus, status_path(written, "?all=true"))
    assert init_index(plugin.url) == f"{STATE_INDEX}: current"


def test_the_plugin_creates_a_deleted_index_again_and_init_index_accepts_it(
        plugin: Plugin, settings: Settings) -> None:
    plugin.delete_state_index()
    first = plugin.create(unique())
    plugin_made = mapped(plugin)

    # The mapping of the plugin of the cluster's generation is flowstatus's: nothing to add.
    assert init_index(plugin.url) == f"{STATE_INDEX}: current"
    assert mapped(plugin) == plugin_made and has_write_alias(plugin)

    flowstatus = AppEndpoint(_app(settings))
    assert_reads_alike(plugin, flowstatus, status_path(first, "?all=true"))
    plugin.provision(first)
    plugin.wait_until(first, "COMPLETED")
    for query in ("", "?all=true"):
        assert_reads_alike(plugin, flowstatus, status_path(first, query))


def _app(settings: Settings) -> FlaskClient:
    """A new app (so nothing is cached from before the index was replaced)."""
    return create_app(settings).test_client()


def test_flowstatus_writes_into_the_index_the_plugin_created_again(
        plugin: Plugin, flowstatus: AppEndpoint) -> None:
    record(flowstatus, {"event": "create", "workflow_id": unique("fs")})
    assert has_write_alias(plugin)
    plugin.delete_state_index()  # under both running writers
    created = plugin.create(unique())
    assert not has_write_alias(plugin)
    written = unique("fs")
    record(flowstatus, {"event": "create", "workflow_id": written}, {"event": "provision_started", "workflow_id": written})
    assert has_write_alias(plugin)
    for workflow_id in (created, written):
        assert_reads_alike(plugin, flowstatus, status_path(workflow_id, "?all=true"))
