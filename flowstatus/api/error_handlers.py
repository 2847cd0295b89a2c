"""One place that turns every failure into the JSON OpenSearch or the plugin would send.

Views raise; nothing else builds an error body.  No exception escapes as a
500 with a stack trace: store outages become 503 with ``Retry-After``, a
corrupt stored document 502, anything unforeseen a logged 500 with a plain
message.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from flowstatus.api.errors import ApiError, PluginError
from flowstatus.api.errors import MethodNotAllowed as OpenSearchMethodNotAllowed
from flowstatus.api.response import json_response
from flowstatus.repository.errors import CorruptDocument, StoreError, StoreUnavailable

log = logging.getLogger(__name__)


def _api_error(exc: ApiError) -> Response:
    return json_response(exc.body(), exc.status, exc.headers, filtered=False)


def _not_found(exc: NotFound) -> Response:
    # OpenSearch answers an unknown route with 400 and names the path only.
    return _api_error(
        PluginError(400, f"no handler found for uri [{request.path}] and method [{request.method}]")
    )


def _method_not_allowed(exc: MethodNotAllowed) -> Response:
    allowed = sorted(m for m in (exc.valid_methods or ()) if m not in ("HEAD", "OPTIONS"))
    uri = request.full_path if request.query_string else request.path
    return _api_error(OpenSearchMethodNotAllowed(uri, request.method, allowed))


def _http_error(exc: HTTPException) -> Response:
    return _api_error(PluginError(exc.code or 400, exc.description or exc.name))


def _unavailable(exc: StoreUnavailable) -> Response:
    log.warning("state store unavailable: %s", exc)
    retry_after = str(current_app.extensions["flowstatus"].settings.retry_after)
    return _api_error(
        PluginError(503, "OpenSearch is unavailable, retry later", {"Retry-After": retry_after})
    )


def _corrupt(exc: CorruptDocument) -> Response:
    # The store answered with a document the plugin's format does not allow:
    # an invalid upstream response, hence 502 rather than a 500.
    log.error("%s", exc)
    return _api_error(PluginError(502, f"Failed to parse workflowState: {exc.workflow_id}"))


def _store_error(exc: StoreError) -> Response:
    log.error("state store error: %s", exc)
    return _api_error(PluginError(502, "OpenSearch failed to answer the request"))


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _api_error(PluginError(500, "Internal error"))


def init_app(app: Flask) -> None:
    """Register the handlers on ``app`` (most specific class wins)."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(MethodNotAllowed, _method_not_allowed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StoreUnavailable, _unavailable)
    app.register_error_handler(CorruptDocument, _corrupt)
    app.register_error_handler(StoreError, _store_error)
    app.register_error_handler(Exception, _unexpected)
