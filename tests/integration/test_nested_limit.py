"""The index's nested-objects limit, read from OpenSearch: one workflow at the limit fails alone."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from opensearchpy import OpenSearch

from flowstatus.app import create_app
from flowstatus.settings import Settings
from tests.conftest import new_id


def ndjson(*events: dict) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def test_a_workflow_at_the_limit_fails_alone_with_a_clear_4xx(fresh_settings: Settings, raw: OpenSearch) -> None:
    client: FlaskClient = create_app(fresh_settings).test_client()
    # The index is created by flowstatus with the plugin's mapping, then given a small limit.
    client.post("/_flowstatus/_bulk", data=ndjson({"event": "create", "workflow_id": "warm-up"}),
                content_type="application/x-ndjson")
    raw.indices.put_settings(index=fresh_settings.state_index, body={"index.mapping.nested_objects.limit": 10})
    client = create_app(fresh_settings).test_client()  # a new process reads the limit afresh
    hot, other = new_id("hot"), new_id("other")
    events: list[dict] = []
    for wid in (hot, other):
        events += [{"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid}]

    def resource(wid: str, n: int) -> dict:
        return {"event": "resource_created", "workflow_id": wid, "workflow_step_name": "create_index",
                "workflow_step_id": f"create_index_{n}", "resource_id": f"index-{n}"}

    events += [resource(hot, n) for n in range(12)] + [resource(other, n) for n in range(3)]
    answer = client.post("/_flowstatus/_bulk", data=ndjson(*events), content_type="application/x-ndjson")
    assert answer.status_code == 200
    items = [next(iter(i.values())) for i in answer.get_json()["items"]]
    statuses = [i["status"] for i in items]
    assert statuses[:4] == [201, 200, 201, 200]
    assert statuses[4:14] == [200] * 10 and statuses[14:16] == [400, 400]
    assert statuses[16:] == [200] * 3, "other workflows of the round are unaffected"
    error = items[14]["error"]
    assert error["type"] == "illegal_argument_exception"
    assert f"allowed limit of [10] for workflow [{hot}]" in error["reason"]
    stored = raw.get(index=fresh_settings.state_index, id=hot)["_source"]
    assert len(stored["resources_created"]) == 10
