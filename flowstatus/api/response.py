"""JSON responses written as OpenSearch writes them.

Compact bodies come from orjson (status reads are the hot path).  ``?pretty``
bodies copy Jackson's pretty printer as OpenSearch configures it (two-space
indent, ``"key" : value``, ``[ ]`` and ``{ }`` for empty containers, a final
newline), so a pretty flowstatus answer looks like a pretty OpenSearch one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from flask import Response, g

from flowstatus.api import filter_path
from flowstatus.api.params import ResponseOptions

JSON_MIMETYPE = "application/json; charset=UTF-8"


def _pretty(value: Any, indent: str = "") -> str:
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{ }"
        items = (f"{inner}{json.dumps(k, ensure_ascii=False)} : {_pretty(v, inner)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[ ]"
        return "[\n" + ",\n".join(inner + _pretty(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def encode(body: Any, pretty: bool = False) -> bytes:
    """``body`` as JSON bytes, compact or pretty."""
    if pretty:
        return (_pretty(body) + "\n").encode()
    return orjson.dumps(body)


def options() -> ResponseOptions:
    """This request's response options (defaults if they could not be parsed)."""
    return g.get("response_options", ResponseOptions())


def json_response(
    body: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    filtered: bool = True,
) -> Response:
    """A JSON response honouring ``pretty`` and, unless ``filtered`` is false, ``filter_path``.

    Error bodies are sent unfiltered, as OpenSearch sends them.
    """
    opts = options()
    if filtered:
        body = filter_path.apply(body, opts.filter_path)
    return Response(encode(body, opts.pretty), status, headers, content_type=JSON_MIMETYPE)
