"""Dashboards' searches against a real node: aggregations on the plugin's mapping, and the documented examples."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.integration.search.conftest import BOB, MINUTE, NOW, Searcher, search

# -- dashboards -----------------------------------------------------------------------


def test_dashboard_fields_aggregate_with_the_plugins_mapping(searcher: Searcher) -> None:
    body = {
        "size": 0,
        "aggs": {
            "state": {"terms": {"field": "state"}},
            "progress": {"terms": {"field": "provisioning_progress"}},
            "first_start": {"min": {"field": "provision_start_time"}},
            "last_end": {"max": {"field": "provision_end_time"}},
            # Buckets only where workflows started: empty ones need a bounded span (tests/hostile).
            "starts": {"date_histogram": {"field": "provision_start_time", "fixed_interval": "1d", "min_doc_count": 1}},
            "resources": {"nested": {"path": "resources_created"},
                          "aggs": {"type": {"terms": {"field": "resources_created.resource_type"}}}},
        },
    }
    aggs = search(searcher(), body).get_json()["aggregations"]

    def counts(agg: dict[str, Any]) -> dict[str, int]:
        return {b["key"]: b["doc_count"] for b in agg["buckets"]}

    assert counts(aggs["state"]) == {"COMPLETED": 2, "FAILED": 2, "PROVISIONING": 2, "NOT_STARTED": 1}
    assert counts(aggs["progress"]) == {"DONE": 2, "FAILED": 2, "IN_PROGRESS": 2, "NOT_STARTED": 1}
    assert aggs["first_start"]["value"] == NOW - 300 * MINUTE
    assert aggs["last_end"]["value"] == NOW - 29 * MINUTE
    assert sum(b["doc_count"] for b in aggs["starts"]["buckets"]) == 6
    assert aggs["resources"]["doc_count"] == 7
    assert counts(aggs["resources"]["type"]) == {"connector_id": 3, "model_id": 2, "index_name": 2}


# The examples of docs/search.md (each is also checked against that page below).
EXAMPLES: dict[str, dict[str, Any]] = {
    "workflows-by-state": {
        "size": 0,
        "aggs": {"by_state": {"terms": {"field": "state"}}},
    },
    "failures-last-hour": {
        "query": {"bool": {"filter": [
            {"term": {"state": "FAILED"}},
            {"range": {"provision_end_time": {"gte": "now-1h"}}},
        ]}},
        "sort": [{"provision_end_time": "desc"}],
        "_source": ["workflow_id", "error", "provision_end_time"],
    },
    "slowest-runs": {
        "query": {"term": {"state": "PROVISIONING"}},
        "sort": [{"provision_start_time": "asc"}],
        "_source": ["workflow_id", "provision_start_time", "resources_created.resource_type"],
        "size": 10,
    },
    "started-per-hour": {
        "size": 0,
        "query": {"range": {"provision_start_time": {"gte": "now-7d", "lte": "now"}}},
        "aggs": {"started": {"date_histogram": {
            "field": "provision_start_time", "fixed_interval": "1h", "min_doc_count": 0,
            "extended_bounds": {"min": "now-7d", "max": "now"},
        }}},
    },
}


def test_example_workflows_by_state(searcher: Searcher) -> None:
    buckets = search(searcher(), EXAMPLES["workflows-by-state"]).get_json()["aggregations"]["by_state"]["buckets"]
    assert {b["key"]: b["doc_count"] for b in buckets} == {
        "COMPLETED": 2, "FAILED": 2, "PROVISIONING": 2, "NOT_STARTED": 1}


def test_example_failures_in_the_last_hour(searcher: Searcher) -> None:
    hits = search(searcher(), EXAMPLES["failures-last-hour"]).get_json()["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["wf-failed-a"]
    assert hits[0]["_source"] == {"workflow_id": "wf-failed-a", "provision_end_time": NOW - 29 * MINUTE,
                                  "error": "WorkflowStepException during step create_index"}


def test_example_slowest_provisioning_runs(searcher: Searcher) -> None:
    hits = search(searcher(), EXAMPLES["slowest-runs"]).get_json()["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["wf-running-a", "wf-running-b"]
    assert hits[1]["_source"] == {"workflow_id": "wf-running-b", "provision_start_time": NOW - 5 * MINUTE,
                                  "resources_created": [{"resource_type": "connector_id"}]}


def test_example_started_per_hour_last_week(searcher: Searcher) -> None:
    buckets = search(searcher(), EXAMPLES["started-per-hour"]).get_json()["aggregations"]["started"]["buckets"]
    assert 168 <= len(buckets) <= 170, "one bucket per hour of the week, empty ones included"
    assert sum(b["doc_count"] for b in buckets) == 6


def test_examples_are_allowed_to_non_admins_under_every_filter(searcher: Searcher) -> None:
    client = searcher(BOB, filter_by_backend_roles=True, multi_tenancy=True)
    for example in EXAMPLES.values():
        assert search(client, example).status_code == 200


def test_the_search_docs_show_these_examples() -> None:
    page = (Path(__file__).parents[3] / "docs" / "search.md").read_text()
    shown = {m.group(1): json.loads(m.group(2))
             for m in re.finditer(r"<!-- search-example: ([\w-]+) -->\s*```json\n(.*?)```", page, re.DOTALL)}
    assert shown == EXAMPLES
