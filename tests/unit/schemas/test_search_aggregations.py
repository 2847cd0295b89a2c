"""Aggregations of the closed search schema: the allowed types, their sizes, and the leaks they cannot open."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from tests.unit.schemas.search_helpers import load, refusal

RES = "resources_created"
START = "provision_start_time"

ALLOWED = {
    "terms": {"terms": {"field": "state", "size": 50, "shard_size": 100, "min_doc_count": 2,
                        "order": {"_count": "desc"}, "show_term_doc_count_error": True}},
    "terms ordered by a metric": {"terms": {"field": "state", "order": [{"first": "asc"}, {"_key": "asc"}]},
                                  "aggs": {"first": {"min": {"field": START}}}},
    "multi_terms": {"multi_terms": {"terms": [{"field": "state"}, {"field": "provisioning_progress"}], "size": 5}},
    "filter": {"filter": {"term": {"state": "FAILED"}}, "aggs": {"n": {"value_count": {"field": "workflow_id"}}}},
    "filters": {"filters": {"filters": {"failed": {"term": {"state": "FAILED"}}, "done": {"match_all": {}}},
                            "other_bucket": True}},
    "anonymous filters": {"filters": {"filters": [{"term": {"state": "FAILED"}}]}},
    "range": {"range": {"field": START, "ranges": [{"to": 1_000}, {"from": 1_000, "key": "late"}]}},
    "date_range": {"date_range": {"field": START, "ranges": [{"from": "now-1d"}, {"to": "now-1d"}], "keyed": True}},
    "histogram": {"histogram": {"field": "schema_version", "interval": 1, "min_doc_count": 1}},
    "date_histogram": {"date_histogram": {"field": START, "calendar_interval": "day", "min_doc_count": 0,
                                          "hard_bounds": {"min": "now-7d", "max": "now"}, "offset": "+6h"}},
    "nested and reverse_nested": {"nested": {"path": RES}, "aggs": {
        "type": {"terms": {"field": f"{RES}.resource_type"}, "aggs": {
            "back": {"reverse_nested": {}, "aggs": {"state": {"terms": {"field": "state"}}}}}}}},
    "metrics": {"cardinality": {"field": "workflow_id", "precision_threshold": 100}},
    "top_hits": {"top_hits": {"size": 3, "from": 1, "sort": [{START: "desc"}], "_source": ["state"],
                              "track_scores": True}},
}


@pytest.mark.parametrize("definition", ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed_aggregations_load_unchanged(definition: dict[str, Any]) -> None:
    assert load({"aggs": {"a": definition}})["aggs"]["a"] == _rebuilt(definition)


def _rebuilt(definition: dict[str, Any]) -> dict[str, Any]:
    if "top_hits" in definition:
        return {"top_hits": {**definition["top_hits"], "sort": [{START: "desc"}]}}
    return definition


@pytest.mark.parametrize("agg", ["min", "max", "avg", "sum"])
def test_numeric_metrics_read_numeric_fields(agg: str) -> None:
    load({"aggs": {"m": {agg: {"field": START}}}})
    assert "is a keyword field" in refusal({"aggs": {"m": {agg: {"field": "state"}}}})


REFUSED = {
    "global": ({"global": {}}, "[aggs.a.global] is not allowed as an aggregation: global aggregations escape"),
    "significant_terms": ({"significant_terms": {"field": "state"}}, "[aggs.a.significant_terms] is not allowed"),
    "significant_text": ({"significant_text": {"field": "error"}}, "[aggs.a.significant_text] is not allowed"),
    "scripted_metric": ({"scripted_metric": {}}, "[aggs.a.scripted_metric] is not allowed as an aggregation: scripts"),
    "bucket_script": ({"bucket_script": {}}, "[aggs.a.bucket_script] is not allowed as an aggregation: scripts"),
    "composite": ({"composite": {}}, "[aggs.a.composite] is not allowed"),
    "a script in terms": ({"terms": {"script": "doc"}}, "[aggs.a.terms.script] is not allowed in a terms aggregation"),
    "terms without a field": ({"terms": {}}, "[aggs.a.terms.field] is required"),
    "terms on text": ({"terms": {"field": "error"}}, "[aggs.a.terms.field] is a text field"),
    "terms on a nested field": ({"terms": {"field": f"{RES}.resource_id"}}, ("[aggs.a.terms.field] lives in the "
                                                                            "nested")),
    "terms on user": ({"terms": {"field": "user.name.keyword"}}, "[aggs.a.terms.field] the [user] field is hidden"),
    "terms min_doc_count 0": ({"terms": {"field": "workflow_id", "min_doc_count": 0}},
                              "[aggs.a.terms.min_doc_count] must be from 1 to 2147483647: with 0, OpenSearch lists"),
    "terms size 0": ({"terms": {"field": "state", "size": 0}}, "[aggs.a.terms.size] must be from 1 to 10000"),
    "terms size past the ceiling": ({"terms": {"field": "state", "size": 10_001}}, "[aggs.a.terms.size] must be from"),
    "terms missing": ({"terms": {"field": "state", "missing": "x"}}, "[aggs.a.terms.missing] is not allowed"),
    "an order on a missing sub-aggregation": ({"terms": {"field": "state", "order": {"nope": "asc"}}},
                                              "[aggs.a.terms.order.nope] must be _count, _key or the name of"),
    "an order direction": ({"terms": {"field": "state", "order": {"_count": "up"}}},
                           "[aggs.a.terms.order._count] must be asc or desc"),
    "multi_terms min_doc_count 0": ({"multi_terms": {"terms": [{"field": "workflow_id"}, {"field": "state"}],
                                                     "min_doc_count": "0"}},
                                    "[aggs.a.multi_terms.min_doc_count] must be a whole number"),
    "multi_terms of one": ({"multi_terms": {"terms": [{"field": "state"}]}}, ("[aggs.a.multi_terms.terms] must hold "
                                                                            "from 2 to 4")),
    "top_hits docvalue_fields": ({"top_hits": {"docvalue_fields": ["state"]}}, ("[aggs.a.top_hits.docvalue_fields] is "
                                                                               "not allowed in a top_hits")),
    "top_hits script_fields": ({"top_hits": {"script_fields": {}}}, "[aggs.a.top_hits.script_fields] is not allowed"),
    "top_hits window": ({"top_hits": {"from": 50, "size": 51}}, ("[aggs.a.top_hits.size] from + size must be at most "
                                                                "100")),
    "top_hits with sub-aggregations": ({"top_hits": {}, "aggs": {"b": {"max": {"field": START}}}},
                                       "[aggs.a.aggs] a top_hits aggregation takes no sub-aggregations"),
    "two types": ({"max": {"field": START}, "min": {"field": START}}, "[aggs.a] must hold exactly one aggregation"),
    "meta": ({"max": {"field": START}, "meta": {}}, "[aggs.a.meta] is not allowed as an aggregation"),
    "nested on user": ({"nested": {"path": "user"}}, "[aggs.a.nested.path] the [user] field is hidden"),
    "nested elsewhere": ({"nested": {"path": "x"}}, "[aggs.a.nested.path] must be one of resources_created"),
    "reverse_nested at the root": ({"reverse_nested": {}}, "[aggs.a.reverse_nested] is only allowed inside a nested"),
    "reverse_nested with a path": ({"nested": {"path": RES}, "aggs": {"r": {"reverse_nested": {"path": RES}}}},
                                   "[aggs.a.aggs.r.reverse_nested.path] is not allowed"),
    "histogram without an interval": ({"histogram": {"field": START}}, "[aggs.a.histogram.interval] is required"),
    "histogram interval 0": ({"histogram": {"field": START, "interval": 0}}, ("[aggs.a.histogram.interval] must be "
                                                                              "above 0")),
    "histogram interval as a string": ({"histogram": {"field": START, "interval": "1"}},
                                       "[aggs.a.histogram.interval] must be a JSON number (not a string)"),
    "histogram missing": ({"histogram": {"field": START, "interval": 1, "missing": 0}},
                          "[aggs.a.histogram.missing] is not allowed"),
    "date_histogram interval": ({"date_histogram": {"field": START, "interval": "1d"}},
                                ("[aggs.a.date_histogram.interval] is not allowed in a date_histogram aggregation: "
                                "use fixed_interval")),
    "date_histogram two intervals": ({"date_histogram": {"field": START, "fixed_interval": "1d",
                                                         "calendar_interval": "1d"}},
                                     "[aggs.a.date_histogram.fixed_interval] give exactly one"),
    "date_histogram time_zone": ({"date_histogram": {"field": START, "fixed_interval": "1d", "time_zone": "+01:00"}},
                                 "[aggs.a.date_histogram.time_zone] is not allowed"),
    "a bad fixed interval": ({"date_histogram": {"field": START, "fixed_interval": "1M"}},
                             "[aggs.a.date_histogram.fixed_interval] must be a fixed interval"),
    "a bad bound": ({"date_histogram": {"field": START, "fixed_interval": "1d", "hard_bounds": {"min": "yesterday"}}},
                    "[aggs.a.date_histogram.hard_bounds.min] is not a date"),
    "a bad name": ({"max": {"field": START}}, None),
}


@pytest.mark.parametrize(("definition", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_aggregations_name_their_path(definition: dict[str, Any], message: str | None) -> None:
    if message is None:
        assert refusal({"aggs": {"a>b": definition}}).startswith("[aggs.a>b] is not a valid aggregation name")
        return
    assert refusal({"aggs": {"a": definition}}).startswith(message)


SPELLINGS = ['0', '"0"', "0.99999999999999999999", '"0.99999999999999999999"', '"+0.99999999999999999"',
             '"9.99999999999999999e-1"', "9.99999999999999999e-1", "1.0", "1e0", '"1"', '" 1"', '"01"', '"0x1"',
             "-1", "true", "null"]


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("agg", ["terms", "multi_terms"])
def test_no_spelling_of_min_doc_count_means_zero_to_opensearch(agg: str, spelling: str) -> None:
    spec = '{"field": "workflow_id"' if agg == "terms" else '{"terms": [{"field": "workflow_id"}, {"field": "state"}]'
    body = orjson.loads('{"size": 0, "aggs": {"wf": {"' + agg + '": ' + spec + ', "min_doc_count": ' + spelling + "}}}}")
    assert refusal(body).startswith(f"[aggs.wf.{agg}.min_doc_count] ")


def test_a_min_doc_count_is_sent_as_the_integer_read() -> None:
    loaded = load(orjson.loads('{"aggs": {"wf": {"terms": {"field": "workflow_id", "min_doc_count": 1}}}}'))
    assert type(loaded["aggs"]["wf"]["terms"]["min_doc_count"]) is int
    assert re.search(rb'"min_doc_count":1[,}]', orjson.dumps(loaded)), "written as the integer 1"


def test_a_crowd_of_aggregations_is_refused_before_any_is_loaded() -> None:
    crowd = {f"a{i}": {"bogus": {}} for i in range(51)}
    assert refusal({"aggs": crowd}) == "[aggs] a search may hold at most 50 aggregations"


def test_all_access_may_aggregate_user_in_its_nested_context() -> None:
    definition = {"nested": {"path": "user"}, "aggs": {"n": {"terms": {"field": "user.name.keyword"}}}}
    assert load({"aggs": {"u": definition}}, hide_user=False)["aggs"]["u"] == definition
