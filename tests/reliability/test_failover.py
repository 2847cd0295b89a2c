"""Failover: the node holding the state shard's primary is SIGKILLed mid-stream; nothing acknowledged is lost.

Two ``flowstatus serve`` processes, each given all three node URLs, take a
stream of events for many workflows from several client threads while other
threads poll status reads.  Mid-stream the node holding the state index's
primary is killed.  Clients behave as real ones must: a batch that got a
transport error, a 503, or an item that is not 2xx was not (wholly)
acknowledged and is re-sent (events are idempotent).  Afterwards every
acknowledged event must be in the state documents, read realtime from the
surviving nodes by a fresh client, and the documents must still be in the
plugin's format.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import uuid
from typing import Any

import pytest
from marshmallow import ValidationError
from opensearchpy import OpenSearch

from devtools.opensearch import LocalCluster
from flowstatus.schemas.state import STATE_KEYS, load_state
from tests.reliability.conftest import (
    cluster_manager,
    count_log,
    create_state_index,
    ensure_running,
    running,
    wait_index,
)
from tests.reliability.load import CLIENT_TIMEOUT, DRAIN, Record, pct, present, reader, stream, writer

pytestmark = pytest.mark.cluster

WORKFLOWS = 60          # workflows, split between the writer threads
WRITERS = 4             # client threads posting NDJSON batches
READERS = 2             # client threads polling status reads
REQUEST_TIMEOUT = 2.0   # FLOWSTATUS_REQUEST_TIMEOUT of both processes
BEFORE_KILL = 6.0       # seconds of streaming after every workflow is provisioning
AFTER_KILL = 15.0       # seconds of streaming after the kill


def test_killing_the_primary_loses_no_acknowledged_event(
    cluster: LocalCluster, flowstatus: Any, figures: Any
) -> None:
    ensure_running(cluster, 3)
    index = f".flowstatus-reliability-failover-{uuid.uuid4().hex[:8]}"
    create_state_index(cluster, index)
    quoted = urllib.parse.quote(index)
    (row,) = cluster.get_json(f"/_cat/indices/{quoted}?format=json&h=rep&expand_wildcards=all")
    assert row["rep"] == "1", f"auto_expand_replicas 0-1 should give one replica on 3 nodes: {row}"
    urls = [node.url for node in cluster.nodes]
    servers = [flowstatus(urls, index, timeout=REQUEST_TIMEOUT, workers=2, name="a"),
               flowstatus(urls, index, timeout=REQUEST_TIMEOUT, workers=1, name="b")]
    for server in servers:
        server.wait_serving()

    run = uuid.uuid4().hex[:8]
    workflows = [f"failover-{run}-{i:03d}" for i in range(WORKFLOWS)]
    base = int(time.time() * 1000)
    start_times = {wid: base + i for i, wid in enumerate(workflows)}
    rec = Record()
    stop_writing, stop_reading = threading.Event(), threading.Event()
    writers = [
        threading.Thread(target=writer, args=(servers, stream(workflows[w::WRITERS], start_times, stop_writing),
                                              stop_writing, rec), name=f"writer-{w}")
        for w in range(WRITERS)
    ]
    readers = [threading.Thread(target=reader, args=(servers, stop_reading, rec), name=f"reader-{r}")
               for r in range(READERS)]
    threads = writers + readers
    for t in threads:
        t.start()
    try:
        # Every workflow provisioning, then some steady streaming, then the kill.
        deadline = time.monotonic() + 60
        while True:
            with rec.lock:
                provisioning = sum(1 for k in rec.acked if k[1] == "provision_started")
            if provisioning == WORKFLOWS:
                break
            assert time.monotonic() < deadline, f"workflows not provisioning after 60 s: {rec.write_errors}"
            time.sleep(0.1)
        time.sleep(BEFORE_KILL)
        victim = cluster.primary_node_of(index)
        manager_before = cluster_manager(cluster)
        with rec.lock:
            acked_before = len(rec.acked)
        killed_at = time.monotonic()
        cluster.kill_node(victim)
        time.sleep(AFTER_KILL)
    finally:
        stop_writing.set()
        for t in writers:
            t.join(DRAIN + 2 * CLIENT_TIMEOUT)
        stop_reading.set()
        for t in readers:
            t.join(2 * CLIENT_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a client thread hung"
    assert not rec.thread_errors, rec.thread_errors

    # A fresh client on the surviving nodes, realtime multi-get of every document.
    survivors = [cluster.nodes[i].url for i in running(cluster)]
    health = wait_index(cluster, index, "yellow")
    new_primary = cluster.nodes[cluster.primary_node_of(index)].name
    check = OpenSearch(survivors, timeout=30)
    try:
        docs = check.mget(index=index, body={"ids": workflows}, realtime=True)["docs"]
    finally:
        check.close()
    sources = {d["_id"]: d["_source"] for d in docs if d.get("found")}

    found = [k for k in rec.acked if present(k, sources.get(k[0]), start_times)]
    lost = sorted(set(rec.acked) - set(found))
    unacked_present = [k for k in rec.sent - set(rec.acked) if present(k, sources.get(k[0]), start_times)]
    bad_format = {}
    duplicates = {}
    for wid, source in sources.items():
        extra = set(source) - set(STATE_KEYS)
        try:
            load_state(source)
        except ValidationError as exc:
            bad_format[wid] = repr(exc.messages)
        if extra:
            bad_format[wid] = f"keys outside the plugin's format: {sorted(extra)}"
        ids = [r["resource_id"] for r in source.get("resources_created", [])]
        if len(ids) != len(set(ids)):
            duplicates[wid] = len(ids) - len(set(ids))

    # When writes were acknowledged again after the kill.
    log = sorted(rec.batch_log)
    acks_after = sorted(end for start, end, ok in log if ok and end >= killed_at)
    first_ack_of_new_batch = min((end for start, end, ok in log if ok and start >= killed_at), default=None)
    gaps = [b - a for a, b in zip([killed_at] + acks_after, acks_after)]
    failed_after_kill = sum(1 for start, end, ok in log if not ok and end >= killed_at)
    failed_before_kill = sum(1 for start, end, ok in log if not ok and end < killed_at)
    read_errors = sum(v for k, v in rec.read_errors.items() if "without" not in k)

    figures({
        "command": "pytest tests/reliability/test_failover.py -s",
        "workflows": WORKFLOWS,
        "flowstatus processes": "2 (gunicorn 2 + 1 workers), OPENSEARCH_URL = all 3 nodes",
        "request timeout (s)": REQUEST_TIMEOUT,
        "state index replicas": row["rep"],
        "killed": f"{cluster.nodes[victim].name} (SIGKILL), held the primary; cluster manager was {manager_before}",
        "new primary": new_primary,
        "index health after": health.get("status"),
        "events sent (distinct)": len(rec.sent),
        "event lines posted (incl. re-sends)": rec.lines_posted,
        "events acknowledged": len(rec.acked),
        "  of which before the kill": acked_before,
        "acknowledged events found": len(found),
        "acknowledged events lost": len(lost),
        "unacknowledged at the end (gave up)": len(rec.unacked_at_end),
        "unacknowledged but present": len(unacked_present),
        "batches posted / re-sent": f"{rec.batches} / {rec.batches_resent}",
        "event lines re-sent": rec.lines_resent,
        "write errors seen by clients": dict(rec.write_errors),
        "writes of unknown outcome read back (server logs)": sum(count_log(s, "reading them back") for s in servers),
        "failed batch posts before / after the kill": f"{failed_before_kill} / {failed_after_kill}",
        "kill -> first acknowledged batch (s)": round(acks_after[0] - killed_at, 3) if acks_after else None,
        "kill -> first acknowledged batch sent after it (s)": (
            round(first_ack_of_new_batch - killed_at, 3) if first_ack_of_new_batch else None),
        "longest gap between acknowledgements after the kill (s)": round(max(gaps), 3) if gaps else None,
        "bulk latency p50 / p99 / max (s)": (pct(rec.bulk_latency, 0.5), pct(rec.bulk_latency, 0.99),
                                             round(max(rec.bulk_latency), 3)),
        "status reads made": rec.reads,
        "read errors seen by clients": dict(rec.read_errors),
        "stale reads (fewer resources than acknowledged)": len(rec.stale_reads),
        "read latency p50 / p99 / max (s)": (pct(rec.read_latency, 0.5), pct(rec.read_latency, 0.99),
                                             round(max(rec.read_latency, default=0), 3)),
        "documents": len(sources),
        "documents not in the plugin's format": len(bad_format),
        "documents with duplicate resources": len(duplicates),
    })

    assert not lost, f"{len(lost)} acknowledged events lost, e.g. {lost[:5]}"
    assert len(found) == len(rec.acked)
    assert not rec.unacked_at_end, f"never acknowledged despite re-sending: {rec.unacked_at_end[:5]}"
    assert len(sources) == WORKFLOWS
    assert not bad_format, json.dumps(bad_format)[:2000]
    assert not duplicates, f"re-sent events appended twice: {duplicates}"
    assert not rec.refused, f"events refused (not a transient error): {rec.refused[:5]}"
    # Only transient failures: no 500 or 502 from flowstatus, and every 503 carries Retry-After.
    assert set(rec.write_errors) <= {"503", "connection error", "item 503", "item 409 (conflicts exhausted)"}, rec.write_errors
    assert set(rec.read_errors) <= {"503", "connection error"}, rec.read_errors
    # Reads keep answering: each read is retried on the other nodes, so a kill costs at most a handful.
    assert read_errors <= max(5, rec.reads // 50), f"{read_errors} of {rec.reads} reads failed: {rec.read_errors}"
    # A read never misses an event acknowledged before it started (realtime GET, synchronous replication).
    assert not rec.stale_reads, rec.stale_reads[:5]
    # Writes resume within seconds, not after opensearch-py's 60 s dead-node timeout.
    assert acks_after and max(gaps) < 20, f"writes stalled after the kill: gaps {sorted(gaps)[-3:]}"
