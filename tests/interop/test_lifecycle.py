"""Workflows the plugin creates, provisions, fails, deprovisions and deletes: flowstatus answers ``_status`` alike.

At every stage the plugin's ``_status`` and ``_status?all=true`` and
flowstatus's are compared: status code, Content-Type, body and its key order,
with ``resources_created`` entries as maps and flowstatus's extra
``"<resource_type>": "<resource_id>"`` key accounted for.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.interop.answers import AppEndpoint, assert_reads_alike, poll
from tests.interop.conftest import PluginGeneration
from tests.interop.plugin import Plugin, status_path, unique

QUERIES = ("", "?all=true")


def reads_alike(plugin: Plugin, flowstatus: AppEndpoint, workflow_id: str) -> dict:
    """Both queries compared; the plugin's ``?all=true`` body."""
    for query in QUERIES:
        answer = assert_reads_alike(plugin, flowstatus, status_path(workflow_id, query))
    return dict(answer.json())


def test_a_provisioned_workflow_reads_alike_at_every_stage(plugin: Plugin, flowstatus: AppEndpoint) -> None:
    index = unique()
    workflow_id = plugin.create(index, delay="2s")
    assert reads_alike(plugin, flowstatus, workflow_id)["state"] == "NOT_STARTED"

    plugin.provision(workflow_id)  # the noop step holds it in PROVISIONING for 2 s
    provisioning = reads_alike(plugin, flowstatus, workflow_id)
    assert provisioning["state"] == "PROVISIONING" and "provision_start_time" in provisioning

    plugin.wait_until(workflow_id, "COMPLETED")
    completed = reads_alike(plugin, flowstatus, workflow_id)
    assert [r["resource_id"] for r in completed["resources_created"]] == [index]

    # Refused (the index needs allow_delete), yet it rewrites provision_end_time, after answering.
    refused = plugin.deprovision(workflow_id)
    assert refused.status == 403, refused.body
    assert refused.json() == {"error": f"These resources require the allow_delete parameter to deprovision: "
                                       f"[index_name {index}]."}
    plugin.wait_until(workflow_id, "COMPLETED")
    poll(lambda: plugin.status(workflow_id)["provision_end_time"],
         lambda end: end != completed["provision_end_time"], what="rewritten")
    assert reads_alike(plugin, flowstatus, workflow_id)["state"] == "COMPLETED"

    plugin.deprovisioned(workflow_id, allow_delete=index)
    assert reads_alike(plugin, flowstatus, workflow_id) == {
        "workflow_id": workflow_id, "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED"}
    assert not plugin.index_exists(index)

    plugin.delete(workflow_id)
    for query in QUERIES:
        gone = assert_reads_alike(plugin, flowstatus, status_path(workflow_id, query))
        assert gone.status == 404 and gone.json() == {"error": f"Fail to find workflow status of {workflow_id}"}


def test_a_failed_workflow_reads_alike_until_it_is_deleted(plugin: Plugin, flowstatus: AppEndpoint,
                                                           plugin_generation: PluginGeneration) -> None:
    index = unique()
    plugin.put_index(index)  # so that its create_index step fails
    workflow_id = plugin.provisioned(index)
    failed = reads_alike(plugin, flowstatus, workflow_id)
    assert failed["state"] == failed["provisioning_progress"] == "FAILED"
    # Each generation words it its own way; flowstatus shows what the plugin stored.
    assert plugin_generation.index_exists(index).fullmatch(failed["error"]), failed["error"]
    assert "resources_created" not in failed

    plugin.deprovisioned(workflow_id)  # nothing was created, so no allow_delete is needed
    assert "error" not in reads_alike(plugin, flowstatus, workflow_id)
    plugin.delete(workflow_id)
    assert_reads_alike(plugin, flowstatus, status_path(workflow_id))


@pytest.fixture(scope="module")
def completed(plugin: Plugin) -> Iterator[str]:
    """A COMPLETED workflow that created one index; deprovisioned and deleted afterwards."""
    index = unique()
    workflow_id = plugin.provisioned(index)
    yield workflow_id
    plugin.deprovisioned(workflow_id, allow_delete=index)
    plugin.delete(workflow_id)


@pytest.mark.parametrize("query", [
    # `all` as OpenSearch parses booleans: empty is true, whitespace the default.
    "?all", "?all=", "?all=%20", "?all=false", "?all=true&all=false",
    # Bad values and unknown parameters: OpenSearch's nested 400s; `all` is checked first.
    "?all=foo", "?all=TRUE", "?all=1", "?alll=true", "?foo=bar", "?foo=1&bar=2", "?all=foo&alll=true",
    # The common response parameters.
    "?all=true&filter_path=state,resources_created.resource_id", "?filter_path=-workflow_id",
    "?all=true&filter_path=**.resource_id", "?all=true&filter_path=resources_created.*", "?filter_path=nothing",
    "?all=true&filter_path=state&pretty", "?human=true&error_trace=false", "?pretty=foo",
])
def test_parameters_are_answered_alike(query: str, completed: str, plugin: Plugin, flowstatus: AppEndpoint) -> None:
    assert_reads_alike(plugin, flowstatus, status_path(completed, query))


@pytest.mark.parametrize("query", QUERIES)
def test_a_missing_workflow_is_answered_alike(query: str, completed: str, plugin: Plugin,
                                              flowstatus: AppEndpoint) -> None:
    # The state index exists (``completed`` is in it): the plugin's other 404 wording.
    missing = unique("missing")
    answer = assert_reads_alike(plugin, flowstatus, status_path(missing, query))
    assert answer.json() == {"error": f"Fail to find workflow status of {missing}"}
