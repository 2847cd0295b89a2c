"""``GET /_plugins/_flow_framework/workflow/<workflow_id>/_status``, as the plugin serves it.

Beyond the plugin, for pollers: every answer carries a strong ``ETag`` (304
on a matching ``If-None-Match``), and ``wait_for_completion_timeout`` turns
the request into a long poll that returns as soon as the workflow is
COMPLETED or FAILED, or, with ``If-None-Match``, as soon as it changes.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, request

from flowstatus.api import etag
from flowstatus.api.auth import requires
from flowstatus.api.components import services
from flowstatus.api.errors import PluginError
from flowstatus.api.identity import current_caller
from flowstatus.api.params import (
    check_workflow_id,
    last,
    param_bool,
    parse_time_value,
    reject_unrecognized,
)
from flowstatus.api.response import json_response, options
from flowstatus.domain.access import Permission
from flowstatus.domain.model import State
from flowstatus.repository import Lookup, Versioned
from flowstatus.repository.errors import CorruptDocument, DocumentMissing, IndexMissing
from flowstatus.schemas.state import render_status
from flowstatus.services.long_poll import TIMED_OUT, TooManyWaiters

bp = Blueprint("status", __name__)

STATUS_PATH = "/_plugins/_flow_framework/workflow/<workflow_id:workflow_id>/_status"
WAIT_PARAM = "wait_for_completion_timeout"
FINISHED = frozenset({State.COMPLETED.value, State.FAILED.value})


@bp.get(STATUS_PATH)
@requires(Permission.READ, "cluster:admin/opensearch/flow_framework/workflow_state/get", "Failed to get workflow status.")
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

    versioned = _read(workflow_id)
    _check_access(workflow_id, versioned)
    if wait != 0.0:
        versioned = _long_poll(workflow_id, versioned, tag_of, wait)
    tag = tag_of(versioned)
    if request.if_none_match.contains_weak(tag):
        return etag.not_modified(tag)
    return etag.tag(json_response(render_status(versioned.state, full=full)), tag)


def _read(workflow_id: str) -> Versioned:
    """The state, or the 404 the plugin sends on its plain or its filtered path."""
    try:
        return services().repository.get(workflow_id)
    except DocumentMissing:
        if _filtered():
            raise PluginError(404, f"Failed to retrieve template ({workflow_id}) from global context.") from None
        raise _not_found(workflow_id) from None
    except IndexMissing:
        if _filtered():
            raise PluginError(404, f"Failed to retrieve template ({workflow_id}).") from None
        raise PluginError(404, f"Failed to get workflow status of: {workflow_id}") from None


def _filtered() -> bool:
    return services().policy.filtered(current_caller())


def _check_access(workflow_id: str, versioned: Versioned) -> None:
    refusal = services().policy.refusal(current_caller(), versioned.state, workflow_id)
    if refusal:
        raise PluginError(403, refusal.message)


def _not_found(workflow_id: str) -> PluginError:
    return PluginError(404, f"Fail to find workflow status of {workflow_id}")


def _long_poll(
    workflow_id: str, current: Versioned, tag_of: Callable[[Versioned], str], wait: float | None
) -> Versioned:
    """Wait (at most the configured cap) until the workflow finishes or, with If-None-Match, changes.

    Time running out is not an error: the current state is answered.  At the
    waiter cap the request is answered at once, as a plain poll.
    """
    settings = services().settings
    timeout = settings.long_poll_max if wait is None else min(wait, settings.long_poll_max)
    client_tags = request.if_none_match  # captured: the watcher runs outside the request

    def settled(lookup: Lookup) -> bool:
        if not isinstance(lookup, Versioned):
            return True  # gone or unreadable: let the request report it
        if lookup.state.state in FINISHED:
            return True
        return bool(client_tags) and not client_tags.contains_weak(tag_of(lookup))

    if settled(current) or timeout <= 0:
        return current
    try:
        found = services().watcher.wait(workflow_id, settled, timeout)
    except TooManyWaiters:
        return current
    if found is TIMED_OUT:
        return current
    if isinstance(found, CorruptDocument):
        raise found
    if found is None:
        raise _not_found(workflow_id)
    assert isinstance(found, Versioned)
    return found
