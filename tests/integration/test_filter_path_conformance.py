"""flowstatus's filter_path gives what OpenSearch's own gives on the same JSON."""

from __future__ import annotations

import pytest
from opensearchpy import OpenSearch

from flowstatus.api.filter_path import apply
from tests.conftest import new_id

DOC = {
    "workflow_id": "w",
    "state": "COMPLETED",
    "user": {"name": "a", "roles": ["r1", "r2"], "nested": {"deep": 1, "other": 2}},
    "resources_created": [
        {"resource_type": "connector_id", "resource_id": "c", "workflow_step_id": "s1"},
        {"resource_type": "model_id", "resource_id": "m", "workflow_step_id": "s2"},
    ],
    "empty": [],
}

EXPRESSIONS = [
    "_source.state", "_source.user.name", "_source.user.*", "_source.resources_created.resource_id",
    "_source.**.deep", "_source.*_id", "_source.nothing", "-_source.user", "_source,-_source.user.nested.deep",
    "_source.resources_created,-**.resource_type", "**.roles", "_source.user.nested.*,_source.state", "_source.empty",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_same_result_as_opensearch(expression: str, raw: OpenSearch, state_index: str) -> None:
    wid = new_id()
    raw.index(index=state_index, id=wid, body=DOC)
    theirs = raw.get(index=state_index, id=wid, params={"filter_path": expression})
    ours = apply(raw.get(index=state_index, id=wid), expression)
    assert ours == theirs
