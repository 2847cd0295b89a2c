"""The top level of the closed search schema: what is allowed, how values are rebuilt, how refusals read."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from flowstatus.domain.search_cost import MAX_DEPTH
from flowstatus.ui.listing import ListRequest, detail_body
from tests.unit.schemas.search_helpers import load, refusal

# -- what flowstatus itself sends, and what dashboards need ---------------------------


@pytest.mark.parametrize("body", [
    ListRequest().search_body(),
    ListRequest(state="FAILED", page=3, size=100).search_body(),
    detail_body("wf-1"),
], ids=["page", "filtered page", "detail"])
def test_the_status_pages_searches_load_unchanged(body: dict[str, Any]) -> None:
    assert load(body) == body


ALLOWED = {
    "paging": {"from": 10, "size": 5, "track_total_hits": True},
    "search_after": {"sort": [{"provision_start_time": "desc"}, "workflow_id"], "search_after": [1, "x"]},
    "search_after with a missing value": {"sort": ["state"], "search_after": [None]},
    "track_total_hits as a count": {"track_total_hits": 100},
    "timeout and friends": {"timeout": "1s", "terminate_after": 10, "min_score": 0.1, "track_scores": True,
                            "version": False, "seq_no_primary_term": False},
    "aggregations spelled out": {"aggregations": {"s": {"terms": {"field": "state"}}}},
    "_source false": {"_source": False},
    "_source patterns": {"_source": ["workflow_id", "resources_created.*"]},
    "_source object": {"_source": {"includes": ["state"], "excludes": "error"}},
}


@pytest.mark.parametrize("body", ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed_at_the_top_level(body: dict[str, Any]) -> None:
    load(body)


def test_source_is_rebuilt_in_one_shape() -> None:
    assert load({"_source": {"include": "state", "exclude": ["error"], "excludes": "x"}})["_source"] == {
        "includes": ["state"], "excludes": ["x", "error"]}
    assert load({"_source": "state"})["_source"] == ["state"]


# -- refused at the top level --------------------------------------------------------

REFUSED = {
    "stored_fields": ({"stored_fields": ["user"]}, ("[stored_fields] is not allowed in a workflow state search: it "
                                                   "returns field values outside the _source filter")),
    "docvalue_fields": ({"docvalue_fields": ["x"]}, "[docvalue_fields] is not allowed"),
    "fields": ({"fields": ["*"]}, "[fields] is not allowed"),
    "script_fields": ({"script_fields": {}}, "[script_fields] is not allowed in a workflow state search: scripts"),
    "highlight": ({"highlight": {"fields": {"*": {}}}}, "[highlight] is not allowed"),
    "suggest": ({"suggest": {}}, "[suggest] is not allowed in a workflow state search: suggesters read"),
    "collapse": ({"collapse": {"field": "state"}}, "[collapse] is not allowed"),
    "pit": ({"pit": {"id": "x"}}, "[pit] is not allowed"),
    "slice": ({"slice": {"id": 0, "max": 2}}, "[slice] is not allowed"),
    "rescore": ({"rescore": {}}, "[rescore] is not allowed"),
    "explain": ({"explain": True}, "[explain] is not allowed"),
    "profile": ({"profile": True}, "[profile] is not allowed"),
    "runtime_mappings": ({"runtime_mappings": {}}, "[runtime_mappings] is not allowed"),
    "ext": ({"ext": {}}, "[ext] is not allowed"),
    "unknown": ({"bogus": 1}, ("[bogus] is not allowed in a workflow state search; allowed: _source, aggregations, "
                              "aggs, from, min_score, post_filter, query, search_after, seq_no_primary_term, size, "
                              "sort, terminate_after, timeout, track_scores, track_total_hits, version")),
    "both aggregation keys": ({"aggs": {}, "aggregations": {}}, "[aggregations] give either [aggs] or"),
    "from + size past 10,000": ({"from": 9_991, "size": 10}, "[size] reaches past hit 10000"),
    "default size past 10,000": ({"from": 9_991}, "[size] reaches past hit 10000"),
    "negative from": ({"from": -1}, "[from] must be from 0 to 10000"),
    "_source of another shape": ({"_source": {"only": ["user"]}}, "[_source.only] is not allowed in _source"),
    "_source of numbers": ({"_source": ["state", 1]}, "[_source[1]] must be a string"),
    "a timeout that is not one": ({"timeout": "soon"}, "[timeout] must be a time value"),
    "track_total_hits as a string": ({"track_total_hits": "true"}, "[track_total_hits] must be a whole number"),
    "too many sorts": ({"sort": ["state"] * 9}, "[sort] must hold at most 8 entries"),
    "search_after objects": ({"search_after": [{}]}, "[search_after[0]] must be a string, a number or true/false"),
    "search_after null on a date": ({"sort": [{"provision_start_time": "asc"}, "state"], "search_after": [None, None]},
                                    "[search_after[0]] null is a search_after value only for a sort on a keyword"),
    "search_after null on the score": ({"search_after": [None]}, "[search_after[0]] null is a search_after value"),
}


@pytest.mark.parametrize(("body", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_at_the_top_level(body: dict[str, Any], message: str) -> None:
    assert refusal(body).startswith(message)


def test_several_refused_parts_are_named_together() -> None:
    message = refusal({"stored_fields": [], "suggest": {}, "a": 1, "b": 2, "c": 3, "d": 4})
    assert message.startswith("[stored_fields] is not allowed")
    assert message.endswith("(also refused: [suggest], [a], [b], [c])"), "five named, the rest refused too"


# -- numbers: one meaning, sent as read ----------------------------------------------

SPELLINGS = ['"10"', "10.0", "1e1", "1E+1", '"1e1"', '" 10"', '"010"', '"0xA"', '"+10"', "9.99999999999999999e0",
             '"9.99999999999999999e0"', "10.000000000000000001", "true", "null", "[10]", '{"value": 10}']


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("key", ["size", "from", "terminate_after"])
def test_a_count_is_a_json_integer_and_nothing_else(key: str, spelling: str) -> None:
    body = orjson.loads(f'{{"{key}": {spelling}}}')
    assert refusal(body).startswith(f"[{key}] ")


@pytest.mark.parametrize("spelling", ["10", "-0", "0"])
def test_json_integers_are_rebuilt_as_integers(spelling: str) -> None:
    loaded = load(orjson.loads(f'{{"size": {spelling}, "from": 0}}'))
    assert type(loaded["size"]) is int
    assert json.dumps(loaded) == f'{{"from": 0, "size": {int(spelling)}}}'


def test_integers_too_large_for_a_long_arrive_as_floats_and_are_refused() -> None:
    assert refusal(orjson.loads('{"size": 18446744073709551616}')).startswith("[size] must be a whole number")


def test_nesting_is_bounded_before_anything_is_loaded() -> None:
    deep: dict[str, Any] = {"match_all": {}}
    for _ in range(MAX_DEPTH):
        deep = {"bool": {"must": deep}}
    assert refusal({"query": deep}) == "the search body nests objects and arrays deeper than 32 levels"
