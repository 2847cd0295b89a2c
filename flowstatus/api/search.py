"""``GET|POST /_plugins/_flow_framework/workflow/state/_search``, as the plugin serves it.

:func:`search_states` is the one way flowstatus searches workflow states on
behalf of a caller: this route and the status page both go through it, so
both show a caller exactly the same workflows.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Flask, Request, Response, current_app, request

from flowstatus.api.auth import requires
from flowstatus.api.components import services
from flowstatus.api.errors import ApiError, IllegalArgument, NotAcceptableContentType, OpenSearchError, PluginError
from flowstatus.api.identity import current_caller
from flowstatus.api.params import last, reject_unrecognized
from flowstatus.api.response import json_response
from flowstatus.domain.access import Caller, Permission
from flowstatus.domain.search_scope import MissingTenant, SearchRefused, restrict, scope_for
from flowstatus.repository.opensearch_search import SearchIndexMissing, SearchRejected, StateSearch
from flowstatus.settings import Settings

bp = Blueprint("search", __name__)

SEARCH_PATH = "/_plugins/_flow_framework/workflow/state/_search"
EXTENSION_KEY = "flowstatus.search"
JSON_TYPES = frozenset({"application/json", "application/x-ndjson"})
SOURCE_PARAMS = ("source", "source_content_type")

_TOKENS = {list: "START_ARRAY", str: "VALUE_STRING", bool: "VALUE_BOOLEAN", int: "VALUE_NUMBER", float: "VALUE_NUMBER"}


class OpenSearchAnswer(ApiError):
    """An error body OpenSearch itself sent, passed on unchanged."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"OpenSearch answered {status}")
        self.status = status
        self._body = body

    def body(self) -> dict[str, Any]:
        return self._body


class StateIndexMissing(ApiError):
    """The plugin's answer (SDK 2.19.2+ and 3.x) to a search of a missing state index."""

    status = 404

    def __init__(self, index: str, cause: dict[str, Any]) -> None:
        super().__init__(index)
        self.reason = f"Failed to search indices [{index}]"
        self.cause = cause

    def body(self) -> dict[str, Any]:
        root_cause = self.cause.get("root_cause") or [self.cause]
        cause = {k: v for k, v in self.cause.items() if k != "root_cause"}
        error = {"root_cause": root_cause, "type": "status_exception", "reason": self.reason, "caused_by": cause}
        return {"error": error, "status": 404}


def init_app(app: Flask, settings: Settings) -> None:
    """Give ``app`` its state search (sharing the repository's client) and register the route."""
    repository = app.extensions["flowstatus"].repository
    app.extensions[EXTENSION_KEY] = StateSearch.from_settings(settings, repository)
    app.register_blueprint(bp)


def search_states(body: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """OpenSearch's response to ``body``, searched as ``caller`` may search.

    Raises :class:`~flowstatus.api.errors.ApiError` subclasses carrying the
    plugin's answers: 400 for a refused or invalid search (OpenSearch's own
    body when OpenSearch refused it), 403 without a tenant under
    multi-tenancy, 404 :class:`StateIndexMissing`.  Store outages raise
    :class:`~flowstatus.repository.errors.StoreUnavailable` (503).
    """
    settings = services().settings
    try:
        scope = scope_for(
            caller, filter_by_backend_roles=settings.filter_by_backend_roles, multi_tenancy=settings.multi_tenancy
        )
        restricted = restrict(body, scope)
    except MissingTenant as exc:
        raise PluginError(403, str(exc)) from None
    except SearchRefused as exc:
        raise IllegalArgument(str(exc)) from None
    try:
        return current_app.extensions[EXTENSION_KEY].search(restricted)
    except SearchIndexMissing as exc:
        raise StateIndexMissing(exc.index, exc.cause) from None
    except SearchRejected as exc:
        raise OpenSearchAnswer(exc.status, exc.body) from None


@bp.route(SEARCH_PATH, methods=["GET", "POST"])
@requires(Permission.READ, "cluster:admin/opensearch/flow_framework/workflow_state/search")
def search_workflow_states() -> Response:
    """The search response; 408 with the same body when OpenSearch timed out, as the plugin answers.

    The body is read first and unknown parameters refused after, in
    OpenSearch's order; ``source`` and ``source_content_type`` count as
    consumed only when there is no body, as in OpenSearch.
    """
    body, from_source = read_body(request)
    reject_unrecognized(request.path, request.args, SOURCE_PARAMS if from_source else ())
    response = search_states(body, current_caller())
    return json_response(response, 408 if response.get("timed_out") else 200)


def read_body(req: Request) -> tuple[dict[str, Any], bool]:
    """The search body, from the request body or else the ``source`` parameter; whether it was the latter.

    Raises OpenSearch's errors: 406 for a body that is not JSON, 400
    ``parse_exception`` without either, 400 for a ``source`` without a JSON
    ``source_content_type`` (OpenSearch answers that one with a 500), and
    400 with the parser's reason for malformed JSON or a non-object.
    """
    raw = req.get_data(cache=False)
    if raw:
        if req.mimetype not in JSON_TYPES:
            raise NotAcceptableContentType(req.headers.get("Content-Type", ""))
        return _parse(raw), False
    source = last(req.args, "source")
    if source is None:
        raise OpenSearchError(400, "parse_exception", "request body or source parameter is required")
    content_type = last(req.args, "source_content_type")
    if content_type is None:
        raise OpenSearchError(400, "illegal_state_exception", "source and source_content_type parameters are required")
    if content_type not in JSON_TYPES:
        raise OpenSearchError(400, "illegal_state_exception", f"Unknown value for source_content_type [{content_type}]")
    return _parse(source.encode()), True


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise OpenSearchError(400, "json_parse_exception", str(exc)) from None
    if not isinstance(body, dict):
        token = _TOKENS.get(type(body), "VALUE_NULL")
        raise OpenSearchError(400, "parsing_exception", f"Expected [START_OBJECT] but found [{token}]")
    return body
