"""Liveness and readiness probes.  They reveal nothing beyond ready or not."""

from __future__ import annotations

from flask import Blueprint, Response

from flowstatus.api.auth import requires
from flowstatus.api.components import components
from flowstatus.api.openapi import documented, json_content
from flowstatus.api.response import json_response
from flowstatus.domain.access import Permission
from flowstatus.schemas.responses import ReadySchema

bp = Blueprint("health", __name__)


@bp.get("/_health")
@requires(Permission.PUBLIC, "health")
@documented("Liveness.", responses={"200": {"description": "Alive", "content": json_content(ReadySchema)}})
def health() -> Response:
    """200 while the process serves requests; never touches OpenSearch."""
    return json_response({"status": "ok"})


@bp.get("/_ready")
@requires(Permission.PUBLIC, "ready")
@documented("Readiness: a status read and an event write would succeed now.", responses={
    "200": {"description": "Ready", "content": json_content(ReadySchema)},
    "503": {"description": "Not ready", "content": json_content(ReadySchema)},
})
def ready() -> Response:
    """200 when a status read and an event write would succeed now (OpenSearch answers, the state
    index exists, its shard has the active copies reads and writes need, OpenSearch lets flowstatus's
    user read, search and write it), else 503 with the reason and Retry-After.  Reasons name what
    is missing, never a credential.  A verdict is reused for a second
    (:class:`~flowstatus.services.readiness.ReadinessCheck`)."""
    reason = components().readiness.reason()
    if reason is None:
        return json_response({"status": "ready"})
    retry_after = str(components().settings.retry_after)
    return json_response({"status": "not_ready", "reason": reason}, 503, {"Retry-After": retry_after})
