"""Where flowstatus's state search differs from the plugin's: each difference, both answers.

docs/compatibility.md lists these differences and why they exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.interop.answers import AppEndpoint
from tests.interop.events import record
from tests.interop.plugin import FF, Plugin, unique

SEARCH = f"{FF}/state/_search"


@pytest.fixture(scope="module")
def completed(plugin: Plugin) -> Iterator[str]:
    """A COMPLETED workflow, searchable."""
    index = unique()
    workflow_id = plugin.provisioned(index)
    plugin.refresh_state()
    yield workflow_id
    plugin.deprovisioned(workflow_id, allow_delete=index)


def only(workflow_id: str, **body: Any) -> dict[str, Any]:
    return {"query": {"ids": {"values": [workflow_id]}}, **body}


def test_difference_aggregations_are_answered(completed: str, plugin: Plugin, flowstatus: AppEndpoint) -> None:
    body = only(completed, size=0, aggs={"states": {"terms": {"field": "state"}}})
    ours, theirs = plugin.call("POST", SEARCH, body), flowstatus.call("POST", SEARCH, body)
    assert ours.status == 500 and ours.json()["error"]["type"] == "json_generation_exception"
    assert theirs.status == 200
    assert theirs.json()["aggregations"]["states"]["buckets"] == [{"key": "COMPLETED", "doc_count": 1}]


def test_difference_source_false_is_honoured(completed: str, plugin: Plugin, flowstatus: AppEndpoint) -> None:
    body = only(completed, _source=False)
    (ours,), (theirs,) = (endpoint.call("POST", SEARCH, body).json()["hits"]["hits"] for endpoint in (plugin, flowstatus))
    assert ours["_source"]["state"] == "COMPLETED", "the plugin returns the source anyway"
    assert "_source" not in theirs
    assert {k: v for k, v in ours.items() if k != "_source"} == theirs


@pytest.mark.parametrize("part, plugin_status", [
    ({"stored_fields": ["state"]}, 200), ({"docvalue_fields": ["state"]}, 200),
    # The plugin fails on its own way back (it re-parses the response) with a 500.
    ({"suggest": {"s": {"text": "x", "term": {"field": "state"}}}}, 500),
], ids=["stored_fields", "docvalue_fields", "suggest"])
def test_difference_parts_that_could_read_past_the_access_filters_are_refused(
        part: dict[str, Any], plugin_status: int, completed: str, plugin: Plugin, flowstatus: AppEndpoint) -> None:
    body = only(completed, **part)
    ours, theirs = plugin.call("POST", SEARCH, body), flowstatus.call("POST", SEARCH, body)
    assert ours.status == plugin_status, ours.body
    (key,) = part
    assert theirs.status == 400 and theirs.json()["error"]["type"] == "illegal_argument_exception"
    assert theirs.json()["error"]["reason"].startswith(f"[{key}] is not allowed in a workflow state search")


def test_difference_a_failed_search_is_opensearchs_4xx_not_a_500(plugin: Plugin, flowstatus: AppEndpoint) -> None:
    # A body flowstatus lets through that OpenSearch still refuses: more search_after values than sort values.
    raw = b'{"sort":[{"workflow_id":"asc"}],"search_after":["a","b"]}'
    ours, theirs = plugin.call("POST", SEARCH, raw=raw), flowstatus.call("POST", SEARCH, raw=raw)
    assert ours.status == 500 and ours.json()["error"]["type"] == "status_exception"
    assert theirs.status == 400
    # The plugin wraps OpenSearch's own error, which flowstatus passes on as it is.
    assert ours.json()["error"]["root_cause"] == theirs.json()["error"]["root_cause"]


@pytest.mark.parametrize("raw, plugin_status, named", [
    (b'{"query":{"bogus":{}}}', 400, "[query.bogus]"),
    (b'{"size":-5}', 400, "[size]"),
    (b'{"query":{"term":{"state":{"valeu":"COMPLETED"}}}}', 400, "[query.term.state.valeu]"),
    (b'{"query":{"query_string":{"query":"state:COMPLETED"}}}', 200, "[query.query_string]"),
    (b'{"sort":[{"no_such_field":"asc"}]}', 500, "[sort"),
], ids=["unknown-query", "negative-size", "unknown-option", "query-string", "unmapped-sort"])
def test_difference_what_the_allowlist_refuses_is_flowstatuss_own_400(
        raw: bytes, plugin_status: int, named: str, plugin: Plugin, flowstatus: AppEndpoint) -> None:
    # flowstatus loads every body through a closed schema of what the state index needs: a refused
    # part is an illegal_argument_exception naming its path, whatever OpenSearch would have said.
    ours, theirs = plugin.call("POST", SEARCH, raw=raw), flowstatus.call("POST", SEARCH, raw=raw)
    assert ours.status == plugin_status, ours.body
    assert theirs.status == 400 and theirs.json()["error"]["type"] == "illegal_argument_exception"
    assert theirs.json()["error"]["reason"].startswith(named)


def test_difference_a_source_parameter_without_its_content_type_is_a_400(
        plugin: Plugin, flowstatus: AppEndpoint) -> None:
    path = f"{SEARCH}?source=%7B%7D"
    ours, theirs = plugin.call("GET", path), flowstatus.call("GET", path)
    assert (ours.status, theirs.status) == (500, 400)
    assert {**ours.json(), "status": 400} == theirs.json()


@pytest.mark.parametrize("raw, plugin_type, flowstatus_type", [
    (b"{bad", "json_parse_exception", "json_parse_exception"),
    (b'{"query": {"match_all": {}}', "json_e_o_f_exception", "json_parse_exception"),
    (b"[]", "parsing_exception", "parsing_exception"),
], ids=["bad-token", "truncated", "array"])
def test_difference_json_errors_are_worded_by_flowstatuss_parser(
        raw: bytes, plugin_type: str, flowstatus_type: str, plugin: Plugin, flowstatus: AppEndpoint) -> None:
    # flowstatus reads the body itself: OpenSearch's shape and status, its own parser's words.
    ours, theirs = plugin.call("POST", SEARCH, raw=raw), flowstatus.call("POST", SEARCH, raw=raw)
    assert ours.status == theirs.status == 400
    assert (ours.json()["error"]["type"], theirs.json()["error"]["type"]) == (plugin_type, flowstatus_type)
    if plugin_type == "parsing_exception":  # the same reason, without the plugin's line and col
        assert {k: v for k, v in ours.json()["error"].items() if k not in ("line", "col", "root_cause")} == \
            {k: v for k, v in theirs.json()["error"].items() if k != "root_cause"}
    else:
        assert "line 1 column" in theirs.json()["error"]["reason"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_difference_the_405_names_the_methods_in_a_fixed_order(
        method: str, plugin: Plugin, flowstatus: AppEndpoint) -> None:
    # The plugin's order follows a hash order that changes from one node start to the next.
    ours, theirs = plugin.call(method, SEARCH), flowstatus.call(method, SEARCH)
    assert ours.status == theirs.status == 405
    assert set(ours.headers["allow"].split(",")) == {"GET", "POST"}
    assert theirs.headers["allow"] == "GET,POST"
    assert theirs.json()["error"].endswith(f"and method [{method}], allowed: [GET, POST]")
    assert ours.json()["error"].replace("[POST, GET]", "[GET, POST]") == theirs.json()["error"]


def test_search_hides_user_from_callers_without_one_as_the_plugin_does(
        plugin: Plugin, flowstatus: AppEndpoint, plugin_user: dict[str, Any]) -> None:
    workflow_id = unique("fs")
    record(flowstatus, {"event": "create", "workflow_id": workflow_id, "user": plugin_user})
    plugin.refresh_state()
    (ours,), (theirs,) = (endpoint.call("POST", SEARCH, only(workflow_id)).json()["hits"]["hits"]
                          for endpoint in (plugin, flowstatus))
    assert "user" not in ours["_source"]
    assert theirs["_source"] == ours["_source"]
