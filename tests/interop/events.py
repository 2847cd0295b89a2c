"""Recording events through flowstatus's bulk route, as a provisioning engine does."""

from __future__ import annotations

import json
from typing import Any

from tests.interop.answers import Endpoint

BULK = "/_flowstatus/_bulk"


def record(flowstatus: Endpoint, *events: dict[str, Any]) -> list[dict[str, Any]]:
    """Send ``events`` in one bulk request; their results.  AssertionError if any was refused."""
    lines = b"".join(json.dumps(event).encode() + b"\n" for event in events)
    answer = flowstatus.call("POST", BULK, raw=lines, content_type="application/x-ndjson")
    assert answer.status == 200, answer.body
    body = answer.json()
    assert not body["errors"], body["items"]
    return [next(iter(item.values())) for item in body["items"]]


def resource(index: str, step_id: str = "create_index_1") -> dict[str, str]:
    """The fields of a ``resource_created``/``resource_deleted`` event for an index a step created."""
    return {"workflow_step_name": "create_index", "workflow_step_id": step_id,
            "resource_type": "index_name", "resource_id": index}
