"""The OpenAPI document, generated from what the routes declare.

Each view declares its operation with :func:`documented` beside its route;
:func:`build_spec` walks the app's URL map, so a route without a declaration
cannot go unnoticed (a test fails), and paths and methods always match the
routes.  Bodies are described by the marshmallow schemas that parse and
render them.  Served at ``GET /_flowstatus/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, Flask, Response, current_app
from marshmallow import Schema, fields

from flowstatus import __version__
from flowstatus.api.auth import requires
from flowstatus.api.response import json_response
from flowstatus.domain.access import Permission
from flowstatus.schemas.events import EventSchema
from flowstatus.schemas.responses import FlatStatusErrorSchema, OpenSearchErrorSchema, PluginErrorSchema
from flowstatus.schemas.state import EpochMillis, Resources

bp = Blueprint("openapi", __name__)

OPENAPI_PATH = "/_flowstatus/openapi.json"
F = TypeVar("F", bound=Callable[..., Any])
UNDOCUMENTED_ENDPOINTS = frozenset({"static"})  # the page's own script and stylesheet


def documented(summary: str, *, responses: dict[str, Any], parameters: list[dict[str, Any]] | None = None,
               request_body: dict[str, Any] | None = None) -> Callable[[F], F]:
    """Declare a view's OpenAPI operation (for every method its route takes)."""
    operation: dict[str, Any] = {"summary": summary, "parameters": [*(parameters or []), REQUEST_ID],
                                 "responses": responses}
    if request_body is not None:
        operation["requestBody"] = request_body

    def mark(view: F) -> F:
        view.openapi_operation = operation  # type: ignore[attr-defined]
        return view

    return mark


def json_content(schema: type[Schema] | str | dict[str, Any]) -> dict[str, Any]:
    """A JSON ``content`` object for a schema class, a component name or an inline schema."""
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return {"application/json": {"schema": schema}}


def error(description: str, schema: type[Schema] = PluginErrorSchema) -> dict[str, Any]:
    """A response whose body is one of the error shapes."""
    return {"description": description, "content": json_content(schema)}


def html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


OBJECT = {"type": "object"}
BOOLEAN = {"type": "string", "enum": ["", "true", "false"]}
UNAVAILABLE = {
    "description": "OpenSearch unreachable or too slow",
    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    "content": json_content(PluginErrorSchema),
}
TOO_LARGE = error("Body over FLOWSTATUS_MAX_BULK_BYTES")
NOT_ACCEPTABLE = error("Unsupported Content-Type", FlatStatusErrorSchema)
BAD_PARAMETER = error("Bad parameter", OpenSearchErrorSchema)
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


def _custom_fields(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    if isinstance(field, EpochMillis):
        return {"type": "integer", "description": "epoch milliseconds"}
    if isinstance(field, Resources):
        entry = {"type": "string"}
        return {"type": "array", "items": {"type": "object", "additionalProperties": entry,
                                           "required": ["workflow_step_name", "workflow_step_id",
                                                        "resource_type", "resource_id"]}}
    return {}


def _event_components(spec: APISpec) -> None:
    """One component per event kind, with its ``event`` discriminator, and ``Event`` as their union."""
    kinds = []
    for kind, event_schema in EventSchema.type_schemas.items():
        name = "".join(part.title() for part in kind.split("_")) + "Event"
        spec.components.schema(name, schema=event_schema)
        component = spec.components.schemas[name]
        component["properties"] = {"event": {"type": "string", "enum": [kind]}, **component["properties"]}
        component["required"] = ["event", *component.get("required", [])]
        kinds.append({"$ref": f"#/components/schemas/{name}"})
    spec.components.schema("Event", component={"oneOf": kinds})


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of ``app``.

    Raises ``LookupError`` naming a route whose view declares no operation.
    """
    marshmallow = MarshmallowPlugin()
    spec = APISpec(title="flowstatus", version=__version__, openapi_version="3.1.0",
                   plugins=[FlaskPlugin(), marshmallow])
    assert marshmallow.converter is not None  # set by APISpec(plugins=...)
    marshmallow.converter.add_attribute_function(_custom_fields)
    _event_components(spec)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        operation = getattr(view, "openapi_operation", None)
        if operation is None:
            raise LookupError(f"route {rule.rule} ({rule.endpoint}) declares no OpenAPI operation")
        methods = sorted(m.lower() for m in (rule.methods or set()) - {"HEAD", "OPTIONS"})
        spec.path(view=view, app=app, operations={m: dict(operation) for m in methods})
    return spec.to_dict()


_SPECS: WeakKeyDictionary[Flask, dict[str, Any]] = WeakKeyDictionary()


@bp.get(OPENAPI_PATH)
@requires(Permission.PUBLIC, "openapi")
@documented("This description.", responses={"200": {"description": "OpenAPI 3.1", "content": json_content(OBJECT)}})
def openapi() -> Response:
    """The OpenAPI description (built once per app)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app not in _SPECS:
        _SPECS[app] = build_spec(app)
    return json_response(_SPECS[app])
