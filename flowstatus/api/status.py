"""``GET /_plugins/_flow_framework/workflow/<workflow_id>/_status``, as the plugin serves it.

Beyond the plugin, for pollers: every answer carries a strong ``ETag`` (304
on a matching ``If-None-Match``), and ``wait_for_completion_timeout`` turns
the request into a long poll that returns as soon as the workflow is
COMPLETED or FAILED, or, with ``If-None-Match``, as soon as it changes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from flowstatus.api import etag
from flowstatus.api.auth import requires
from flowstatus.api.components import components
from flowstatus.api.identity import current_caller
from flowstatus.api.openapi import BOOLEAN, RESPONSE_PARAMETERS, UNAVAILABLE, documented, error, json_content
from flowstatus.api.params import check_workflow_id, last, param_bool, parse_time_value, reject_unrecognized
from flowstatus.api.response import json_response, options
from flowstatus.domain.access import Permission
from flowstatus.domain.model import State
from flowstatus.domain.workflow_ids import MAX_ID_BYTES
from flowstatus.repository.port import Lookup, Versioned
from flowstatus.schemas.fast_state import render_status_fast
from flowstatus.schemas.responses import OpenSearchErrorSchema, PluginErrorSchema
from flowstatus.schemas.state import StatusSchema

bp = Blueprint("status", __name__)

STATUS_PATH = "/_plugins/_flow_framework/workflow/<workflow_id:workflow_id>/_status"
WAIT_PARAM = "wait_for_completion_timeout"
FINISHED = frozenset({State.COMPLETED.value, State.FAILED.value})

PARAMETERS: list[dict[str, Any]] = [
    {"name": "workflow_id", "in": "path", "required": True,
     "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_BYTES, "pattern": "^[^/\\x00-\\x1f\\x7f-\\x9f]+$"}},
    {"name": "all", "in": "query", "schema": BOOLEAN, "description": "All fields."},
    {"name": WAIT_PARAM, "in": "query",
     "schema": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(nanos|micros|ms|s|m|h|d)|0|-1)$"},
     "description": "Long poll: return when COMPLETED or FAILED (or, with If-None-Match, on any change)."},
    {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
    *RESPONSE_PARAMETERS,
]
RESPONSES = {
    "200": {"description": "The status", "content": json_content(StatusSchema),
            "headers": {"ETag": {"schema": {"type": "string"}}}},
    "304": {"description": "Unchanged since the given ETag"},
    "400": {"description": "Bad parameter or id",
            "content": json_content({"oneOf": [OpenSearchErrorSchema, PluginErrorSchema]})},
    "403": error("Not allowed to see this workflow"),
    "404": error("Unknown workflow or missing state index"),
    "502": error("Stored document not in the plugin's format"),
    "503": UNAVAILABLE,
}


@bp.get(STATUS_PATH)
@requires(Permission.READ, "cluster:admin/opensearch/flow_framework/workflow_state/get", "Failed to get workflow status.")
@documented("A workflow's provisioning status, as the Flow Framework plugin serves it.",
            parameters=PARAMETERS, responses=RESPONSES)
def get_workflow_status(workflow_id: str) -> Response:
    """The workflow's status; all fields with ``?all=true``.

    Parameters are checked in the plugin's order: ``all`` first, then unknown
    parameters, then the id.  A request body is ignored.
    """
    full = param_bool(request.args, "all")
    wait_value = last(request.args, WAIT_PARAM)
    wait = parse_time_value(wait_value, WAIT_PARAM) if wait_value is not None else 0.0
    reject_unrecognized(request.path, request.args, ("workflow_id", "all", WAIT_PARAM))
    check_workflow_id(workflow_id)
    opts = options()

    def tag_of(versioned: Versioned) -> str:
        return etag.status_etag(versioned, full=full, options=opts)

    reads = components().status_reads
    versioned = reads.read(workflow_id, current_caller())
    if wait != 0.0:
        cap = components().settings.long_poll_max
        timeout = cap if wait is None else min(wait, cap)
        client_tags = request.if_none_match  # captured: the watcher runs outside the request

        def settled(lookup: Lookup) -> bool:
            """Finished, gone or unreadable, or, for a client that sent its ETag, changed."""
            if not isinstance(lookup, Versioned) or lookup.state.state in FINISHED:
                return True
            return bool(client_tags) and not client_tags.contains_weak(tag_of(lookup))

        versioned = reads.wait(workflow_id, current_caller(), versioned, settled, timeout)
    tag = tag_of(versioned)
    if request.if_none_match.contains_weak(tag):
        return etag.not_modified(tag)
    return etag.tag(json_response(render_status_fast(versioned.state, full=full)), tag)
