"""``GET|POST /_plugins/_flow_framework/workflow/state/_search``, as the plugin serves it.

The search runs through :class:`~flowstatus.services.scoped_search.ScopedSearch`,
as the status page's do, so both show a caller exactly the same workflows.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Request, Response, request

from flowstatus.api.auth import requires
from flowstatus.api.body import request_body
from flowstatus.api.components import components
from flowstatus.api.errors import NotAcceptableContentType, OpenSearchError
from flowstatus.api.identity import current_caller
from flowstatus.api.openapi import (
    NOT_ACCEPTABLE,
    OBJECT,
    RESPONSE_PARAMETERS,
    TOO_LARGE,
    UNAVAILABLE,
    documented,
    error,
    json_content,
)
from flowstatus.api.params import last, reject_unrecognized
from flowstatus.api.response import json_response
from flowstatus.domain.access import Permission
from flowstatus.schemas.responses import OpenSearchErrorSchema

bp = Blueprint("search", __name__)

SEARCH_PATH = "/_plugins/_flow_framework/workflow/state/_search"
JSON_TYPES = frozenset({"application/json", "application/x-ndjson"})
SOURCE_PARAMS = ("source", "source_content_type")

_TOKENS = {list: "START_ARRAY", str: "VALUE_STRING", bool: "VALUE_BOOLEAN", int: "VALUE_NUMBER", float: "VALUE_NUMBER"}


@bp.route(SEARCH_PATH, methods=["GET", "POST"])
@requires(Permission.READ, "cluster:admin/opensearch/flow_framework/workflow_state/search")
@documented(
    "Search workflow states with the query DSL, as the Flow Framework plugin does (access filters applied; "
    "see docs/search.md).",
    parameters=[
        {"name": "source", "in": "query", "schema": {"type": "string"},
         "description": "The search body as a parameter; only without a request body."},
        {"name": "source_content_type", "in": "query", "schema": {"type": "string", "enum": sorted(JSON_TYPES)},
         "description": "Required with `source`."},
        *RESPONSE_PARAMETERS,
    ],
    request_body={"required": False, "content": json_content(OBJECT)},
    responses={
        "200": {"description": "OpenSearch's search response", "content": json_content(OBJECT)},
        "400": error("Refused or invalid search, or OpenSearch's own 400 body", OpenSearchErrorSchema),
        "403": error("Multi-tenancy on and no tenant"),
        "404": error("State index missing", OpenSearchErrorSchema),
        "406": NOT_ACCEPTABLE,
        "408": {"description": "Timed out; the partial search response", "content": json_content(OBJECT)},
        "413": TOO_LARGE,
        "503": UNAVAILABLE,
    },
)
def search_workflow_states() -> Response:
    """The search response; 408 with the same body when OpenSearch timed out, as the plugin answers.

    The body is read first and unknown parameters refused after, in
    OpenSearch's order; ``source`` and ``source_content_type`` count as
    consumed only when there is no body, as in OpenSearch.
    """
    body, from_source = read_body(request)
    reject_unrecognized(request.path, request.args, SOURCE_PARAMS if from_source else ())
    response = components().scoped_search.run(body, current_caller())
    return json_response(response, 408 if response.get("timed_out") else 200)


def read_body(req: Request) -> tuple[dict[str, Any], bool]:
    """The search body, from the request body or else the ``source`` parameter; whether it was the latter.

    Raises OpenSearch's errors: 406 for a body that is not JSON, 400
    ``parse_exception`` without either, 400 for a ``source`` without a JSON
    ``source_content_type`` (OpenSearch answers that one with a 500), and
    400 with the parser's reason for malformed JSON or a non-object.
    """
    raw = request_body()
    if raw:
        if req.mimetype not in JSON_TYPES:
            raise NotAcceptableContentType(req.headers.get("Content-Type", ""))
        return _parse(raw), False
    source = last(req.args, "source")
    if source is None:
        raise OpenSearchError(400, "parse_exception", "request body or source parameter is required")
    content_type = last(req.args, "source_content_type")
    if content_type is None:
        raise OpenSearchError(400, "illegal_state_exception", "source and source_content_type parameters are required")
    if content_type not in JSON_TYPES:
        raise OpenSearchError(400, "illegal_state_exception", f"Unknown value for source_content_type [{content_type}]")
    return _parse(source.encode()), True


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise OpenSearchError(400, "json_parse_exception", str(exc)) from None
    if not isinstance(body, dict):
        token = _TOKENS.get(type(body), "VALUE_NULL")
        raise OpenSearchError(400, "parsing_exception", f"Expected [START_OBJECT] but found [{token}]")
    return body
