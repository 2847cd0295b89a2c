"""End to end: the workflow metrics of ``flowstatus serve`` with two worker processes.

The workers share one census per interval through the server's metrics
directory, whatever the scrape rate; OpenSearch's searches are counted by a
recording proxy in front of the node.
"""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from opensearchpy import OpenSearch

from tests.conftest import new_id
from tests.e2e.conftest import serving
from tests.exposition import families, metric
from tests.recording_proxy import RecordingProxy

INTERVAL = 5


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
        assert response.status == 200
        return response.read().decode()


def test_two_workers_search_once_per_interval_and_export_each_family_once(
    opensearch_url: str, unique_index: str, raw: OpenSearch, tmp_path: Path
) -> None:
    env = {"FLOWSTATUS_WORKFLOW_METRICS_INTERVAL": str(INTERVAL),
           "FLOWSTATUS_REFRESH": "true",  # the census sees the events at once
           "FLOWSTATUS_STEP_OBSERVER": "false"}  # the step observer searches too: count the census's only
    with RecordingProxy(opensearch_url) as proxy, \
            serving(proxy.url, unique_index, tmp_path / "serve.log", "--workers", "2", env=env) as server:
        a, b = new_id(), new_id()
        lines = [{"event": "create", "workflow_id": a}, {"event": "create", "workflow_id": b},
                 {"event": "provision_started", "workflow_id": b},
                 {"event": "provision_completed", "workflow_id": new_id()}]
        request = urllib.request.Request(server.url + "/_flowstatus/_bulk", method="POST",
                                         data="".join(json.dumps(line) + "\n" for line in lines).encode(),
                                         headers={"Content-Type": "application/x-ndjson"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            texts = list(pool.map(lambda _: _scrape(server.url), range(48)))
        elapsed = time.monotonic() - started
        assert 1 <= proxy.searches() <= 1 + elapsed // INTERVAL, (proxy.searches(), elapsed)

    for text in texts:
        declared = families(text)
        assert len(declared) == len(set(declared)), "a family declared twice"
        assert "flowstatus_workflows_by_state" in declared
    text = texts[-1]
    assert metric(text, "flowstatus_workflows_by_state", state="NOT_STARTED") == 1
    assert metric(text, "flowstatus_workflows_by_state", state="PROVISIONING") == 1
    assert metric(text, "flowstatus_workflow_metrics_stale") == 0
    assert metric(text, "flowstatus_events_applied_total", kind="create", result="created") == 2
    assert metric(text, "flowstatus_events_refused_total", kind="provision_completed", reason="not_found") == 1
