"""Request bodies from hostile clients, against a real ``flowstatus serve``: accepted whole or refused whole."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from opensearchpy import OpenSearch

from tests.e2e.conftest import Served
from tests.hostile.conftest import READER, WRITER, ServerFactory
from tests.hostile.raw import Reader, chunked, connect, exchange, request

LIMIT = 64 * 1024
BULK = "/_flowstatus/_bulk"
SEARCH = "/_plugins/_flow_framework/workflow/state/_search"
NDJSON = {"Content-Type": "application/x-ndjson"}


def events(count: int, prefix: str) -> bytes:
    return b"".join(json.dumps({"event": "create", "workflow_id": f"{prefix}-{i}"}).encode() + b"\n"
                    for i in range(count))


def stored(server: Served, prefix: str, opensearch_url: str) -> int:
    client = OpenSearch([opensearch_url], timeout=30)
    index = server.env["FLOWSTATUS_STATE_INDEX"]
    client.indices.refresh(index=index)
    query = {"query": {"prefix": {"workflow_id": prefix}}}
    return int(client.count(index=index, body=query)["count"])


@pytest.fixture
def server(hostile_server: ServerFactory) -> Served:
    with hostile_server(FLOWSTATUS_MAX_BULK_BYTES=str(LIMIT), FLOWSTATUS_BODY_TIMEOUT="2",
                        FLOWSTATUS_MAX_BODIES_PER_CLIENT="4") as started:
        yield started


def test_a_chunked_body_over_the_limit_is_refused_whole(server: Served, opensearch_url: str) -> None:
    prefix = f"big-{uuid.uuid4().hex[:8]}"
    body = events(2000, prefix)  # about 100 KiB: past the limit
    assert len(body) > LIMIT
    answer = exchange(server.url, request("POST", BULK, {**WRITER, **NDJSON, "Transfer-Encoding": "chunked"},
                                          chunked(body)))
    assert answer.status == 413, answer.body
    assert stored(server, prefix, opensearch_url) == 0, "part of a refused body was applied"


def test_a_chunked_body_within_the_limit_is_applied_whole(server: Served, opensearch_url: str) -> None:
    prefix = f"fits-{uuid.uuid4().hex[:8]}"
    body = events(500, prefix)
    assert len(body) < LIMIT
    answer = exchange(server.url, request("POST", BULK, {**WRITER, **NDJSON, "Transfer-Encoding": "chunked"},
                                          chunked(body, size=777)))
    assert answer.status == 200, answer.body
    assert len(json.loads(answer.body)["items"]) == 500
    assert stored(server, prefix, opensearch_url) == 500


def test_a_declared_length_over_the_limit_is_refused_before_the_body(server: Served) -> None:
    with connect(server.url) as sock:
        sock.sendall(request("POST", BULK, {**WRITER, **NDJSON, "Content-Length": str(LIMIT + 1)}))
        reader = Reader(sock)
        answer = reader.answer()  # without sending a byte of the body
        assert answer.status == 413
        assert reader.closed(), "a refused body's connection must be closed, not drained"


@pytest.mark.parametrize("path, headers", [(BULK, {**WRITER, **NDJSON}),
                                           (SEARCH, {**READER, "Content-Type": "application/json"})])
@pytest.mark.parametrize("framing", [
    b"zz\r\nabc\r\n0\r\n\r\n",      # a chunk size that is not hex
    b"5\r\nabc",                      # a chunk cut short, then the end of the stream
    b"3\r\nabc\r\n",                  # no terminating chunk, then the end of the stream
])
def test_broken_chunked_framing_is_a_400_not_a_500(server: Served, path: str, headers: dict[str, str],
                                                   framing: bytes) -> None:
    with connect(server.url) as sock:
        sock.sendall(request("POST", path, {**headers, "Transfer-Encoding": "chunked"}) + framing)
        sock.shutdown(1)  # the client sends nothing more
        answer = Reader(sock).answer()
    assert answer.status == 400, answer.body
    error = json.loads(answer.body)["error"]
    assert error["type"] == "parse_exception" and error["root_cause"][0]["type"] == "parse_exception"


def test_a_body_shorter_than_its_length_is_a_400(server: Served) -> None:
    with connect(server.url) as sock:
        sock.sendall(request("POST", BULK, {**WRITER, **NDJSON, "Content-Length": "1000"}) + b'{"event":')
        sock.shutdown(1)
        answer = Reader(sock).answer()
    assert answer.status == 400 and b"ended after 9 of 1000 bytes" in answer.body


def test_a_body_slower_than_the_timeout_is_a_408(server: Served) -> None:
    with connect(server.url) as sock:
        sock.sendall(request("POST", BULK, {**WRITER, **NDJSON, "Content-Length": "1000"}) + b"{")
        started = time.monotonic()
        answer = Reader(sock).answer()
        took = time.monotonic() - started
    assert answer.status == 408, answer.body
    assert took < 6, f"a 2 s body timeout answered after {took:.1f} s"


@pytest.mark.parametrize("head", [
    {"Content-Length": "41", "Transfer-Encoding": "identity, chunked"},  # framing gunicorn cannot trust
    {"Content-Length": "41, 5"},
    {"Bad Header": "x"},  # not a header name
])
def test_a_request_gunicorn_cannot_read_is_refused_in_opensearchs_shape_and_applies_nothing(
        server: Served, opensearch_url: str, head: dict[str, str]) -> None:
    prefix = f"unread-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"event": "create", "workflow_id": f"{prefix}-0"}).encode() + b"\n"
    raw = request("POST", BULK, {**WRITER, **NDJSON}).replace(b"\r\n\r\n", b"".join(
        b"\r\n%s: %s" % (k.encode(), v.encode()) for k, v in head.items()) + b"\r\n\r\n") + body
    with connect(server.url) as sock:
        sock.sendall(raw)
        answer = Reader(sock).answer()
    assert answer.status == 400, answer.body
    error = json.loads(answer.body)["error"]
    assert error["type"] == "parse_exception" and error["root_cause"][0]["type"] == "parse_exception", error
    assert stored(server, prefix, opensearch_url) == 0
