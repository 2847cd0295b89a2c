"""Every HTTP method on the plugin's two routes, against a real ``flowstatus serve``.

Compared: status, Content-Type, the body (compared as JSON) and ``Allow`` (as
a set: the plugin's order changes between node starts).  ``HEAD`` carries no
body on either side, but the length of the body a GET-less route would have
sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import serving
from tests.interop.answers import Answer, HttpEndpoint, search_view, without_type_keys
from tests.interop.plugin import FF, STATE_INDEX, Plugin, status_path, unique

SEARCH = f"{FF}/state/_search"


@pytest.fixture(scope="module")
def served(plugin: Plugin, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpEndpoint]:
    """``flowstatus serve`` (gunicorn) on the plugin's state index."""
    log = Path(tmp_path_factory.mktemp("serve")) / "serve.log"
    with serving(plugin.url, STATE_INDEX, log) as server:
        yield HttpEndpoint(server.url)


@pytest.fixture(scope="module")
def workflow(plugin: Plugin) -> str:
    return plugin.create(unique())


def allowed_sorted(body: object) -> object:
    """A 405 body with its ``allowed: [...]`` list sorted (the plugin's order is a hash order)."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        listed = re.search(r"allowed: \[([^\]]*)\]$", body["error"])
        if listed:
            methods = ", ".join(sorted(listed.group(1).split(", ")))
            return {**body, "error": body["error"][:listed.start(1)] + methods + "]"}
    return body


def seen(answer: Answer) -> tuple[object, ...]:
    """Status, Content-Type, body, ``Allow`` as a set, and for an empty body its Content-Length."""
    status, body = search_view(answer)
    allow = answer.headers.get("allow")
    length = answer.headers.get("content-length") if not answer.body else None
    return (status, answer.content_type, allowed_sorted(without_type_keys(body)),
            set(allow.split(",")) if allow else None, length)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
@pytest.mark.parametrize("route", ["status", "search"])
def test_every_method_is_answered_alike(route: str, method: str, workflow: str, plugin: Plugin,
                                        served: HttpEndpoint) -> None:
    path = status_path(workflow, "?all=true") if route == "status" else SEARCH
    body = {"query": {"ids": {"values": [workflow]}}} if route == "search" and method in ("GET", "POST") else None
    ours, theirs = plugin.call(method, path, body), served.call(method, path, body)
    assert seen(theirs) == seen(ours)


def test_a_get_body_is_ignored(workflow: str, plugin: Plugin, served: HttpEndpoint) -> None:
    ours, theirs = (endpoint.call("GET", status_path(workflow), {"x": 1}) for endpoint in (plugin, served))
    assert ours.status == 200 and seen(theirs) == seen(ours)
