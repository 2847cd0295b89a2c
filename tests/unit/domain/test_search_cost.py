"""The cost ceilings, computed before a search is sent (bodies as the search schema loads them)."""

from __future__ import annotations

from typing import Any

import pytest

from flowstatus.domain.search_cost import (
    MAX_AGGREGATION_DEPTH,
    MAX_AGGREGATIONS,
    MAX_BODY_VALUES,
    MAX_DEPTH,
    check_cost,
    check_depth,
)
from flowstatus.domain.search_scope import SearchRefused

NOW = 1_700_000_000_000
START = "provision_start_time"


def aggs(**named: dict[str, Any]) -> dict[str, Any]:
    return {"size": 0, "aggs": named}


def histogram(**spec: Any) -> dict[str, Any]:
    return {"histogram": {"field": START, **spec}}


def date_histogram(**spec: Any) -> dict[str, Any]:
    return {"date_histogram": {"field": START, **spec}}


def in_range(body: dict[str, Any], **bounds: Any) -> dict[str, Any]:
    return {**body, "query": {"bool": {"filter": [{"range": {START: bounds}}]}}}


def refused(body: dict[str, Any]) -> SearchRefused:
    with pytest.raises(SearchRefused) as exc:
        check_cost(body, NOW)
    return exc.value


# -- the histograms that took a node down -------------------------------------------


def test_empty_buckets_over_a_huge_extended_range_are_refused() -> None:
    body = aggs(x=histogram(interval=1, min_doc_count=0, extended_bounds={"min": 0, "max": 100_000_000_000}))
    exc = refused(body)
    assert exc.path == "aggs.x.histogram"
    assert "cannot bound" in exc.why and "[hard_bounds]" in exc.why


def test_a_millisecond_date_histogram_up_to_now_is_refused() -> None:
    body = aggs(x=date_histogram(fixed_interval="1ms", min_doc_count=0, extended_bounds={"min": 0, "max": "now"}))
    assert "cannot bound" in refused(body).why
    # With the query's range the span is known, and far too large for 1 ms buckets.
    exc = refused(in_range(body, gte=0, lte="now"))
    assert exc.why.startswith("could build ") and "at most 10000 per aggregation" in exc.why


def test_the_histogram_default_of_empty_buckets_needs_a_span() -> None:
    assert refused(aggs(x=date_histogram(fixed_interval="1d"))).path == "aggs.x.date_histogram"
    check_cost(aggs(x=date_histogram(fixed_interval="1d", min_doc_count=1)), NOW)  # only where documents are


@pytest.mark.parametrize("body", [
    in_range(aggs(x=date_histogram(fixed_interval="1h", min_doc_count=0)), gte="now-7d", lte="now"),
    in_range(aggs(x=date_histogram(fixed_interval="1m", min_doc_count=0,
                                   extended_bounds={"min": "now-1d", "max": "now"})), gte="now-1d", lte="now"),
    aggs(x=date_histogram(fixed_interval="1s", hard_bounds={"min": "2024-01-01T00:00:00Z",
                                                            "max": "2024-01-01T01:00:00Z"})),
    aggs(x=histogram(interval=1, hard_bounds={"min": 0, "max": 9_000}, extended_bounds={"min": 0, "max": 100})),
    aggs(x=date_histogram(calendar_interval="month", min_doc_count=0, offset="+1d",
                          hard_bounds={"min": 0, "max": "now"})),
])
def test_empty_buckets_over_a_provable_span_are_counted_and_allowed(body: dict[str, Any]) -> None:
    check_cost(body, NOW)


def test_extended_bounds_widen_the_span_past_the_query_range() -> None:
    body = in_range(aggs(x=histogram(interval=1, extended_bounds={"min": 0, "max": 20_000})), gte=0, lte=10)
    assert refused(body).why.startswith("could build 20002 buckets")


def test_a_range_in_a_filter_aggregation_above_bounds_the_histogram() -> None:
    inner = {"filter": {"range": {START: {"gte": 0, "lt": 1_000}}}, "aggs": {"h": histogram(interval=1)}}
    check_cost(aggs(f=inner), NOW)
    outside = {"filters": {"filters": [{"range": {START: {"gte": 0, "lt": 1_000}}}]}, "aggs": {"h": histogram(interval=1)}}
    assert refused(aggs(f=outside)).path == "aggs.f.aggs.h.histogram", "a filters bucket proves nothing for all"


def test_a_tiny_interval_is_refused_without_overflow() -> None:
    body = aggs(x=histogram(interval=1e-300, hard_bounds={"min": 0, "max": 1}))
    assert "more than 10^15" in refused(body).why


# -- totals, counts, depth ------------------------------------------------------------


def test_buckets_multiply_down_the_tree() -> None:
    body = aggs(a={"terms": {"field": "state", "size": 1_000}, "aggs": {"b": {"terms": {"field": "workflow_id", "size": 100}}}})
    exc = refused(body)
    assert exc.path == "aggs.a.aggs.b" and "at most 65535 in one search" in exc.why
    check_cost(aggs(a={"terms": {"field": "state", "size": 100}, "aggs": {"b": {"terms": {"field": "workflow_id", "size": 100}}}}),
               NOW)


def test_a_histogram_without_a_span_counts_as_its_ceiling() -> None:
    per_day = date_histogram(fixed_interval="1d", min_doc_count=1)
    check_cost(aggs(d={**per_day, "aggs": {"s": {"terms": {"field": "state", "size": 5}}}}), NOW)
    assert refused(aggs(d={**per_day, "aggs": {"s": {"terms": {"field": "state", "size": 6}}}})).path == "aggs.d.aggs.s"


def test_top_hits_count_their_size_per_bucket() -> None:
    body = aggs(w={"terms": {"field": "workflow_id", "size": 1_000}, "aggs": {"t": {"top_hits": {"size": 100}}}})
    assert refused(body).path == "aggs.w.aggs.t"


def test_aggregation_count_and_depth() -> None:
    many = aggs(**{f"m{i}": {"max": {"field": START}} for i in range(MAX_AGGREGATIONS + 1)})
    assert refused(many).why == f"a search may hold at most {MAX_AGGREGATIONS} aggregations"
    deep: dict[str, Any] = {"max": {"field": START}}
    for level in range(MAX_AGGREGATION_DEPTH):
        deep = {"filter": {"match_all": {}}, "aggs": {f"l{level}": deep}}
    assert "nest at most" in refused(aggs(top=deep)).why
    check_cost(aggs(top=deep["aggs"]["l4"]), NOW)


def test_bodies_nested_too_deep_are_refused_without_recursion() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(MAX_DEPTH):
        node["bool"] = {}
        node = node["bool"]
    with pytest.raises(SearchRefused, match="deeper than 32 levels"):
        check_depth({"query": deep})
    very_deep: list[Any] = []
    for _ in range(100_000):
        very_deep = [very_deep]
    with pytest.raises(SearchRefused, match="deeper than"):
        check_depth({"query": {"bool": {"must": very_deep}}})
    check_depth({"query": {"bool": {"must": [{"term": {"state": "FAILED"}}]}}})


def test_bodies_of_too_many_values_are_refused_after_counting_no_further() -> None:
    with pytest.raises(SearchRefused, match=f"^the search body holds more than {MAX_BODY_VALUES} values$"):
        check_depth({"query": {"ids": {"values": ["x"] * 1_000_000}}})
    check_depth({"query": {"ids": {"values": ["x"] * (MAX_BODY_VALUES - 10)}}})


def test_an_open_ended_range_does_not_bound_empty_buckets() -> None:
    body = in_range(aggs(x=date_histogram(fixed_interval="1m", extended_bounds={"min": "now-1d", "max": "now"})),
                    gte="now-1d")
    assert "cannot bound" in refused(body).why, "documents may lie past now"
