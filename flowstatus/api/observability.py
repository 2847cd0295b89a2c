"""Request ids, request metrics, the access log and ``GET /metrics``.

Every request gets an id (the caller's ``X-Request-Id`` or ``X-Opaque-Id``
when it is a sane token, else a fresh one), echoed in the ``X-Request-Id``
response header, written on every log line and sent to OpenSearch as
``X-Opaque-Id``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST

from flowstatus.api.auth import requires
from flowstatus.api.components import components
from flowstatus.api.identity import current_caller
from flowstatus.api.openapi import documented
from flowstatus.domain.access import Permission
from flowstatus.observability import metrics
from flowstatus.observability.request_context import request_id

bp = Blueprint("observability", __name__)
access_log = logging.getLogger("flowstatus.access")

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "<unmatched>"


def _start() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-Id") or request.headers.get("X-Opaque-Id") or ""
    g.request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
    g.request_id_token = request_id.set(g.request_id)


def _finish(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    method = metrics.method_label(request.method)
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    metrics.HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
    metrics.HTTP_LATENCY.labels(route, method).observe(elapsed)
    response.headers["X-Request-Id"] = g.get("request_id", "")
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "%s %s %s", request.method, route, response.status_code,
            extra={"route": route, "method": request.method, "status": response.status_code,
                   "duration_ms": round(elapsed * 1000, 3)},
        )
    return response


def _end(exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id.reset(token)


@bp.get("/metrics")
@requires(Permission.READ, "cluster:monitor/flowstatus/metrics")
@documented("Prometheus metrics.", responses={
    "200": {"description": "Text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}})
def prometheus() -> Response:
    """Prometheus text exposition of flowstatus's metrics, with the workflow metrics for who may see them.

    The workflow metrics describe every workflow (error lines, tenants).
    Where the plugin's access rules hide workflows from some callers
    (backend-role filtering, multi-tenancy), only ``all_access`` callers get
    them; with neither rule on (or no authentication), every caller does.
    """
    collector = components().workflow_metrics
    collectors = [collector] if collector is not None and _sees_every_workflow() else []
    return Response(metrics.exposition(*collectors), content_type=CONTENT_TYPE_LATEST)


def _sees_every_workflow() -> bool:
    policy = components().policy
    return current_caller().is_admin or not (policy.filter_by_backend_roles or policy.multi_tenancy)


def init_app(app: Flask) -> None:
    """Install the hooks first, so every request (even a refused one) is counted and tagged."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_end)
    app.register_blueprint(bp)
