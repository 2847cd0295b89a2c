"""The OpenAPI description of every route, generated from the marshmallow schemas.

Served at ``GET /_flowstatus/openapi.json``.  Bodies are described by the
same schemas that parse and render them; the fuzz tests check live answers
against this description, so it cannot drift from the code unnoticed.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response
from marshmallow import Schema, fields

from flowstatus import __version__
from flowstatus.api.auth import requires
from flowstatus.api.response import json_response
from flowstatus.domain.access import Permission
from flowstatus.domain.workflow_ids import MAX_ID_BYTES
from flowstatus.schemas.events import EventSchema
from flowstatus.schemas.state import EpochMillis, Resources, StatusSchema

bp = Blueprint("openapi", __name__)

OPENAPI_PATH = "/_flowstatus/openapi.json"


class PluginErrorSchema(Schema):
    """The plugin's error body."""

    error = fields.String(required=True)


class _Cause(Schema):
    type = fields.String(required=True)
    reason = fields.String(required=True)


class _NestedError(_Cause):
    root_cause = fields.List(fields.Nested(_Cause), required=True)


class OpenSearchErrorSchema(Schema):
    """OpenSearch's own error body (bad parameters)."""

    error = fields.Nested(_NestedError, required=True)
    status = fields.Integer(required=True)


class FlatStatusErrorSchema(Schema):
    """OpenSearch's 405/406 body."""

    error = fields.String(required=True)
    status = fields.Integer(required=True)


class _BulkItem(Schema):
    workflow_id = fields.String()
    line = fields.Integer()
    status = fields.Integer(required=True)
    result = fields.String(metadata={"enum": ["created", "updated", "deleted", "noop"]})
    _seq_no = fields.Integer(data_key="_seq_no")
    _primary_term = fields.Integer(data_key="_primary_term")
    error = fields.Nested(_Cause)


class BulkResponseSchema(Schema):
    """The bulk events answer: one item per line, keyed by the event kind (or ``invalid``)."""

    took = fields.Integer(required=True)
    errors = fields.Boolean(required=True)
    items = fields.List(fields.Dict(keys=fields.String(), values=fields.Nested(_BulkItem)), required=True)


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok", "ready", "not_ready"]})
    reason = fields.String()


def _custom_fields(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    if isinstance(field, EpochMillis):
        return {"type": "integer", "description": "epoch milliseconds"}
    if isinstance(field, Resources):
        entry = {"type": "string"}
        return {"type": "array", "items": {"type": "object", "additionalProperties": entry,
                                           "required": ["workflow_step_name", "workflow_step_id",
                                                        "resource_type", "resource_id"]}}
    return {}


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _error(description: str, schema: str = "PluginError") -> dict[str, Any]:
    return {"description": description, "content": _json(schema)}


UNAVAILABLE = {
    "description": "OpenSearch unreachable or too slow",
    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    "content": _json("PluginError"),
}

BOOLEAN = {"type": "string", "enum": ["", "true", "false"]}
# Every route takes the caller's request id (echoed, sent to OpenSearch as X-Opaque-Id).
REQUEST_ID = {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"},
              "description": "Your id for this request; an unsafe value is replaced by a generated one."}
RESPONSE_PARAMETERS = [
    {"name": "pretty", "in": "query", "schema": BOOLEAN, "description": "Indent the JSON."},
    {"name": "human", "in": "query", "schema": BOOLEAN, "description": "Accepted; no effect."},
    {"name": "error_trace", "in": "query", "schema": BOOLEAN, "description": "Accepted; no stack traces are sent."},
    {"name": "filter_path", "in": "query", "schema": {"type": "string"},
     "description": "OpenSearch's response filtering, e.g. `state,resources_created.resource_id`."},
]


def _paths() -> dict[str, dict[str, Any]]:
    status_parameters = [
        {"name": "workflow_id", "in": "path", "required": True,
         "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_BYTES, "pattern": "^[^/\\x00-\\x1f\\x7f-\\x9f]+$"}},
        {"name": "all", "in": "query", "schema": BOOLEAN, "description": "All fields."},
        {"name": "wait_for_completion_timeout", "in": "query",
         "schema": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(nanos|micros|ms|s|m|h|d)|0|-1)$"},
         "description": "Long poll: return when COMPLETED or FAILED (or, with If-None-Match, on any change)."},
        {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
        *RESPONSE_PARAMETERS,
    ]
    return {
        "/_plugins/_flow_framework/workflow/{workflow_id}/_status": {
            "get": {
                "summary": "A workflow's provisioning status, as the Flow Framework plugin serves it.",
                "parameters": status_parameters,
                "responses": {
                    "200": {"description": "The status", "content": _json("Status"),
                            "headers": {"ETag": {"schema": {"type": "string"}}}},
                    "304": {"description": "Unchanged since the given ETag"},
                    "400": {"description": "Bad parameter or id", "content": {"application/json": {"schema": {
                        "oneOf": [{"$ref": "#/components/schemas/OpenSearchError"},
                                  {"$ref": "#/components/schemas/PluginError"}]}}}},
                    "404": _error("Unknown workflow or missing state index"),
                    "502": _error("Stored document not in the plugin's format"),
                    "503": UNAVAILABLE,
                },
            }
        },
        "/_flowstatus/_bulk": {
            "post": {
                "summary": "Record provisioning events (newline-delimited JSON, one event per line).",
                "parameters": list(RESPONSE_PARAMETERS),
                "requestBody": {"required": True, "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"$ref": "#/components/schemas/Event"}},
                }},
                "responses": {
                    "200": {"description": "One result per line", "content": _json("BulkResponse")},
                    "400": _error("Empty body or bad parameter", "OpenSearchError"),
                    "406": _error("Unsupported Content-Type", "FlatStatusError"),
                    "413": _error("Body over FLOWSTATUS_MAX_BULK_BYTES"),
                    "503": UNAVAILABLE,
                },
            }
        },
        # -- paste into openapi._paths()'s returned dict --------------------------------
        "/_plugins/_flow_framework/workflow/state/_search": {
            method: {
                "summary": "Search workflow states with the query DSL, as the Flow Framework plugin does "
                           "(access filters applied; see the README).",
                "parameters": [
                    {"name": "source", "in": "query", "schema": {"type": "string"},
                     "description": "The search body as a parameter; only without a request body."},
                    {"name": "source_content_type", "in": "query",
                     "schema": {"type": "string", "enum": ["application/json", "application/x-ndjson"]},
                     "description": "Required with `source`."},
                    *RESPONSE_PARAMETERS,
                ],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": {"description": "OpenSearch's search response",
                            "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": _error("Refused or invalid search, or OpenSearch's own 400 body", "OpenSearchError"),
                    "403": _error("Multi-tenancy on and no tenant"),
                    "404": _error("State index missing", "OpenSearchError"),
                    "406": _error("Unsupported Content-Type", "FlatStatusError"),
                    "408": {"description": "Timed out; the partial search response",
                            "content": {"application/json": {"schema": {"type": "object"}}}},
                    "413": _error("Body over FLOWSTATUS_MAX_BULK_BYTES"),
                    "503": UNAVAILABLE,
                },
            }
            for method in ("get", "post")
        },
        "/_flowstatus/ui": {"get": {
            "summary": "The status page: workflows newest first, counts per state.",
            "parameters": [
                {"name": "state", "in": "query",
                 "schema": {"type": "string", "enum": ["", "NOT_STARTED", "PROVISIONING", "FAILED", "COMPLETED"]}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            ],
            "responses": {code: {"description": text, "content": {"text/html": {"schema": {"type": "string"}}}}
                          for code, text in [("200", "The page"), ("400", "Bad parameter"),
                                             ("403", "No tenant"), ("503", "OpenSearch unavailable")]},
        }},
        "/_flowstatus/ui/workflow/{workflow_id}": {"get": {
            "summary": "The status page of one workflow: its resources and full error.",
            "parameters": [{"name": "workflow_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {code: {"description": text, "content": {"text/html": {"schema": {"type": "string"}}}}
                          for code, text in [("200", "The page"), ("404", "Unknown or not visible"),
                                             ("503", "OpenSearch unavailable")]},
        }},
        "/_health": {"get": {"summary": "Liveness.", "responses": {"200": {"description": "Alive",
                                                                         "content": _json("Ready")}}}},
        "/_ready": {"get": {"summary": "Readiness: OpenSearch reachable and the state index present.",
                            "responses": {"200": {"description": "Ready", "content": _json("Ready")},
                                          "503": {"description": "Not ready", "content": _json("Ready")}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics.", "responses": {"200": {
            "description": "Text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        OPENAPI_PATH: {"get": {"summary": "This description.", "responses": {"200": {
            "description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    }


def build_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    plugin = MarshmallowPlugin()
    spec = APISpec(title="flowstatus", version=__version__, openapi_version="3.1.0", plugins=[plugin])
    assert plugin.converter is not None  # set by APISpec(plugins=...)
    plugin.converter.add_attribute_function(_custom_fields)
    for name, schema in [("Status", StatusSchema), ("PluginError", PluginErrorSchema),
                         ("OpenSearchError", OpenSearchErrorSchema), ("FlatStatusError", FlatStatusErrorSchema),
                         ("BulkResponse", BulkResponseSchema), ("Ready", ReadySchema)]:
        spec.components.schema(name, schema=schema)
    kinds = []
    for kind, event_schema in EventSchema.type_schemas.items():
        name = "".join(part.title() for part in kind.split("_")) + "Event"
        spec.components.schema(name, schema=event_schema)
        component = spec.components.schemas[name]
        component["properties"] = {"event": {"type": "string", "enum": [kind]}, **component["properties"]}
        component["required"] = ["event", *component.get("required", [])]
        kinds.append({"$ref": f"#/components/schemas/{name}"})
    spec.components.schema("Event", component={"oneOf": kinds})
    for path, operations in _paths().items():
        for operation in operations.values():
            operation.setdefault("parameters", []).append(REQUEST_ID)
        spec.path(path=path, operations=operations)
    return spec.to_dict()


_SPEC: dict[str, Any] | None = None


@bp.get(OPENAPI_PATH)
@requires(Permission.PUBLIC, "openapi")
def openapi() -> Response:
    """The OpenAPI description (built once per process)."""
    global _SPEC
    if _SPEC is None:
        _SPEC = build_spec()
    return json_response(_SPEC)
