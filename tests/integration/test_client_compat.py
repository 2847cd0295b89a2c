"""Existing clients read flowstatus as they read the plugin."""

from __future__ import annotations

import pytest
from opensearchpy import NotFoundError, OpenSearch, RequestError

from tests.conftest import new_id
from tests.integration.conftest import put_stored


def test_opensearch_pys_flow_framework_client_reads_a_status(
    live_server: str, raw: OpenSearch, state_index: str
) -> None:
    wid = new_id()
    put_stored(raw, state_index, wid, {
        "workflow_id": wid, "state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
        "provision_start_time": 1721933687578,
        "resources_created": [{"workflow_step_name": "create_connector", "workflow_step_id": "c1",
                               "resource_type": "connector_id", "resource_id": "abc"}]})
    flowstatus = OpenSearch([live_server])
    status = flowstatus.plugins.flow_framework.get_status(workflow_id=wid)
    assert status["state"] == "PROVISIONING"
    assert status["resources_created"][0]["resource_id"] == "abc"
    full = flowstatus.plugins.flow_framework.get_status(workflow_id=wid, params={"all": "true"})
    assert full["provisioning_progress"] == "IN_PROGRESS"
    # opensearch-py sends a Python True as "True", which the plugin refuses too.
    with pytest.raises(RequestError) as refused:
        flowstatus.plugins.flow_framework.get_status(workflow_id=wid, params={"all": True})
    assert refused.value.error == "illegal_argument_exception"
    with pytest.raises(NotFoundError) as exc:
        flowstatus.plugins.flow_framework.get_status(workflow_id=new_id())
    assert exc.value.status_code == 404
