"""docs/grafana-dashboard.json and docs/prometheus-alerts.yml use only metrics flowstatus exports.

The names are compared with the exposition of a real app on a real node,
with the workflow metrics on (tenant breakdown included) and events
recorded.  Where Debian's ``prometheus`` package provides ``promtool``, it
checks the alert rules and runs them on made-up series; without it those
tests skip, except with ``CI=true``, where that fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowstatus.app import create_app
from flowstatus.observability import workflow_collector
from flowstatus.settings import Settings
from tests.conftest import IN_CI, new_id
from tests.exposition import sample_names
from tests.integration.conftest import seeded_state_index

DOCS = Path(__file__).parents[2] / "docs"
DASHBOARD = DOCS / "grafana-dashboard.json"
ALERTS = DOCS / "prometheus-alerts.yml"
# Words of PromQL that are not metric names (aggregations and functions are recognised by their "(").
KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
                      "bool", "offset", "inf", "nan"})
WORKFLOW_METRICS = {*workflow_collector.NAMES, "flowstatus_events_applied_total", "flowstatus_events_refused_total"}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads: identifiers that are neither functions, keywords nor labels."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "{}", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "[]", text)  # ranges and subqueries
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    text = re.sub(r"\blabel_values\s*\(([^,()]*),[^)]*\)", r"(\1)", text)  # Grafana's: (metric, label)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        if text[match.end():].lstrip().startswith("(") or match.group(0).lower() in KEYWORDS:
            continue
        names.add(match.group(0))
    return names


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def dashboard_expressions() -> list[str]:
    """Every PromQL expression of the dashboard: the panels' targets and the template variables' queries."""
    dashboard = json.loads(DASHBOARD.read_text())
    found = [value for key, value in _walk(dashboard["panels"]) if key == "expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            found.append(query["query"] if isinstance(query, dict) else query)
    return found


def alert_expressions() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_the_parser_finds_names_and_only_names() -> None:
    expr = ('histogram_quantile(0.9, max by (le) (rate(a_bucket{job=~"$job",x="y z"}[$__rate_interval] offset 5m)))'
            ' / on (job) group_left (state) b > 1e3 and sum without (le) (c) unless label_values(d, job)')
    assert metric_names(expr) == {"a_bucket", "b", "c", "d"}


@pytest.fixture(scope="module")
def exported(opensearch_url: str) -> set[str]:
    """The sample names of a real app's exposition, with every workflow metric and event counter present."""
    now = time.time_ns() // 1_000_000
    docs = {
        "run": {"state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS", "provision_start_time": now,
                "tenant_id": "t1"},
        "fail": {"state": "FAILED", "provisioning_progress": "FAILED", "error": "boom", "provision_start_time": now,
                 "provision_end_time": now + 1000, "tenant_id": "t1"},
    }
    with seeded_state_index(opensearch_url, "examples", docs) as index:
        app = create_app(Settings(opensearch_hosts=(opensearch_url,), state_index=index, multi_tenancy=True,
                                  workflow_metrics_tenants=5))
        client = app.test_client()
        client.environ_base["HTTP_X_TENANT_ID"] = "t1"  # multi-tenancy wants the tenant header
        events = [{"event": "create", "workflow_id": new_id()}, {"event": "provision_completed", "workflow_id": new_id()}]
        client.post("/_flowstatus/_bulk", data="".join(json.dumps(e) + "\n" for e in events),
                    content_type="application/x-ndjson")
        response = client.get("/metrics")
    assert response.status_code == 200
    return sample_names(response.get_data(as_text=True))


@pytest.mark.parametrize(("source", "expressions"), [("dashboard", dashboard_expressions),
                                                     ("alerts", alert_expressions)])
def test_every_expression_names_only_exported_metrics(source: str, expressions: Any, exported: set[str]) -> None:
    found = expressions()
    assert found, f"no expressions found in the {source}"
    for expr in found:
        names = metric_names(expr)
        assert names, f"{expr!r} names no metric"
        assert names <= exported, f"{sorted(names - exported)} in {expr!r} is not exported by flowstatus"


def test_the_dashboard_shows_every_workflow_metric() -> None:
    used = set().union(*(metric_names(e) for e in dashboard_expressions()))
    for name in sorted(WORKFLOW_METRICS):
        assert any(u == name or u.startswith(name + "_") for u in used), f"{name} is on no panel"


def _promtool(*args: str) -> None:
    """Run promtool with ``args`` and require success (skip without promtool, fail so in CI)."""
    found = shutil.which("promtool")
    if found is None:
        message = "promtool is not installed (Debian's prometheus package provides it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    result = subprocess.run([found, *args], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_alert_rules() -> None:
    _promtool("check", "rules", str(ALERTS))


def test_the_alerts_fire_as_documented(tmp_path: Path) -> None:
    rule_tests = tmp_path / "alerts-test.yml"
    rule_tests.write_text(yaml.safe_dump(ALERT_TESTS | {"rule_files": [str(ALERTS)]}))
    _promtool("test", "rules", str(rule_tests))


def _fires(alert: str, at: str, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": alert,
            "exp_alerts": [{"exp_labels": {"severity": "warning", **labels}, "exp_annotations": annotations}]}


def _quiet(alert: str, at: str) -> dict[str, Any]:
    return {"eval_time": at, "alertname": alert, "exp_alerts": []}


STALLED = {"summary": "A workflow has been provisioning for more than an hour",
           "description": "The oldest workflow in state PROVISIONING started 1h 10m 0s ago. Search the state index "
                          "for PROVISIONING workflows sorted by provision_start_time to find it."}
FAILING = {"summary": "More than 25 % of the provisionings that ended in the last hour failed",
           "description": "37.5% of the workflows that finished in the last hour are FAILED. "
                          "flowstatus_workflows_failed_by_error says which errors."}
REFUSED = {"summary": "Provisioning events are being refused for unavailable",
           "description": "flowstatus could not record events (unavailable); their senders must send them again."}
STALE = {"summary": "The workflow metrics are not being refreshed",
         "description": "flowstatus could not search the state index; the workflow metrics show older values "
                        "(see flowstatus_workflow_metrics_last_success_timestamp_seconds)."}


def _series(name: str, values: str, instances: tuple[str, ...] = ("a", "b"), **labels: str) -> list[dict[str, str]]:
    """The same values reported by several flowstatus servers, as the workflow gauges are."""
    rendered = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return [{"series": f'{name}{{instance="{i}"{"," if rendered else ""}{rendered}}}', "values": values}
            for i in instances]


ALERT_TESTS: dict[str, Any] = {"evaluation_interval": "1m", "tests": [
    {"interval": "1m",  # the oldest PROVISIONING workflow passes one hour at 10 minutes
     "input_series": _series("flowstatus_workflow_oldest_provisioning_age_seconds", "3000+60x30"),
     "alert_rule_test": [_quiet("FlowstatusProvisioningStalled", "14m"),
                         _fires("FlowstatusProvisioningStalled", "20m", {}, STALLED)]},
    {"interval": "1m",  # 3 of 8 finished workflows failed
     "input_series": [*_series("flowstatus_workflows_finished_last_hour", "3x30", state="FAILED"),
                      *_series("flowstatus_workflows_finished_last_hour", "5x30", state="COMPLETED")],
     "alert_rule_test": [_quiet("FlowstatusProvisioningFailureRateHigh", "9m"),
                         _fires("FlowstatusProvisioningFailureRateHigh", "15m", {}, FAILING)]},
    {"interval": "1m",  # 1 of 2: too few to speak of a rate
     "input_series": [*_series("flowstatus_workflows_finished_last_hour", "1x30", state="FAILED"),
                      *_series("flowstatus_workflows_finished_last_hour", "1x30", state="COMPLETED")],
     "alert_rule_test": [_quiet("FlowstatusProvisioningFailureRateHigh", "20m")]},
    {"interval": "1m",  # the store keeps refusing writes; refusals of bad events are not the store's
     "input_series": [
         *_series("flowstatus_events_refused_total", "0+5x40", ("a",), kind="resource_created", reason="unavailable"),
         *_series("flowstatus_events_refused_total", "0+50x40", ("a",), kind="create", reason="not_found")],
     "alert_rule_test": [_quiet("FlowstatusEventsRefusedByTheStore", "10m"),
                         _fires("FlowstatusEventsRefusedByTheStore", "30m", {"reason": "unavailable"}, REFUSED)]},
    {"interval": "1m",  # one server cannot search the state index
     "input_series": [*_series("flowstatus_workflow_metrics_stale", "0x5 1x20", ("a",)),
                      *_series("flowstatus_workflow_metrics_stale", "0x25", ("b",))],
     "alert_rule_test": [_quiet("FlowstatusWorkflowMetricsStale", "12m"),
                         _fires("FlowstatusWorkflowMetricsStale", "20m", {}, STALE)]},
]}
