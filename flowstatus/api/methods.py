"""HTTP methods on the plugin's routes, answered as OpenSearch's REST layer answers them.

Flask answers ``HEAD`` on every ``GET`` route and ``OPTIONS`` on every route
by itself.  OpenSearch does neither: a method a route does not register,
``HEAD`` included, is a 405 naming the route's methods, and ``OPTIONS``
answers 200 with an empty ``text/plain`` body and an ``Allow`` header.  The
routes under ``/_plugins/`` stand in for the plugin's, so they answer as
OpenSearch does; flowstatus's own routes (``/_flowstatus/...``, ``/_health``)
keep Flask's behaviour, where ``HEAD`` serves health probes.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import MethodNotAllowed

PLUGIN_PREFIX = "/_plugins/"
IMPLIED = frozenset({"HEAD", "OPTIONS"})


def route_methods() -> list[str] | None:
    """The methods the matched plugin route registers, sorted; ``None`` off the plugin's routes."""
    rule = request.url_rule
    if rule is None or not rule.rule.startswith(PLUGIN_PREFIX):
        return None
    return sorted(set(rule.methods or ()) - IMPLIED)


def _answer_as_opensearch() -> Response | None:
    """OPTIONS: 200 and ``Allow``; a method the route does not register: raise the 405."""
    if request.method not in IMPLIED:
        return None  # a matched route registers any other method it was reached by
    methods = route_methods()
    if methods is None or request.method in methods:
        return None
    if request.method == "OPTIONS":
        return Response(b"", 200, {"Allow": ",".join(methods)}, content_type="text/plain; charset=UTF-8")
    raise MethodNotAllowed(valid_methods=methods)


def init_app(app: Flask) -> None:
    """Check methods after authentication, as every other refusal is."""
    app.before_request(_answer_as_opensearch)
