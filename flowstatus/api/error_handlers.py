"""One place that turns every failure into the JSON OpenSearch or the plugin would send.

Views raise; nothing else builds an error body.  No exception escapes as a
500 with a stack trace: store outages become 503 with ``Retry-After``, a
corrupt stored document 502, anything unforeseen a logged 500 with a plain
message.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from flowstatus.api.components import components
from flowstatus.api.errors import (
    ApiError,
    IllegalArgument,
    OpenSearchAnswer,
    PluginError,
    StateIndexMissing,
)
from flowstatus.api.errors import MethodNotAllowed as OpenSearchMethodNotAllowed
from flowstatus.api.methods import IMPLIED
from flowstatus.api.response import json_response
from flowstatus.domain.search_scope import MissingTenant, SearchRefused
from flowstatus.repository.errors import (
    CorruptDocument,
    MappingConflict,
    SearchIndexMissing,
    SearchRejected,
    StoreAccessRefused,
    StoreError,
    StoreTLSError,
    StoreUnavailable,
)
from flowstatus.services.authentication import RepeatedProxyHeader
from flowstatus.services.status_reads import AccessDenied, WorkflowNotFound

log = logging.getLogger(__name__)


def _api_error(exc: ApiError) -> Response:
    return json_response(exc.body(), exc.status, exc.headers, filtered=False)


def _not_found(exc: NotFound) -> Response:
    # OpenSearch answers an unknown route with 400 and names the path only.
    return _api_error(
        PluginError(400, f"no handler found for uri [{request.path}] and method [{request.method}]")
    )


def _method_not_allowed(exc: MethodNotAllowed) -> Response:
    allowed = sorted(m for m in (exc.valid_methods or ()) if m not in IMPLIED)
    uri = request.full_path if request.query_string else request.path
    return _api_error(OpenSearchMethodNotAllowed(uri, request.method, allowed))


def _http_error(exc: HTTPException) -> Response:
    return _api_error(PluginError(exc.code or 400, exc.description or exc.name))


def as_api_error(exc: Exception, *, retry_after: int | None = None, where: str | None = None) -> ApiError:
    """What a client is told about a failure raised below the API: the plugin's or OpenSearch's answer.

    Store failures are logged here, once.  Anything not listed in
    :data:`TRANSLATED` is returned as a 500 (callers register it for those only).
    ``retry_after`` and ``where`` (``"METHOD /path"``, for the log) default to
    the current Flask request's; code that runs outside one passes them.
    """
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, WorkflowNotFound):
        return PluginError(404, _not_found_message(exc))
    if isinstance(exc, (AccessDenied, MissingTenant)):
        return PluginError(403, str(exc))
    if isinstance(exc, (SearchRefused, RepeatedProxyHeader)):
        return IllegalArgument(str(exc))
    if isinstance(exc, SearchIndexMissing):
        return StateIndexMissing(exc.index, exc.cause)
    if isinstance(exc, SearchRejected):
        return OpenSearchAnswer(exc.status, exc.body)
    if isinstance(exc, MappingConflict):
        # Writing would need a repair first (the index was created with dynamic mappings).
        log.error("%s", exc)
        return PluginError(503, "The state index's mapping is not the Flow Framework's; writes wait for "
                                "`flowstatus init-index --repair`", {"Retry-After": _retry_after(retry_after)})
    if isinstance(exc, (StoreAccessRefused, StoreTLSError)):
        # flowstatus's own access to OpenSearch, not the caller's: the caller can only retry later.
        log.warning("%s", exc)
        what = "refuses flowstatus access to the state index" if isinstance(exc, StoreAccessRefused) else (
            "cannot be reached over TLS")
        return PluginError(503, f"OpenSearch {what}; /_ready says why", {"Retry-After": _retry_after(retry_after)})
    if isinstance(exc, StoreUnavailable):
        log.warning("state store unavailable: %s", exc)
        return PluginError(503, "OpenSearch is unavailable, retry later", {"Retry-After": _retry_after(retry_after)})
    if isinstance(exc, CorruptDocument):
        # The store answered with a document the plugin's format does not allow:
        # an invalid upstream response, hence 502 rather than a 500.
        log.error("%s", exc)
        return PluginError(502, f"Failed to parse workflowState: {exc.workflow_id}")
    if isinstance(exc, StoreError):
        log.error("state store error: %s", exc)
        return PluginError(502, "OpenSearch failed to answer the request")
    log.exception("unhandled error on %s", where or f"{request.method} {request.path}")
    return PluginError(500, "Internal error")


def _retry_after(given: int | None) -> str:
    return str(components().settings.retry_after if given is None else given)


TRANSLATED = (ApiError, WorkflowNotFound, AccessDenied, MissingTenant, SearchRefused, RepeatedProxyHeader, StoreError)


def _not_found_message(exc: WorkflowNotFound) -> str:
    """The plugin words a missing state differently on its plain and its access-filtered path."""
    wid = exc.workflow_id
    if exc.filtered:
        return f"Failed to retrieve template ({wid})." if exc.index_missing else (
            f"Failed to retrieve template ({wid}) from global context.")
    return f"Failed to get workflow status of: {wid}" if exc.index_missing else f"Fail to find workflow status of {wid}"


def _translated(exc: Exception) -> Response:
    return _api_error(as_api_error(exc))


def _unexpected(exc: Exception) -> Response:
    return _api_error(as_api_error(exc))


def init_app(app: Flask) -> None:
    """Register the handlers on ``app`` (most specific class wins)."""
    for kind in TRANSLATED:
        app.register_error_handler(kind, _translated)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(MethodNotAllowed, _method_not_allowed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
