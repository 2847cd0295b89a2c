"""Request ids, request metrics, the access log and ``GET /metrics``.

Every request gets an id (the caller's ``X-Request-Id`` or ``X-Opaque-Id``
when it is a sane token, else a fresh one), echoed in the ``X-Request-Id``
response header, written on every log line and sent to OpenSearch as
``X-Opaque-Id``.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from collections.abc import Callable

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST

from flowstatus.api.auth import requires
from flowstatus.api.components import components
from flowstatus.api.identity import current_caller
from flowstatus.api.openapi import documented
from flowstatus.domain.access import Permission
from flowstatus.observability import metrics
from flowstatus.observability.request_context import opaque_id, request_id

bp = Blueprint("observability", __name__)
access_log = logging.getLogger("flowstatus.access")

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "<unmatched>"


class _Ids:
    """New request ids: 32 hex digits, a random prefix per process and a counter.

    As unique as ``uuid4().hex`` across processes and restarts (the prefix is
    drawn again in each forked worker), without a system call per request.
    """

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def new(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_ids = _Ids()


def request_id_for(incoming: str | None) -> str:
    """The request's id: the caller's ``X-Request-Id`` (or ``X-Opaque-Id``) when it is a sane token, else a new one."""
    return incoming if incoming and _SANE_ID.match(incoming) else _ids.new()


def bind_request_id(incoming: str | None) -> tuple[str, Callable[[], None]]:
    """The request's id (:func:`request_id_for`), bound for the logs and, when it is the caller's, for
    OpenSearch (:data:`~flowstatus.observability.request_context.opaque_id`); and what unbinds both."""
    rid = request_id_for(incoming)
    bound, sent = request_id.set(rid), opaque_id.set(rid if rid == incoming else None)

    def unbind() -> None:
        opaque_id.reset(sent)
        request_id.reset(bound)

    return rid, unbind


def record(route: str, method: str, status: int, elapsed: float) -> None:
    """Count one answered request in the metrics and, when on, the access log."""
    label = metrics.method_label(method)
    metrics.HTTP_REQUESTS.labels(route, label, str(status)).inc()
    metrics.HTTP_LATENCY.labels(route, label).observe(elapsed)
    if access_log.isEnabledFor(logging.INFO):
        access_log.info("%s %s %s", method, route, status,
                        extra={"route": route, "method": method, "status": status,
                               "duration_ms": round(elapsed * 1000, 3)})


def _start() -> None:
    g.started = time.perf_counter()
    g.request_id, g.unbind_request_id = bind_request_id(
        request.headers.get("X-Request-Id") or request.headers.get("X-Opaque-Id"))


def _finish(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    record(route, request.method, response.status_code, time.perf_counter() - g.get("started", time.perf_counter()))
    response.headers["X-Request-Id"] = g.get("request_id", "")
    return response


def _end(exc: BaseException | None) -> None:
    unbind = g.pop("unbind_request_id", None)
    if unbind is not None:
        unbind()


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
