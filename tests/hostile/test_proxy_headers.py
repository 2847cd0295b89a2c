"""A trusted proxy's identity and role headers, sent twice, are refused by the real ``flowstatus serve``.

gunicorn joins a repeated header into one value; flowstatus' pre_request hook
sees the raw header list first and marks the repeats, which authentication
refuses with a 400 in OpenSearch's shape.  Sent over a raw HTTP connection,
since HTTP clients merge repeated headers themselves.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from tests.e2e.conftest import Served, serving

STATUS = "/_plugins/_flow_framework/workflow/wf-not-there/_status"
READER = [("x-proxy-user", "carol"), ("x-proxy-roles", "flow_framework_read_access")]


@pytest.fixture(scope="module")
def proxied(opensearch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``flowstatus serve`` trusting every address (which it warns about), with one worker."""
    folder = tmp_path_factory.mktemp("proxy")
    index = f".flowstatus-test-proxy-{uuid.uuid4().hex[:12]}"
    with serving(opensearch_url, index, folder / "serve.log", "--workers", "1",
                 env={"FLOWSTATUS_PROXY_TRUSTED": "0.0.0.0/0"}) as server:
        yield server
    OpenSearch([opensearch_url]).indices.delete(index=index, ignore=404)


def send(served: Served, headers: list[tuple[str, str]]) -> tuple[int, dict]:
    address = urllib.parse.urlsplit(served.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.putrequest("GET", STATUS)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_single_proxy_headers_authenticate(proxied: Served) -> None:
    status, body = send(proxied, READER)
    assert (status, body) == (404, {"error": "Fail to find workflow status of wf-not-there"})


@pytest.mark.parametrize("repeated", [("x-proxy-roles", "all_access"), ("x-proxy-user", "admin"),
                                      ("X-Proxy-Backend-Roles", "team-b")])
def test_a_repeated_proxy_header_is_refused(proxied: Served, repeated: tuple[str, str]) -> None:
    name = repeated[0].lower()
    headers = [*READER, ("x-proxy-backend-roles", "team-a"), repeated]
    status, body = send(proxied, headers)
    assert status == 400
    assert body["error"]["type"] == "illegal_argument_exception"
    assert body["error"]["reason"].startswith(f"the proxy authentication header [{name}] was sent more than once")


def test_a_client_cannot_forge_the_servers_marker(proxied: Served) -> None:
    status, _ = send(proxied, [*READER, ("X-Flowstatus-Repeated-Headers", "x-proxy-user")])
    assert status == 404, "the marker a client sends is dropped before the app sees it"


def test_serve_warns_that_the_trusted_range_is_the_whole_internet(proxied: Served) -> None:
    log = Path(proxied.log).read_text(errors="replace")
    assert "WARNING: FLOWSTATUS_PROXY_TRUSTED trusts 0.0.0.0/0, a large part of the internet" in log
