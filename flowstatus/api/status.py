"""``GET /_plugins/_flow_framework/workflow/<workflow_id>/_status``, as the plugin serves it."""

from __future__ import annotations

from flask import Blueprint, Response, request

from flowstatus.api.params import check_workflow_id, param_bool, reject_unrecognized
from flowstatus.api.response import json_response
from flowstatus.api.services import services
from flowstatus.errors import DocumentMissing, IndexMissing, PluginError
from flowstatus.schemas import render_status

bp = Blueprint("status", __name__)

STATUS_PATH = "/_plugins/_flow_framework/workflow/<workflow_id:workflow_id>/_status"


@bp.get(STATUS_PATH)
def get_workflow_status(workflow_id: str) -> Response:
    """The workflow's status; all fields with ``?all=true``.

    Parameters are checked in the plugin's order: ``all`` first, then unknown
    parameters, then the id.  A request body is ignored.
    """
    full = param_bool(request.args, "all")
    reject_unrecognized(request.path, request.args, ("workflow_id", "all"))
    check_workflow_id(workflow_id)
    try:
        versioned = services().repository.get(workflow_id)
    except DocumentMissing:
        raise PluginError(404, f"Fail to find workflow status of {workflow_id}") from None
    except IndexMissing:
        raise PluginError(404, f"Failed to get workflow status of: {workflow_id}") from None
    return json_response(render_status(versioned.state, full=full))
