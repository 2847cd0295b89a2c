"""The read-only status page: ``GET /_flowstatus/ui`` and ``GET /_flowstatus/ui/workflow/<id>``.

Every read goes through :class:`~flowstatus.services.scoped_search.ScopedSearch`,
as the search API's do, so a caller sees on the page exactly the workflows
the search API shows them.
Errors are pages too, with the status the API would answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request

from flowstatus.api.auth import requires
from flowstatus.api.components import components
from flowstatus.api.error_handlers import TRANSLATED, as_api_error
from flowstatus.api.errors import ApiError
from flowstatus.api.identity import current_caller
from flowstatus.api.openapi import documented, html
from flowstatus.api.params import reject_unrecognized
from flowstatus.domain.access import Caller, Permission
from flowstatus.domain.model import State, WorkflowState
from flowstatus.domain.steps import WorkflowSteps
from flowstatus.repository.errors import SearchIndexMissing, StoreError
from flowstatus.ui import display
from flowstatus.ui.listing import (
    MAX_SIZE,
    STATES,
    PageArgumentError,
    detail_body,
    loaded,
    parse_list_request,
    rows,
    state_counts,
    states_of,
    total,
    visible,
)
from flowstatus.ui.timeline import timeline

log = logging.getLogger(__name__)

UI_PATH = "/_flowstatus/ui"
# Milliseconds between refreshes while something is provisioning.
REFRESH_MS = 2000
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

# The script and stylesheet are served by the app's own ``static`` route
# (``flowstatus/static``, at ``/static/``).
bp = Blueprint("ui", __name__)


def init_app(app: Flask) -> None:
    """Register the page and its template filters on ``app``."""
    display.init_app(app)
    app.register_blueprint(bp)


def _page(template: str, code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Response:
    html = render_template(template, **{"now_ms": time.time_ns() // 1_000_000, "refresh_ms": REFRESH_MS, **context})
    return Response(html, code, {**HEADERS, **(headers or {})}, content_type="text/html; charset=utf-8")


@bp.get(UI_PATH)
@requires(Permission.READ, "cluster:admin/opensearch/flow_framework/workflow_state/search")
@documented(
    "The status page: workflows newest first, counts per state.",
    parameters=[
        {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["", *STATES]}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE}},
    ],
    responses={"200": html("The page"), "400": html("Bad parameter"), "403": html("No tenant"),
               "503": html("OpenSearch unavailable")},
)
def workflow_list() -> Response:
    """One page of workflows, newest first, optionally of one state, with counts per state.

    Parameters: ``state``, ``page`` (from 1), ``size`` (1-100, default 20).
    Refreshes itself while any workflow the caller sees is PROVISIONING.
    """
    reject_unrecognized(request.path, request.args, ("state", "page", "size"))
    try:
        listing = parse_list_request(request.args)
    except PageArgumentError as exc:
        return _page("error.html", 400, status=400, message=str(exc))
    try:
        response = _search(listing.search_body(), current_caller())
    except SearchIndexMissing:
        response = {}
    counts = state_counts(response)
    hits = loaded(response)
    running = _steps(states_of(hits, State.PROVISIONING.value))
    return _page(
        "workflows.html",
        running=running,
        listing=listing,
        rows=rows(hits),
        total=total(response),
        counts=counts,
        all_count=visible(response),
        last_page=listing.last_page(total(response)),
        index_missing=not response,
        refresh=counts.get(State.PROVISIONING.value, 0) > 0,
    )


@bp.get(UI_PATH + "/workflow/<workflow_id:workflow_id>")
@requires(Permission.READ, "cluster:admin/opensearch/flow_framework/workflow_state/search")
@documented(
    "The status page of one workflow: its step timeline, its resources and full error.",
    parameters=[{"name": "workflow_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    responses={"200": html("The page"), "404": html("Unknown or not visible"), "503": html("OpenSearch unavailable")},
)
def workflow_detail(workflow_id: str) -> Response:
    """One workflow: every field, its resources, its full error; 404 if the caller cannot see it."""
    reject_unrecognized(request.path, request.args, ("workflow_id",))
    try:
        response = _search(detail_body(workflow_id), current_caller())
    except SearchIndexMissing:
        response = {}
    hits = loaded(response)
    found = rows(hits)
    if not found:
        return _page("error.html", 404, status=404, message=f"No workflow {workflow_id!r} is visible to you.")
    workflow = found[0]
    now = time.time_ns() // 1_000_000
    every = _steps(states_of(hits))
    steps = every.get(workflow_id) if every else None
    return _page("workflow.html", now_ms=now, workflow=workflow, refresh=workflow.state == State.PROVISIONING.value,
                 steps=steps, steps_unavailable=every is None, timeline=timeline(steps, now) if steps else None)


def _steps(states: dict[str, WorkflowState]) -> dict[str, WorkflowSteps] | None:
    """The steps of workflows the caller already sees; ``None`` (logged) when they cannot be read now.

    The page still shows what the state index holds when the companion or
    template index cannot be read.
    """
    try:
        return components().step_reads.overview(states)
    except StoreError as exc:
        log.warning("steps could not be read for the status page: %s", exc)
        return None


def _search(body: dict[str, Any], caller: Caller) -> dict[str, Any]:
    return components().scoped_search.run(body, caller)


def _message(exc: ApiError) -> str:
    error = exc.body().get("error")
    if isinstance(error, dict):
        return str(error.get("reason") or error.get("type") or "the request failed")
    return str(error)


def _error_page(exc: Exception) -> Response:
    """The API's answer to the same failure, as a page."""
    answer = as_api_error(exc)
    return _page("error.html", answer.status, answer.headers, status=answer.status, message=_message(answer))


for _kind in TRANSLATED:
    bp.register_error_handler(_kind, _error_page)
