"""Writes OpenSearch cannot complete in time: 503 soon, never a 409 after many timeouts.

With ``FLOWSTATUS_WAIT_FOR_ACTIVE_SHARDS=all``, losing the node that holds
the state shard's replica leaves fewer active copies than asked for:
OpenSearch holds every write (until its own 1 min bulk timeout) while reads
still work.  From flowstatus's side that is a write slower than the timeout
on every node, as with a primary stuck in a long GC pause.  Each event must
then answer 503 (not acknowledged: re-send later) within a couple of
timeouts, not a ``version_conflict_engine_exception`` 409 after
``FLOWSTATUS_CONFLICT_RETRIES`` + 1 timeouts, which a client would take for
a refusal.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
from typing import Any

import pytest

from devtools.opensearch import LocalCluster
from tests.reliability.conftest import Flowstatus, count_log, create_state_index, ensure_running, resource

pytestmark = pytest.mark.cluster

REQUEST_TIMEOUT = 1.5
SLACK = 2.0
POSTS = 3



def test_a_write_that_cannot_complete_answers_503_within_the_timeout(
    cluster: LocalCluster, flowstatus: Any, figures: Any
) -> None:
    ensure_running(cluster, 2)
    index = f".flowstatus-reliability-wfas-{uuid.uuid4().hex[:8]}"
    create_state_index(cluster, index)
    urls = [node.url for node in cluster.nodes]
    T = REQUEST_TIMEOUT
    server: Flowstatus = flowstatus(urls, index, timeout=T, workers=1, name="one-copy")
    strict: Flowstatus = flowstatus(urls, index, timeout=T, workers=1, name="all-copies",
                                    extra_env={"FLOWSTATUS_WAIT_FOR_ACTIVE_SHARDS": "all"})
    server.wait_serving()
    strict.wait_serving()

    wid = f"wfas-{uuid.uuid4().hex[:12]}"
    reply = strict.bulk([{"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid}])
    assert reply.status == 200 and not reply.json()["errors"], reply.body[:500]

    rows = cluster.get_json(f"/_cat/shards/{urllib.parse.quote(index)}?format=json&h=prirep,state,node")
    (replica,) = [r["node"] for r in rows if r["prirep"] == "r" and r["state"] == "STARTED"]
    cluster.stop_node([node.name for node in cluster.nodes].index(replica))
    # Writes wait for missing copies only once the cluster knows the replica is gone.
    deadline = time.monotonic() + 60
    while any(r["prirep"] == "r" and r["state"] == "STARTED"
              for r in cluster.get_json(f"/_cat/shards/{urllib.parse.quote(index)}?format=json&h=prirep,state,node")):
        assert time.monotonic() < deadline, "the replica never left the started state"
        time.sleep(0.2)

    posts = [strict.bulk([resource(wid, n)]) for n in range(POSTS)]
    read = strict.status(wid)
    relaxed = server.bulk([resource(wid, 100)])  # the default, 1 active copy: still acknowledged

    items = [next(iter(p.json()["items"][0].values())) for p in posts if p.status == 200]
    figures({
        "command": "pytest tests/reliability/test_write_timeout.py -s",
        "request timeout (s)": T,
        "FLOWSTATUS_WAIT_FOR_ACTIVE_SHARDS": "all, after the replica's node stopped",
        "bulk answers": [f"{p.status} in {p.elapsed:.2f} s" for p in posts],
        "item statuses": [f"{i['status']} {(i.get('error') or {}).get('type', '')}".strip() for i in items],
        "status read meanwhile": f"{read.status} in {read.elapsed:.2f} s",
        "same event with the default (1)": f"{relaxed.status}, item "
                                           f"{next(iter(relaxed.json()['items'][0].values()))['status']}",
        "writes read back (server log)": count_log(strict, "reading them back"),
    })

    assert read.status == 200, "reads do not need the missing copy"
    for post in posts:
        assert post.status in (200, 503), post.body[:300]
        assert post.elapsed <= 2 * T + SLACK, f"took {post.elapsed:.1f} s with a {T} s timeout"
    for item in items:
        assert item["status"] == 503, item
