"""``POST /_flowstatus/_bulk``: provisioning events as newline-delimited JSON.

Its own path prefix, so it can never collide with a Flow Framework route;
the plugin's status route keeps answering 405 to writes.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, request

from flowstatus.api.auth import requires
from flowstatus.api.body import request_body
from flowstatus.api.components import components
from flowstatus.api.errors import NotAcceptableContentType, OpenSearchError
from flowstatus.api.identity import current_caller
from flowstatus.api.openapi import (
    BAD_PARAMETER,
    NOT_ACCEPTABLE,
    RESPONSE_PARAMETERS,
    TOO_LARGE,
    UNAVAILABLE,
    documented,
    json_content,
)
from flowstatus.api.params import reject_unrecognized
from flowstatus.api.response import json_response
from flowstatus.domain.access import Permission
from flowstatus.schemas.bulk import LINE_OUTCOMES
from flowstatus.schemas.responses import BulkResponseSchema
from flowstatus.services.event_lines import apply_lines, numbered_lines

bp = Blueprint("events", __name__)

BULK_PATH = "/_flowstatus/_bulk"
CONTENT_TYPES = frozenset({"application/x-ndjson", "application/json"})


@bp.post(BULK_PATH)
@requires(Permission.WRITE, "cluster:admin/flowstatus/events/bulk")
@documented(
    "Record provisioning events (newline-delimited JSON, one event per line).",
    parameters=RESPONSE_PARAMETERS,
    request_body={"required": True, "content": {
        "application/x-ndjson": {"schema": {"type": "string"}},
        **json_content("Event"),
    }},
    responses={
        "200": {"description": "One result per line", "content": json_content(BulkResponseSchema)},
        "400": BAD_PARAMETER,
        "406": NOT_ACCEPTABLE,
        "413": TOO_LARGE,
        "503": UNAVAILABLE,
    },
)
def bulk() -> Response:
    """Apply the body's events in order per workflow; 200 with a per-line result.

    A body over the configured size gets 413 before anything is applied,
    whatever its framing (see :mod:`flowstatus.api.body`).
    """
    reject_unrecognized(request.path, request.args, ())
    if request.mimetype and request.mimetype not in CONTENT_TYPES:
        raise NotAcceptableContentType(request.headers.get("Content-Type", ""))
    started = time.monotonic()
    lines = numbered_lines(request_body())
    if not lines:
        raise OpenSearchError(400, "parse_exception", "request body is required")
    outcomes = apply_lines(components().indexer, lines, current_caller())
    return json_response(
        {
            "took": int((time.monotonic() - started) * 1000),
            "errors": not all(o.ok for o in outcomes),
            "items": LINE_OUTCOMES.dump(outcomes),
        }
    )
