"""The workflow metrics are collected at scrape time, once per exposition, multi-process or not."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from flowstatus.domain.census import DurationHistogram, WorkflowCensus
from flowstatus.observability import metrics
from flowstatus.observability.census_cache import CensusCache
from flowstatus.observability.workflow_collector import WorkflowCollector

CENSUS = WorkflowCensus(
    taken_at=1000.0,
    by_state={"PROVISIONING": 1, "other": 0},
    by_progress={"IN_PROGRESS": 1, "other": 0},
    finished_last_hour={"COMPLETED": 1, "FAILED": 0},
    oldest_provisioning_start=900.0,
    durations={"COMPLETED": DurationHistogram.of([2.0])},
    failed_by_error={"other": 0},
    by_tenant={"t1": {"PROVISIONING": 1}},
)
FAMILIES = ("flowstatus_workflow_metrics_stale", "flowstatus_workflows_by_state", "flowstatus_workflows_by_progress",
            "flowstatus_workflows_finished_last_hour", "flowstatus_workflow_oldest_provisioning_age_seconds",
            "flowstatus_workflow_provisioning_duration_seconds", "flowstatus_workflows_failed_by_error",
            "flowstatus_workflow_metrics_last_success_timestamp_seconds")


class Counted:
    def __init__(self, census: WorkflowCensus | None) -> None:
        self.census, self.calls = census, 0

    def __call__(self) -> WorkflowCensus | None:
        self.calls += 1
        return self.census


@pytest.mark.parametrize("shared", [False, True])
def test_each_workflow_family_is_exported_once(shared: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shared:
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    collector = WorkflowCollector(CensusCache(Counted(CENSUS), interval=60), clock=lambda: 1030.0)
    text = metrics.exposition(collector).decode()
    for name in FAMILIES:
        assert text.count(f"# TYPE {name} ") == 1, name
    assert "flowstatus_workflow_oldest_provisioning_age_seconds 130.0" in text
    assert 'flowstatus_workflow_provisioning_duration_seconds_bucket{le="1.0",state="COMPLETED"} 0.0' in text
    assert 'flowstatus_workflow_provisioning_duration_seconds_bucket{le="5.0",state="COMPLETED"} 1.0' in text
    assert 'flowstatus_workflow_provisioning_duration_seconds_gcount{state="COMPLETED"} 1.0' in text
    assert "flowstatus_workflows_by_tenant" not in text, "the tenant breakdown is off unless asked for"
    assert ("flowstatus_http_requests_total" in text) is not shared, "the process's registry, or the shared files"


def test_registering_takes_no_census() -> None:
    take = Counted(CENSUS)
    registry = CollectorRegistry()
    registry.register(WorkflowCollector(CensusCache(take, interval=60)))
    assert take.calls == 0


def test_without_any_census_only_the_stale_gauge_is_exported() -> None:
    text = metrics.exposition(WorkflowCollector(CensusCache(Counted(None), interval=60))).decode()
    assert "flowstatus_workflow_metrics_stale 1.0" in text
    assert "flowstatus_workflows_by_state{" not in text


def test_the_tenant_breakdown_when_asked_for() -> None:
    collector = WorkflowCollector(CensusCache(Counted(CENSUS), interval=60), tenants=True)
    text = metrics.exposition(collector).decode()
    assert 'flowstatus_workflows_by_tenant{state="PROVISIONING",tenant="t1"} 1.0' in text
