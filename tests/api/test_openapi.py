"""The served OpenAPI description covers every route."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_route_is_described(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/_flowstatus/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = openapi_path(rule.rule)
        assert path in spec["paths"], f"{rule.rule} is not in the OpenAPI description"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {rule.rule} is not described"


def test_bodies_are_described_by_the_marshmallow_schemas(client: FlaskClient) -> None:
    schemas = client.get("/_flowstatus/openapi.json").get_json()["components"]["schemas"]
    assert list(schemas["Status"]["properties"])[:4] == ["workflow_id", "error", "state", "provisioning_progress"]
    event_kinds = {ref["$ref"].rsplit("/", 1)[1] for ref in schemas["Event"]["oneOf"]}
    assert {"ResourceCreatedEvent", "StepStartedEvent"} <= event_kinds and len(event_kinds) == 11
    assert schemas["ResourceCreatedEvent"]["properties"]["event"] == {"type": "string", "enum": ["resource_created"]}
    assert "workflow_step_name" in schemas["ResourceCreatedEvent"]["required"]
