"""Liveness and readiness probes.  They reveal nothing beyond ready or not."""

from __future__ import annotations

from flask import Blueprint, Response

from flowstatus.api.auth import requires
from flowstatus.api.components import components
from flowstatus.api.openapi import documented, json_content
from flowstatus.api.response import json_response
from flowstatus.domain.access import Permission
from flowstatus.repository.errors import StoreError
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
@documented("Readiness: OpenSearch reachable and the state index present.", responses={
    "200": {"description": "Ready", "content": json_content(ReadySchema)},
    "503": {"description": "Not ready", "content": json_content(ReadySchema)},
})
def ready() -> Response:
    """200 when OpenSearch answers and the state index exists, else 503 with Retry-After."""
    try:
        exists = components().repository.index_exists()
    except StoreError:
        reason = "OpenSearch is unavailable"
    else:
        if exists:
            return json_response({"status": "ready"})
        reason = "the state index does not exist"
    retry_after = str(components().settings.retry_after)
    return json_response({"status": "not_ready", "reason": reason}, 503, {"Retry-After": retry_after})
