"""GET ``_status`` without Flask's per-request machinery, for the plain requests that make up polling.

A status read is the hot path, and Flask's request context, routing, hook
dispatch and response objects cost about as much as everything else of a
read (docs/benchmarks.md has the profile).  This WSGI middleware serves the
plain reads itself: ``GET`` on the status path, an id of plain characters,
no parameter but ``all``.  It calls the same functions the Flask view and
hooks do (authorization, the status reads service, the ETag, the renderer,
the error translation, the metrics and the request id), so both answer
byte for byte alike; tests/api/test_status_fast.py holds them to it.
Everything else (other routes, other parameters, long polls, ``pretty``,
``filter_path``, odd ids) goes to Flask.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import HTTP_STATUS_CODES, parse_etags

from flowstatus.api import etag
from flowstatus.api.auth import authorize
from flowstatus.api.error_handlers import TRANSLATED, as_api_error
from flowstatus.api.errors import ApiError
from flowstatus.api.observability import bind_request_id, record
from flowstatus.api.params import ResponseOptions, parse_bool
from flowstatus.api.response import JSON_MIMETYPE
from flowstatus.composition import Components
from flowstatus.schemas.fast_state import render_status_fast

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The plugin's ids are base64url; anything else (percent-decoded bytes, control
# characters, over-long ids) takes the Flask route and its checks.
_PLAIN = re.compile(r"^/_plugins/_flow_framework/workflow/([A-Za-z0-9_\-.:]{1,255})/_status$")
_DEFAULT_OPTIONS = ResponseOptions()


class FastStatus:
    """Wraps the Flask app's ``wsgi_app``; ``view`` is the Flask status view (for its declared permission)."""

    def __init__(self, flask: WsgiApp, built: Components, view: Callable[..., object], route: str) -> None:
        self.flask = flask
        self.built = built
        self.view = view
        self.route = route

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = _PLAIN.match(environ.get("PATH_INFO", "")) if environ.get("REQUEST_METHOD") == "GET" else None
        full = _plain_all(environ.get("QUERY_STRING", "")) if match else None
        if match is None or full is None:
            return self.flask(environ, start_response)
        started = time.perf_counter()
        headers = EnvironHeaders(environ)
        rid, unbind = bind_request_id(headers.get("X-Request-Id") or headers.get("X-Opaque-Id"))
        try:
            status, extra, body = self._answer(match.group(1), full, headers, environ)
            record(self.route, "GET", status, time.perf_counter() - started)  # its access line names the id
        finally:
            unbind()
        response_headers = [*extra, ("X-Request-Id", rid)]
        if body:
            response_headers[:0] = [("Content-Type", JSON_MIMETYPE), ("Content-Length", str(len(body)))]
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", response_headers)  # as werkzeug writes it
        return [body] if body else []

    def _answer(self, workflow_id: str, full: bool, headers: EnvironHeaders,
                environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            caller = authorize(self.view, self.built, headers, environ.get("REMOTE_ADDR"))
            versioned = self.built.status_reads.read(workflow_id, caller)
        except TRANSLATED as exc:
            error: ApiError = as_api_error(exc, retry_after=self.built.settings.retry_after,
                                           where=f"GET {environ.get('PATH_INFO')}")
            return error.status, list(error.headers.items()), orjson.dumps(error.body())
        tag = etag.status_etag(versioned, full=full, options=_DEFAULT_OPTIONS)
        cache = [("ETag", f'"{tag}"'), ("Cache-Control", "no-cache")]
        wanted = environ.get("HTTP_IF_NONE_MATCH")
        if wanted and parse_etags(wanted).contains_weak(tag):
            return 304, cache, b""
        return 200, cache, orjson.dumps(render_status_fast(versioned.state, full=full))


def _plain_all(query: str) -> bool | None:
    """``all`` of a query string that holds nothing else (``None``: not a plain query, Flask takes it)."""
    if not query:
        return False
    pairs = parse_qsl(query, keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "all" or pairs[0][1] not in ("", "true", "false"):
        return None
    return parse_bool(pairs[0][1])
