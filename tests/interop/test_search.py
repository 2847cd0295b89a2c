"""The same searches through the plugin's ``workflow/state/_search`` and flowstatus's: the same answers.

The corpus is three workflows the plugin wrote (NOT_STARTED, COMPLETED,
FAILED); every body is narrowed to them, since other tests share the index.
flowstatus runs with access control off, where every caller is an admin.
Answers compare as a whole but for ``took``; hits as maps, in order.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.interop.answers import AppEndpoint, assert_search_alike
from tests.interop.plugin import FF, Plugin, unique

SEARCH = f"{FF}/state/_search"


@pytest.fixture(scope="module")
def corpus(plugin: Plugin) -> Iterator[list[str]]:
    """Ids of a NOT_STARTED, a COMPLETED and a FAILED workflow, searchable."""
    taken = unique()
    plugin.put_index(taken)
    completed_index = unique()
    ids = [plugin.create(unique()), plugin.provisioned(completed_index), plugin.provisioned(taken)]
    assert [plugin.status(i)["state"] for i in ids] == ["NOT_STARTED", "COMPLETED", "FAILED"]
    plugin.refresh_state()
    yield ids
    plugin.deprovisioned(ids[1], allow_delete=completed_index)
    for workflow_id in ids:
        plugin.delete(workflow_id)


def within(body: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """``body`` with its query narrowed to ``ids``."""
    query = body.get("query", {"match_all": {}})
    return {**body, "query": {"bool": {"must": [query], "filter": [{"ids": {"values": ids}}]}}}


BY_ID = [{"workflow_id": "asc"}]
BODIES: dict[str, dict[str, Any]] = {
    "match_all": {"sort": BY_ID},
    "scored": {"query": {"match": {"error": "already exists"}}},
    "term": {"query": {"term": {"state": "COMPLETED"}}},
    "terms": {"query": {"terms": {"provisioning_progress": ["DONE", "FAILED"]}}, "sort": BY_ID},
    "nested": {"query": {"nested": {"path": "resources_created",
                                    "query": {"term": {"resources_created.resource_type": "index_name"}}}}},
    "exists": {"query": {"exists": {"field": "error"}}},
    "range": {"query": {"range": {"provision_start_time": {"gte": 0}}}, "sort": BY_ID},
    "simple_query_string": {"query": {"simple_query_string": {"query": "COMPLETED | FAILED", "fields": ["state"]}},
                            "sort": BY_ID},
    "source_includes": {"_source": ["state", "workflow_id"], "sort": BY_ID},
    "source_excludes": {"_source": {"excludes": ["resources_created"]}, "sort": BY_ID},
    "source_true": {"_source": True, "sort": BY_ID},
    "page": {"size": 1, "from": 1, "sort": [{"workflow_id": "desc"}], "track_total_hits": True},
    "search_after": {"sort": BY_ID, "search_after": ["0"], "size": 2},
    "sort_missing": {"sort": [{"provision_start_time": {"order": "desc", "missing": "_last"}}, *BY_ID]},
    "no_total": {"track_total_hits": False, "sort": BY_ID},
    "versions_off": {"version": False, "seq_no_primary_term": False, "sort": BY_ID},
    "timeout": {"timeout": "5s", "sort": BY_ID},
    "post_filter": {"post_filter": {"term": {"state": "FAILED"}}},
    "min_score": {"query": {"match": {"error": "exists"}}, "min_score": 0.01},
    "terminate_after": {"terminate_after": 1},
    "empty_result": {"query": {"term": {"state": "PROVISIONING"}}},
}


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("name", sorted(BODIES))
def test_the_same_search_finds_the_same_hits(name: str, method: str, corpus: list[str], plugin: Plugin,
                                             flowstatus: AppEndpoint) -> None:
    body = within(BODIES[name], corpus)
    ours = plugin.call(method, SEARCH, body)
    assert ours.status == 200, ours.body
    assert_search_alike(ours, flowstatus.call(method, SEARCH, body))


def test_a_search_in_the_source_parameter(corpus: list[str], plugin: Plugin, flowstatus: AppEndpoint) -> None:
    source = urllib.parse.quote(json.dumps(within(BODIES["match_all"], corpus)))
    path = f"{SEARCH}?source={source}&source_content_type=application/json"
    ours = plugin.call("GET", path)
    assert ours.status == 200 and ours.json()["hits"]["total"]["value"] == 3
    assert_search_alike(ours, flowstatus.call("GET", path))


@pytest.mark.parametrize("path, raw", [
    (SEARCH, None),  # no body
    (SEARCH + "?foo=bar", b'{"query":{"match_all":{}}}'),
])
def test_refused_searches_are_refused_alike(path: str, raw: bytes | None, corpus: list[str], plugin: Plugin,
                                            flowstatus: AppEndpoint) -> None:
    ours = plugin.call("POST", path, raw=raw)
    assert 400 <= ours.status < 500, ours.body
    assert_search_alike(ours, flowstatus.call("POST", path, raw=raw))
