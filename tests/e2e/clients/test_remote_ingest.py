"""``flowstatus ingest --url``: byte-bounded batches, restarts and outages, and the summary of the direct path."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from tests.conftest import new_id
from tests.e2e.clients.front import fronting
from tests.e2e.clients.runs import (
    FLOWSTATUS,
    client_env,
    index_of,
    ndjson,
    port_of,
    provisioning,
    run,
    server,
    stored,
)
from tests.e2e.conftest import Served

LIMIT = 16384  # the server's FLOWSTATUS_MAX_BULK_BYTES here: a small limit keeps the streams small


class Streaming:
    """A running ``flowstatus ingest --url URL -``, fed events as the test goes; its stderr read as it comes."""

    def __init__(self, url: str, env: dict[str, str], *options: str) -> None:
        self.process = subprocess.Popen([*FLOWSTATUS, "ingest", "--url", url, *options, "-"], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        bufsize=0, start_new_session=True)
        self.err = bytearray()

    def feed(self, events: list[dict[str, Any]]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(ndjson(events).encode())
        self.process.stdin.flush()

    def read_until(self, done: Callable[[], bool], timeout: float) -> None:
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            if select.select([self.process.stderr], [], [], 0.2)[0]:
                chunk = os.read(self.process.stderr.fileno(), 65536)
                if not chunk:
                    return
                self.err += chunk

    def wait_for(self, text: str, timeout: float = 60) -> None:
        self.read_until(lambda: text.encode() in self.err, timeout)
        assert text.encode() in self.err, self.err.decode(errors="replace")

    def finish(self, timeout: float = 120) -> str:
        """Close its stdin, wait for its end; everything it printed on stderr."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.read_until(lambda: False, timeout)  # to the end of its stderr: it has exited
        self.process.wait(timeout=30)
        return self.err.decode(errors="replace")


@contextlib.contextmanager
def streaming(url: str, env: dict[str, str], *options: str) -> Iterator[Streaming]:
    ingest = Streaming(url, env, *options)
    try:
        yield ingest
    finally:
        if ingest.process.poll() is None:
            ingest.process.kill()
        ingest.process.wait(timeout=30)
        for pipe in (ingest.process.stdin, ingest.process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def crash(served: Served) -> None:
    """Kill the server's workers (an answer in flight is lost), then stop its master."""
    pid = served.process.pid
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(child), signal.SIGKILL)
    served.process.terminate()
    served.process.wait(timeout=30)


def applied_and_noops(summary: str, total: int) -> tuple[int, int]:
    match = re.search(rf"^{total} events in [\d.]+s: (\d+) applied, (\d+) already recorded, 0 rejected$", summary,
                      re.MULTILINE)
    assert match, summary
    return int(match[1]), int(match[2])


def access_log(served: Served) -> list[dict[str, Any]]:
    lines = served.log.read_text(errors="replace").splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    return [r for r in records if r.get("route") == "/_flowstatus/_bulk"]


def assert_provisioned(opensearch_url: str, index: str, wids: list[str], resources: int = 2) -> None:
    """Every workflow COMPLETED exactly as its events say: each resource once, the events' own times."""
    client = OpenSearch([opensearch_url], timeout=30)
    try:
        docs = client.mget(index=index, body={"ids": wids})["docs"]
    finally:
        client.close()
    for doc in docs:
        assert doc.get("found"), doc["_id"]
        state = doc["_source"]
        assert state["state"] == "COMPLETED", state
        assert [r["resource_id"] for r in state["resources_created"]] == [f"index-{n}" for n in range(resources)]
        assert (state["provision_start_time"], state["provision_end_time"]) == (1_700_000_000_000, 1_700_000_060_000)


@pytest.fixture(scope="module")
def limited(opensearch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with server(opensearch_url, tmp_path_factory.mktemp("limited"), FLOWSTATUS_MAX_BULK_BYTES=str(LIMIT)) as served:
        yield served


def workflows(count: int, resources: int = 2) -> tuple[list[str], list[dict[str, Any]]]:
    wids = [new_id() for _ in range(count)]
    return wids, [event for wid in wids for event in provisioning(wid, resources)]


def test_a_stream_over_the_bulk_limit_goes_in_batches_under_it(limited: Served, home: Path, tmp_path: Path,
                                                               opensearch_url: str) -> None:
    wids, events = workflows(120)
    huge = {"event": "provision_failed", "workflow_id": wids[0], "error": "x" * LIMIT}
    source = tmp_path / "events.ndjson"
    source.write_text(ndjson(events[:3] + [huge] + events[3:]))
    assert source.stat().st_size > 4 * LIMIT
    before = len(access_log(limited))
    result = run("ingest", "--url", limited.url, "--max-bytes", str(LIMIT), str(source), env=client_env(home))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{len(events) + 1} events in") and lines[0].endswith(
        f"{len(events)} applied, 0 already recorded, 1 rejected"), result.stderr
    assert lines[1] == f"  line 4: 413 line of {len(json.dumps(huge)) + 1} bytes is over --max-bytes ({LIMIT}); not sent"
    assert lines[-1] == "rejected lines: 4"
    requests = access_log(limited)[before:]
    assert len(requests) >= source.stat().st_size // LIMIT and {r["status"] for r in requests} == {200}
    assert_provisioned(opensearch_url, index_of(limited), wids)


def test_a_server_that_takes_less_than_max_bytes_gets_halved_batches(limited: Served, home: Path,
                                                                     opensearch_url: str) -> None:
    wids, events = workflows(100)
    before = len(access_log(limited))
    result = run("ingest", "--url", limited.url, env=client_env(home), stdin=ndjson(events))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("sending smaller batches") == 1, result.stderr
    assert applied_and_noops(result.stderr, len(events)) == (len(events), 0)
    assert 413 in {r["status"] for r in access_log(limited)[before:]}
    assert_provisioned(opensearch_url, index_of(limited), wids)


def test_the_summary_is_the_one_of_the_direct_path(limited: Served, home: Path) -> None:
    def attempt(wid: str, *options: str, **env: str) -> str:
        events = ndjson(provisioning(wid, completed=False)) + "not json\n\n" + ndjson(
            [{"event": "provision_completed", "workflow_id": "no-" + wid},
             {"event": "provision_started", "workflow_id": wid}])
        result = run("ingest", *options, env=client_env(home, **env), stdin=events)
        assert result.returncode == 1, result.stderr
        return re.sub(r"in [\d.]+s", "in Ts", result.stderr).replace(wid, "WID")

    # Without --url it writes to OpenSearch, whatever watch's FLOWSTATUS_URL and FLOWSTATUS_USER say.
    direct = attempt(new_id(), OPENSEARCH_URL=limited.env["OPENSEARCH_URL"],
                     FLOWSTATUS_STATE_INDEX=index_of(limited), FLOWSTATUS_URL="http://127.0.0.1:9",
                     FLOWSTATUS_USER="ci-bot")
    assert attempt(new_id(), "--url", limited.url) == direct
    assert direct.splitlines()[-1] == "rejected lines: 5, 7"


def test_a_server_crash_and_restart_mid_stream_loses_nothing_and_applies_nothing_twice(
        opensearch_url: str, tmp_path: Path, home: Path) -> None:
    wids, events = workflows(40, resources=3)
    index = f".flowstatus-test-{new_id()}"
    third = len(events) // 3
    with fronting(None) as front, streaming(front.url, client_env(home), "--batch-size", "10",
                                            "--retries", "30") as ingest:
        with server(opensearch_url, tmp_path, index=index) as first:
            front.backend = port_of(first)
            ingest.feed(events[:6])
            until(lambda: stored(opensearch_url, index, wids[0]) is not None)  # it is sending
            for n in range(6, third, 6):
                ingest.feed(events[n:min(n + 6, third)])
            crash(first)  # while batches are in flight
            front.cut()
        ingest.feed(events[third:2 * third])  # while no server answers
        ingest.wait_for("again in")
        with server(opensearch_url, tmp_path, index=index) as second:
            front.backend = port_of(second)
            ingest.feed(events[2 * third:])
            summary = ingest.finish()
    assert ingest.process.returncode == 0, summary
    applied, noops = applied_and_noops(summary, len(events))
    assert applied + noops == len(events)
    assert_provisioned(opensearch_url, index, wids, resources=3)


def test_an_outage_longer_than_the_retries_names_the_last_line_applied(limited: Served, home: Path,
                                                                       opensearch_url: str) -> None:
    done, cut_off = new_id(), new_id()
    with fronting(port_of(limited)) as front, streaming(front.url, client_env(home), "--retries", "2") as ingest:
        ingest.feed(provisioning(done))
        until(lambda: (stored(opensearch_url, index_of(limited), done) or {}).get("state") == "COMPLETED")
        front.cut()
        ingest.feed(provisioning(cut_off))
        summary = ingest.finish()
    assert ingest.process.returncode == 3, summary
    last = summary.splitlines()[-1]
    assert last.startswith(f"flowstatus ingest: gave up after 3 attempts: {front.url} cannot be reached"), summary
    assert last.endswith("; lines up to 5 were applied, re-run to continue (events already recorded are no-ops)")
    assert re.search(r"^5 events in [\d.]+s: 5 applied, 0 already recorded, 0 rejected$", summary, re.MULTILINE)
    assert stored(opensearch_url, index_of(limited), cut_off) is None


def test_503s_while_opensearch_is_away_are_waited_out_as_retry_after_says(opensearch_url: str, tmp_path: Path,
                                                                           home: Path) -> None:
    first, second = new_id(), new_id()
    node = int(opensearch_url.rsplit(":", 1)[1])
    with (fronting(node) as opensearch,
          server(opensearch.url, tmp_path, FLOWSTATUS_RETRY_AFTER="2", FLOWSTATUS_REQUEST_TIMEOUT="2") as served,
          streaming(served.url, client_env(home), "--retries", "20") as ingest):
        ingest.feed(provisioning(first))
        until(lambda: (stored(opensearch_url, index_of(served), first) or {}).get("state") == "COMPLETED")
        opensearch.cut()
        ingest.feed(provisioning(second))
        ingest.wait_for("again in")
        opensearch.backend = node
        summary = ingest.finish()
    assert ingest.process.returncode == 0, summary
    waits = re.findall(r"503 OpenSearch is unavailable, retry later; sending lines 6-\d+ again in ([\d.]+)s", summary)
    assert waits and all(float(wait) >= 2.0 for wait in waits), summary
    assert applied_and_noops(summary, 10)[0] + applied_and_noops(summary, 10)[1] == 10
    assert_provisioned(opensearch_url, index_of(served), [first, second])


def test_lines_answered_503_are_sent_again_until_opensearch_takes_them(opensearch_url: str, tmp_path: Path,
                                                                        home: Path) -> None:
    wid = new_id()
    with server(opensearch_url, tmp_path, FLOWSTATUS_WAIT_FOR_ACTIVE_SHARDS="all",
                FLOWSTATUS_REQUEST_TIMEOUT="1") as served:
        client = OpenSearch([opensearch_url], timeout=30)
        try:
            # A replica that cannot be assigned on one node: a write waiting for every copy is not acknowledged.
            client.indices.put_settings(index=index_of(served), body={
                "index": {"auto_expand_replicas": False, "number_of_replicas": 1}})
            with streaming(served.url, client_env(home), "--retries", "20") as ingest:
                ingest.feed(provisioning(wid))
                ingest.wait_for("lines answered 503 OpenSearch did not confirm the write in time; not applied")
                client.indices.put_settings(index=index_of(served), body={"index": {"number_of_replicas": 0}})
                summary = ingest.finish()
        finally:
            client.close()
    assert ingest.process.returncode == 0, summary
    assert re.search(r"^flowstatus ingest: 5 lines answered 503 .*; sending lines 1-5 again in", summary, re.MULTILINE)
    assert sum(applied_and_noops(summary, 5)) == 5
    assert_provisioned(opensearch_url, index_of(served), [wid])
