"""Workflow metrics on /metrics against a real node: the values, one search per interval, outages.

OpenSearch's searches are counted by a recording proxy in front of the node.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flowstatus.app import create_app
from flowstatus.settings import Settings
from tests.exposition import metric
from tests.integration.conftest import seeded_state_index
from tests.recording_proxy import RecordingProxy

MINUTE = 60_000


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _scrape(app: Flask) -> str:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _every_state(now: int) -> dict[str, dict[str, Any]]:
    def doc(state: str, progress: str, **more: Any) -> dict[str, Any]:
        return {"state": state, "provisioning_progress": progress, **more}

    return {
        "new": doc("NOT_STARTED", "NOT_STARTED"),
        "run-10m": doc("PROVISIONING", "IN_PROGRESS", provision_start_time=now - 10 * MINUTE),
        "run-1m": doc("PROVISIONING", "IN_PROGRESS", provision_start_time=now - MINUTE),
        # Times as other writers may store them: ISO strings, read as the same instants.
        "done-iso": doc("COMPLETED", "DONE", provision_start_time="2024-05-01T10:00:00.000Z",
                        provision_end_time="2024-05-01T10:00:04.500Z"),
        "done-recent": doc("COMPLETED", "DONE", provision_start_time=now - 5 * MINUTE,
                           provision_end_time=now - MINUTE),
        "failed-recent": doc("FAILED", "FAILED", provision_start_time=now - 3 * MINUTE,
                             provision_end_time=now - 2 * MINUTE,
                             error="Failed to create connector failed-recent\n\tat org.opensearch..."),
        "failed-old": doc("FAILED", "FAILED", provision_start_time=1_000, provision_end_time=1_000 + 40_000,
                          error="quota exceeded"),
        "unknown": doc("UNKNOWN", "NOT_STARTED"),
    }


def test_workflows_in_every_state_give_the_expected_metrics(opensearch_url: str) -> None:
    with seeded_state_index(opensearch_url, "metrics", _every_state(_now_ms())) as index:
        text = _scrape(create_app(Settings(opensearch_hosts=(opensearch_url,), state_index=index)))

    by_state = {s: metric(text, "flowstatus_workflows_by_state", state=s)
                for s in ("NOT_STARTED", "PROVISIONING", "COMPLETED", "FAILED", "UNKNOWN", "other")}
    assert by_state == {"NOT_STARTED": 1, "PROVISIONING": 2, "COMPLETED": 2, "FAILED": 2, "UNKNOWN": 1, "other": 0}
    progress = {p: metric(text, "flowstatus_workflows_by_progress", provisioning_progress=p)
                for p in ("NOT_STARTED", "IN_PROGRESS", "DONE", "FAILED", "other")}
    assert progress == {"NOT_STARTED": 2, "IN_PROGRESS": 2, "DONE": 2, "FAILED": 2, "other": 0}
    assert metric(text, "flowstatus_workflows_finished_last_hour", state="COMPLETED") == 1
    assert metric(text, "flowstatus_workflows_finished_last_hour", state="FAILED") == 1

    age = metric(text, "flowstatus_workflow_oldest_provisioning_age_seconds")
    assert 600 <= age < 600 + 120, age

    def bucket(state: str, le: str) -> float:
        return metric(text, "flowstatus_workflow_provisioning_duration_seconds_bucket", state=state, le=le)

    # COMPLETED took 4.5 s and 240 s; FAILED 60 s and 40 s.
    assert [bucket("COMPLETED", le) for le in ("1.0", "5.0", "120.0", "300.0", "+Inf")] == [0, 1, 1, 2, 2]
    assert [bucket("FAILED", le) for le in ("30.0", "60.0", "+Inf")] == [0, 2, 2]
    assert metric(text, "flowstatus_workflow_provisioning_duration_seconds_gcount", state="COMPLETED") == 2
    assert metric(text, "flowstatus_workflow_provisioning_duration_seconds_gsum", state="COMPLETED") == 244.5
    assert metric(text, "flowstatus_workflow_provisioning_duration_seconds_gsum", state="FAILED") == 100

    assert metric(text, "flowstatus_workflows_failed_by_error", error="Failed to create connector <workflow_id>") == 1
    assert metric(text, "flowstatus_workflows_failed_by_error", error="quota exceeded") == 1
    assert metric(text, "flowstatus_workflow_metrics_stale") == 0
    assert abs(metric(text, "flowstatus_workflow_metrics_last_success_timestamp_seconds") - time.time()) < 60
    assert "failed-recent" not in text and "run-10m" not in text, "no workflow id in any label"


def test_a_missing_state_index_is_no_workflows_not_stale(fresh_settings: Settings) -> None:
    text = _scrape(create_app(fresh_settings))
    assert metric(text, "flowstatus_workflows_by_state", state="NOT_STARTED") == 0
    assert metric(text, "flowstatus_workflow_metrics_stale") == 0


def _burst(apps: list[Flask], scrapes: int) -> None:
    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(lambda i: _scrape(apps[i % len(apps)]), range(scrapes)))
    assert all("flowstatus_workflows_by_state{" in t for t in texts)


@pytest.mark.parametrize("shared", [False, True], ids=["one process", "workers sharing a directory"])
def test_one_search_per_interval_whatever_the_scrape_rate(
    shared: bool, recording_proxy: RecordingProxy, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shared:
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    proxied = Settings(opensearch_hosts=(recording_proxy.url,), state_index=settings.state_index,
                       workflow_metrics_interval=2)
    apps = [create_app(proxied) for _ in range(3 if shared else 1)]
    started = time.monotonic()
    _burst(apps, 60)
    elapsed = time.monotonic() - started
    assert 1 <= recording_proxy.searches() <= 1 + elapsed // 2, (recording_proxy.searches(), elapsed)
    time.sleep(max(0.0, 2.1 - (time.monotonic() - started)))
    before, started = recording_proxy.searches(), time.monotonic()
    _burst(apps, 60)
    elapsed = time.monotonic() - started
    assert 1 <= recording_proxy.searches() - before <= 1 + elapsed // 2, "refreshed after the interval, once"


def test_an_unreachable_opensearch_keeps_the_last_values_marked_stale(
    recording_proxy: RecordingProxy, opensearch_url: str
) -> None:
    with seeded_state_index(opensearch_url, "outage", _every_state(_now_ms())) as index:
        app = create_app(Settings(opensearch_hosts=(recording_proxy.url,), state_index=index,
                                  workflow_metrics_interval=1, request_timeout=2))
        fresh = _scrape(app)
        assert metric(fresh, "flowstatus_workflow_metrics_stale") == 0
        computed = metric(fresh, "flowstatus_workflow_metrics_last_success_timestamp_seconds")

        recording_proxy.stop()
        time.sleep(1.1)
        started = time.monotonic()
        stale = _scrape(app)
        assert time.monotonic() - started < 10
        assert metric(stale, "flowstatus_workflow_metrics_stale") == 1
        assert metric(stale, "flowstatus_workflows_by_state", state="PROVISIONING") == 2, "the last values stay"
        assert metric(stale, "flowstatus_workflow_metrics_last_success_timestamp_seconds") == computed
        assert metric(stale, "flowstatus_workflow_oldest_provisioning_age_seconds") > metric(
            fresh, "flowstatus_workflow_oldest_provisioning_age_seconds"), "a stall keeps growing while stale"

        recording_proxy.start()
        time.sleep(1.1)
        recovered = _scrape(app)
        assert metric(recovered, "flowstatus_workflow_metrics_stale") == 0
        assert metric(recovered, "flowstatus_workflow_metrics_last_success_timestamp_seconds") > computed
