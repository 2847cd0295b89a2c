"""flowstatus's filter_path gives what OpenSearch's own gives on the same JSON."""

from __future__ import annotations

import pytest
from opensearchpy import OpenSearch

from flowstatus.api.filter_path import apply

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
def test_same_result_as_opensearch(expression: str, raw: OpenSearch, unique_index: str) -> None:
    raw.index(index=unique_index, id="d", body=DOC, params={"refresh": "true"})
    theirs = raw.get(index=unique_index, id="d", params={"filter_path": expression})
    ours = apply(raw.get(index=unique_index, id="d"), expression)
    assert ours == theirs
