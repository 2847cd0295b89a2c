"""Requests to the plugin's node and to flowstatus, and their answers compared as a client sees them.

Both sides are reached through one interface, :class:`Endpoint`: the real
node (and a real ``flowstatus serve``) over HTTP, a flowstatus app through
Flask's test client.  The comparisons account for what differs by design
only: flowstatus's ``"<resource_type>": "<resource_id>"`` key on each
resource of a status, and ``took`` in search responses.  Key order inside
``resources_created`` entries and inside search hits is compared as maps: the
plugin's own order changes between requests.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from flask.testing import FlaskClient

from flowstatus.schemas.state import RESOURCE_KEYS


@dataclass(frozen=True)
class Answer:
    """One HTTP answer; header names are lower-cased, repeated headers joined with commas."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


class Endpoint(Protocol):
    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             content_type: str = "application/json") -> Answer:
        """Send ``body`` as JSON (or ``raw`` bytes as they are); never raises for an HTTP status."""


class HttpEndpoint:
    """A real HTTP server at ``url`` (one connection per request, closed after it)."""

    timeout = 30.0  # seconds for any one request

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             content_type: str = "application/json") -> Answer:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": content_type} if data is not None else {}
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            merged: dict[str, str] = {}
            for name, value in response.getheaders():
                key = name.lower()
                merged[key] = f"{merged[key]},{value}" if key in merged else value
            return Answer(response.status, merged, payload)
        finally:
            connection.close()


class AppEndpoint:
    """A flowstatus app through Flask's test client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             content_type: str = "application/json") -> Answer:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        response = self.client.open(path, method=method, data=data,
                                    content_type=content_type if data is not None else None)
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Answer(response.status_code, headers, response.get_data())


def without_type_keys(body: Any) -> Any:
    """A status body as the plugin renders it: flowstatus's extra key taken off each resource.

    Raises AssertionError when a complete entry lacks it: the key is part of
    flowstatus's answer, not an optional extra.
    """
    if not isinstance(body, dict) or not isinstance(body.get("resources_created"), list):
        return body
    entries = []
    for entry in body["resources_created"]:
        entry = dict(entry)
        kind = entry.get("resource_type")
        if isinstance(kind, str) and kind not in RESOURCE_KEYS and "resource_id" in entry:
            assert entry.pop(kind, None) == entry["resource_id"], f"no {kind!r} key on {entry}"
        entries.append(entry)
    return {**body, "resources_created": entries}


def status_view(answer: Answer, *, flowstatus: bool) -> tuple[int, str | None, Any, list[str] | None]:
    """What a client sees of a ``_status`` answer: status, type, body and its top-level key order."""
    body = answer.json()
    if flowstatus:
        body = without_type_keys(body)
    return answer.status, answer.content_type, body, list(body) if isinstance(body, dict) else None


def assert_status_alike(plugin: Answer, flowstatus: Answer) -> None:
    assert status_view(flowstatus, flowstatus=True) == status_view(plugin, flowstatus=False)


def search_view(answer: Answer) -> tuple[int, Any]:
    """A search answer without ``took``; hits compare as maps (JSON objects), in order."""
    body = answer.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "took"}
    return answer.status, body


def assert_search_alike(plugin: Answer, flowstatus: Answer) -> None:
    assert search_view(flowstatus) == search_view(plugin)


def read_alike(plugin: Endpoint, flowstatus: Endpoint, path: str, *, attempts: int = 20) -> tuple[Answer, Answer]:
    """``path`` read from both while the document stands still: the plugin before and after flowstatus.

    A workflow the plugin is still provisioning can change between two reads;
    the pair is retried until the plugin's two answers agree (raises
    AssertionError after ``attempts`` pairs).
    """
    for _ in range(attempts):
        before = plugin.call("GET", path)
        theirs = flowstatus.call("GET", path)
        after = plugin.call("GET", path)
        if status_view(before, flowstatus=False)[:3] == status_view(after, flowstatus=False)[:3]:
            return before, theirs
    raise AssertionError(f"{path} kept changing while it was read")


def assert_reads_alike(plugin: Endpoint, flowstatus: Endpoint, path: str) -> Answer:
    """Compare one path on both sides; return the plugin's answer."""
    ours, theirs = read_alike(plugin, flowstatus, path)
    assert_status_alike(ours, theirs)
    return ours


T = TypeVar("T")


def poll(read: Callable[[], T], done: Callable[[T], bool], *, timeout: float = 30.0, what: str = "") -> T:
    """Call ``read`` until ``done`` holds for its value; return that value.

    Raises AssertionError naming the last value after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what or 'done'} after {timeout:.0f} s: {value!r}")
        time.sleep(0.1)
