"""The read-only status page: ``GET /_flowstatus/ui`` and ``GET /_flowstatus/ui/workflow/<id>``.

Every read goes through :func:`flowstatus.api.search.search_states`, so a
caller sees on the page exactly the workflows the search API shows them.
Errors are pages too, with the status the API would answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request

from flowstatus.api.auth import requires
from flowstatus.api.errors import ApiError
from flowstatus.api.identity import current_caller
from flowstatus.api.params import reject_unrecognized
from flowstatus.api.search import StateIndexMissing, search_states
from flowstatus.domain.access import Permission
from flowstatus.domain.model import State
from flowstatus.repository.errors import StoreError, StoreUnavailable
from flowstatus.ui import display
from flowstatus.ui.listing import (
    PageArgumentError,
    detail_body,
    parse_list_request,
    rows,
    state_counts,
    total,
    visible,
)

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
    html = render_template(template, now_ms=time.time_ns() // 1_000_000, refresh_ms=REFRESH_MS, **context)
    return Response(html, code, {**HEADERS, **(headers or {})}, content_type="text/html; charset=utf-8")


@bp.get(UI_PATH)
@requires(Permission.READ, "cluster:admin/opensearch/flow_framework/workflow_state/search")
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
        response = search_states(listing.search_body(), current_caller())
    except StateIndexMissing:
        response = {}
    counts = state_counts(response)
    return _page(
        "workflows.html",
        listing=listing,
        rows=rows(response),
        total=total(response),
        counts=counts,
        all_count=visible(response),
        last_page=listing.last_page(total(response)),
        index_missing=not response,
        refresh=counts.get(State.PROVISIONING.value, 0) > 0,
    )


@bp.get(UI_PATH + "/workflow/<workflow_id:workflow_id>")
@requires(Permission.READ, "cluster:admin/opensearch/flow_framework/workflow_state/search")
def workflow_detail(workflow_id: str) -> Response:
    """One workflow: every field, its resources, its full error; 404 if the caller cannot see it."""
    reject_unrecognized(request.path, request.args, ("workflow_id",))
    try:
        found = rows(search_states(detail_body(workflow_id), current_caller()))
    except StateIndexMissing:
        found = []
    if not found:
        return _page("error.html", 404, status=404, message=f"No workflow {workflow_id!r} is visible to you.")
    workflow = found[0]
    return _page("workflow.html", workflow=workflow, refresh=workflow.state == State.PROVISIONING.value)


def _message(exc: ApiError) -> str:
    error = exc.body().get("error")
    if isinstance(error, dict):
        return str(error.get("reason") or error.get("type") or "the request failed")
    return str(error)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return _page("error.html", exc.status, exc.headers, status=exc.status, message=_message(exc))


@bp.errorhandler(StoreUnavailable)
def _unavailable(exc: StoreUnavailable) -> Response:
    log.warning("state store unavailable: %s", exc)
    retry_after = str(current_app.extensions["flowstatus"].settings.retry_after)
    return _page(
        "error.html", 503, {"Retry-After": retry_after}, status=503, message="OpenSearch is unavailable, retry later"
    )


@bp.errorhandler(StoreError)
def _store_error(exc: StoreError) -> Response:
    log.error("state store error: %s", exc)
    return _page("error.html", 502, status=502, message="OpenSearch failed to answer the request")
