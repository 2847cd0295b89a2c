"""filter_path semantics (checked against OpenSearch itself in tests/integration)."""

from __future__ import annotations

import pytest

from flowstatus.api.filter_path import apply

DOC = {
    "workflow_id": "w",
    "state": "PROVISIONING",
    "user": {"name": "a", "roles": ["r"]},
    "resources_created": [
        {"resource_type": "connector_id", "resource_id": "c"},
        {"resource_type": "model_id", "resource_id": "m"},
    ],
}


@pytest.mark.parametrize(
    "expression, expected",
    [
        (None, DOC),
        ("", DOC),
        ("state", {"state": "PROVISIONING"}),
        ("workflow_id,state", {"workflow_id": "w", "state": "PROVISIONING"}),
        ("user.name", {"user": {"name": "a"}}),
        ("user.*", {"user": {"name": "a", "roles": ["r"]}}),
        ("resources_created.resource_id", {"resources_created": [{"resource_id": "c"}, {"resource_id": "m"}]}),
        ("**.name", {"user": {"name": "a"}}),
        ("*_id", {"workflow_id": "w"}),
        ("nothing", {}),
        ("-user", {k: v for k, v in DOC.items() if k != "user"}),
        ("-resources_created.resource_type,state", {"state": "PROVISIONING"}),
        ("resources_created,-**.resource_type", {"resources_created": [{"resource_id": "c"}, {"resource_id": "m"}]}),
    ],
)
def test_filter_path(expression: str | None, expected: dict) -> None:
    assert apply(DOC, expression) == expected
