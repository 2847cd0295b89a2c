"""The Search Workflow State API against a real node: the plugin's answers and its access filters."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from opensearchpy import OpenSearch, helpers

from flowstatus.app import create_app
from flowstatus.domain.access import Caller
from flowstatus.domain.model import User
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.settings import Settings
from tests.integration.search.conftest import ADMIN, ALL, BOB, BOBS, CORPUS, NOBODY, SEARCH, Searcher, ids, search

# -- the plugin's response --------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_get_and_post_answer_opensearchs_search_response(searcher: Searcher, method: str) -> None:
    response = searcher().open(SEARCH, method=method, json={"query": {"match_all": {}}, "size": 50})
    assert response.status_code == 200
    assert response.content_type == "application/json; charset=UTF-8"
    body = response.get_json()
    assert {"took", "timed_out", "_shards", "hits"} <= set(body)
    assert ids(response) == ALL
    for hit in body["hits"]["hits"]:
        assert {"_index", "_id", "_version", "_seq_no", "_primary_term", "_source"} <= set(hit)


def test_sources_are_raw_as_stored(searcher: Searcher) -> None:
    body = {"query": {"ids": {"values": ["wf-failed-old-b"]}}}
    hit = search(searcher(ADMIN), body).get_json()["hits"]["hits"][0]
    assert hit["_source"] == CORPUS["wf-failed-old-b"]  # "resources_created": [] and user included
    # Without access control every caller may search, but, as in the plugin without
    # its security plugin, user is left out of a _source the request did not choose.
    anonymous = search(searcher(), body).get_json()["hits"]["hits"][0]["_source"]
    assert anonymous == {k: v for k, v in CORPUS["wf-failed-old-b"].items() if k != "user"}


def test_the_source_parameter_works_as_in_opensearch(searcher: Searcher) -> None:
    source = json.dumps({"query": {"term": {"state": "FAILED"}}})
    response = searcher().get(SEARCH, query_string={"source": source, "source_content_type": "application/json"})
    assert ids(response) == {"wf-failed-a", "wf-failed-old-b"}


def test_pretty_and_filter_path_apply(searcher: Searcher) -> None:
    body = {"query": {"ids": {"values": ["wf-new-b"]}}}
    response = searcher().post(SEARCH + "?filter_path=hits.hits._id&pretty", json=body)
    assert response.get_data(as_text=True) == (
        '{\n  "hits" : {\n    "hits" : [\n      {\n        "_id" : "wf-new-b"\n      }\n    ]\n  }\n}\n'
    )


# -- who sees what ------------------------------------------------------------------


def test_user_is_left_out_for_callers_without_all_access(searcher: Searcher) -> None:
    hits = search(searcher(BOB), {"size": 50}).get_json()["hits"]["hits"]
    assert hits and all("user" not in hit["_source"] for hit in hits)
    admin_hits = search(searcher(ADMIN), {"size": 50}).get_json()["hits"]["hits"]
    assert any("user" in hit["_source"] for hit in admin_hits)


@pytest.mark.parametrize(
    "source", [True, "user", ["user.*"], {"includes": ["user"]}, {"includes": ["*"], "excludes": []}]
)
@pytest.mark.parametrize("caller", [BOB, ADMIN], ids=["non-admin", "admin"])
def test_a_requested_source_never_brings_user_back(searcher: Searcher, caller: Caller, source: Any) -> None:
    hits = search(searcher(caller), {"size": 50, "_source": source}).get_json()["hits"]["hits"]
    assert hits and all("user" not in hit.get("_source", {}) for hit in hits)


def test_a_requested_source_keeps_its_includes(searcher: Searcher) -> None:
    hits = search(searcher(), {"size": 50, "_source": ["state"]}).get_json()["hits"]["hits"]
    assert all(set(hit["_source"]) <= {"state"} for hit in hits)
    hits = search(searcher(), {"size": 50, "_source": False}).get_json()["hits"]["hits"]
    assert all("_source" not in hit for hit in hits)


def test_backend_roles_filter_to_workflows_sharing_a_role(searcher: Searcher) -> None:
    assert ids(search(searcher(BOB, filter_by_backend_roles=True), {"size": 50})) == BOBS
    assert ids(search(searcher(NOBODY, filter_by_backend_roles=True), {"size": 50})) == set()
    assert ids(search(searcher(ADMIN, filter_by_backend_roles=True), {"size": 50})) == ALL
    assert ids(search(searcher(BOB), {"size": 50})) == ALL  # the setting is off


def test_multi_tenancy_filters_to_the_callers_tenant_even_for_all_access(searcher: Searcher) -> None:
    assert ids(search(searcher(BOB, multi_tenancy=True), {"size": 50})) == BOBS
    tenant_a = {"wf-done-a", "wf-failed-a", "wf-running-a"}
    assert ids(search(searcher(ADMIN, multi_tenancy=True), {"size": 50})) == tenant_a
    empty_tenant = Caller(User("e", roles=("all_access",)), tenant_id="")
    assert ids(search(searcher(empty_tenant, multi_tenancy=True), {"size": 50})) == set()


def test_multi_tenancy_without_a_tenant_is_the_plugins_403(searcher: Searcher) -> None:
    response = search(searcher(Caller(User("x")), multi_tenancy=True), {})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Tenant ID header is missing or has no value"}


def test_both_filters_together(searcher: Searcher) -> None:
    bob_in_a = Caller(BOB.user, tenant_id="a")
    assert ids(search(searcher(bob_in_a, filter_by_backend_roles=True, multi_tenancy=True), {"size": 50})) == set()
    assert ids(search(searcher(BOB, filter_by_backend_roles=True, multi_tenancy=True), {"size": 50})) == BOBS


# -- a caller's query never widens the filters --------------------------------------

WIDENING_TRIES = {
    "post_filter match_all": {"post_filter": {"match_all": {}}},
    "ids of hidden workflows": {"query": {"ids": {"values": sorted(ALL)}}},
    "bool should of everything": {"query": {"bool": {"should": [{"match_all": {}}], "minimum_should_match": 0}}},
    "bool must_not only": {"query": {"bool": {"must_not": [{"term": {"state": "NOPE"}}]}}},
    "constant_score": {"query": {"constant_score": {"filter": {"match_all": {}}}}},
    "dis_max": {"query": {"dis_max": {"queries": [{"match_all": {}}]}}},
}


@pytest.mark.parametrize("body", WIDENING_TRIES.values(), ids=WIDENING_TRIES.keys())
def test_no_query_widens_the_filters(searcher: Searcher, body: dict[str, Any]) -> None:
    client = searcher(BOB, filter_by_backend_roles=True, multi_tenancy=True)
    assert ids(search(client, {**body, "size": 50})) <= BOBS


def test_a_should_only_bool_still_means_what_it_says_under_the_filters(searcher: Searcher) -> None:
    body = {"query": {"bool": {"should": [{"term": {"state": "FAILED"}}]}}, "size": 50}
    assert ids(search(searcher(BOB, filter_by_backend_roles=True), body)) == {"wf-failed-old-b"}


def test_aggregations_count_only_what_the_caller_sees(searcher: Searcher) -> None:
    body = {"size": 0, "aggs": {"states": {"terms": {"field": "state"}}},
            "post_filter": {"match_all": {}}}
    response = search(searcher(BOB, filter_by_backend_roles=True), body)
    buckets = response.get_json()["aggregations"]["states"]["buckets"]
    assert {b["key"]: b["doc_count"] for b in buckets} == {"FAILED": 1, "PROVISIONING": 1, "NOT_STARTED": 1}


def test_top_hits_leave_user_out_like_the_hits(searcher: Searcher) -> None:
    body = {"size": 0, "aggs": {"latest": {"top_hits": {"size": 10, "_source": {"includes": ["user", "state"]}}}}}
    hits = search(searcher(BOB), body).get_json()["aggregations"]["latest"]["hits"]["hits"]
    assert hits and all(set(hit["_source"]) <= {"state"} for hit in hits)


# Refused by flowstatus before OpenSearch sees them; each reason names the JSON path of the refused part.
REFUSED = {
    "global aggregation": ({"aggs": {"all": {"global": {}}}}, "[aggs.all.global]"),
    "stored_fields": ({"stored_fields": ["user"]}, "[stored_fields]"),
    "docvalue_fields": ({"docvalue_fields": ["user.name.keyword"]}, "[docvalue_fields]"),
    "script_fields": ({"script_fields": {"u": {"script": "params._source.user"}}}, "[script_fields]"),
    "suggest": ({"suggest": {"s": {"text": "wf", "term": {"field": "workflow_id"}}}}, "[suggest]"),
    "collapse": ({"collapse": {"field": "state", "inner_hits": {"name": "i"}}}, "[collapse]"),
    "rescore": ({"rescore": {"query": {"rescore_query": {"match_all": {}}}}}, "[rescore]"),
    "pit": ({"pit": {"id": "x"}}, "[pit]"),
    "terms min_doc_count 0": ({"aggs": {"t": {"terms": {"field": "workflow_id", "min_doc_count": 0}}}},
                              "[aggs.t.terms.min_doc_count]"),
    "terms min_doc_count that a long reads as 0": (
        {"aggs": {"t": {"terms": {"field": "workflow_id", "min_doc_count": "0.99999999999999999999"}}}},
        "[aggs.t.terms.min_doc_count]"),
    "inner_hits": ({"query": {"nested": {"path": "resources_created", "query": {"match_all": {}}, "inner_hits": {}}}},
                   "[query.nested.inner_hits]"),
    "nested query on user": ({"query": {"nested": {"path": "user", "query": {"match_all": {}}}}},
                             "[query.nested.path] the [user] field"),
    "nested sort on user": ({"sort": [{"user.name.keyword": {"nested": {"path": "user"}}}]}, "[user] field"),
    "_source of another shape": ({"_source": {"only": ["user"]}}, "[_source.only]"),
    "an unknown query": ({"query": {"nope": {}}}, "[query.nope] is not allowed as a query clause"),
    "a result window past 10,000": ({"from": 10_000, "size": 10}, "[size]"),
    "empty histogram buckets without a bound": (
        {"aggs": {"h": {"date_histogram": {"field": "provision_start_time", "fixed_interval": "1d"}}}},
        "[aggs.h.date_histogram]"),
}


@pytest.mark.parametrize(("body", "named"), REFUSED.values(), ids=REFUSED.keys())
def test_what_could_widen_the_filters_or_cost_too_much_is_refused(
    searcher: Searcher, body: dict[str, Any], named: str
) -> None:
    response = search(searcher(BOB, filter_by_backend_roles=True), body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["type"] == "illegal_argument_exception"
    assert named in error["reason"]


def test_scroll_is_refused_as_an_unknown_parameter(searcher: Searcher) -> None:
    response = searcher().post(SEARCH + "?scroll=1m", json={})
    assert response.status_code == 400
    assert response.get_json()["error"]["reason"] == f"request [{SEARCH}] contains unrecognized parameter: [scroll]"


# -- paging, totals, errors ---------------------------------------------------------

ORDER = [{"provision_start_time": {"order": "desc", "missing": "_last"}}, {"workflow_id": "asc"}]


def test_from_and_size_page_through_the_hits(searcher: Searcher) -> None:
    client = searcher()
    pages = [[h["_id"] for h in search(client, {"sort": ORDER, "from": f, "size": 2}).get_json()["hits"]["hits"]]
             for f in (0, 2, 4, 6)]
    assert [i for page in pages for i in page] == [
        "wf-running-b", "wf-failed-a", "wf-done-none", "wf-running-a", "wf-done-a", "wf-failed-old-b", "wf-new-b"]


def test_search_after_continues_where_a_page_ended(searcher: Searcher) -> None:
    client = searcher()
    first = search(client, {"sort": ORDER, "size": 3}).get_json()["hits"]["hits"]
    rest = search(client, {"sort": ORDER, "size": 10, "search_after": first[-1]["sort"]}).get_json()["hits"]["hits"]
    assert [h["_id"] for h in first + rest] == [
        "wf-running-b", "wf-failed-a", "wf-done-none", "wf-running-a", "wf-done-a", "wf-failed-old-b", "wf-new-b"]


def test_track_total_hits(searcher: Searcher) -> None:
    client = searcher()
    assert search(client, {"size": 0, "track_total_hits": True}).get_json()["hits"]["total"] == {
        "value": 7, "relation": "eq"}
    assert search(client, {"size": 0, "track_total_hits": 2}).get_json()["hits"]["total"] == {
        "value": 2, "relation": "gte"}
    assert "total" not in search(client, {"size": 0, "track_total_hits": False}).get_json()["hits"]


def test_a_query_failing_on_the_shards_gets_opensearchs_400(searcher: Searcher) -> None:
    response = search(searcher(), {"sort": [{"workflow_id": "asc"}], "search_after": ["a", "b"]})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"]["type"] == "search_phase_execution_exception"
    assert body["error"]["root_cause"][0]["reason"] == "search_after has 2 value(s) but sort has 1."


def test_a_bucket_order_opensearch_would_answer_with_a_500_is_refused(searcher: Searcher) -> None:
    body = {"aggs": {"t": {"terms": {"field": "state", "order": {"nope": "asc"}}}}}
    response = search(searcher(), body)
    assert response.status_code == 400
    assert response.get_json()["error"]["reason"].startswith("[aggs.t.terms.order.nope] must be _count, _key")
    ordered = {"aggs": {"t": {"terms": {"field": "state", "order": {"first": "asc"}},
                              "aggs": {"first": {"min": {"field": "provision_start_time"}}}}}}
    buckets = search(searcher(), ordered).get_json()["aggregations"]["t"]["buckets"]
    assert buckets[0]["key"] == "FAILED"  # wf-failed-old-b started first


BAD_REQUESTS = {
    "malformed JSON": ({"data": b'{"query":', "content_type": "application/json"}, 400, "json_parse_exception"),
    "not an object": ({"data": b"[1]", "content_type": "application/json"}, 400, "parsing_exception"),
    "no body": ({}, 400, "parse_exception"),
    "source without a type": ({"query_string": {"source": "{}"}}, 400, "illegal_state_exception"),
    "source of another type": ({"query_string": {"source": "{}", "source_content_type": "application/yaml"}},
                               400, "illegal_state_exception"),
    "malformed source": ({"query_string": {"source": "{", "source_content_type": "application/json"}},
                         400, "json_parse_exception"),
}


@pytest.mark.parametrize(("kwargs", "status", "error_type"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_requests_are_400_with_the_reason(
    searcher: Searcher, kwargs: dict[str, Any], status: int, error_type: str
) -> None:
    response = searcher().post(SEARCH, **kwargs)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["type"] == error_type and error["reason"]


def test_reasons_of_body_errors() -> None:
    # The exact wording, for the cases OpenSearch words itself.
    from flowstatus.api.errors import OpenSearchError
    from flowstatus.api.search import _parse

    with pytest.raises(OpenSearchError, match=r"^Expected \[START_OBJECT\] but found \[VALUE_STRING\]$"):
        _parse(b'"x"')


def test_a_body_that_is_not_json_is_406(searcher: Searcher) -> None:
    response = searcher().post(SEARCH, data=b"{}", content_type="text/plain")
    assert response.status_code == 406
    assert response.get_json() == {"error": "Content-Type header [text/plain] is not supported", "status": 406}


def test_unknown_parameters_are_refused_like_on_the_status_route(searcher: Searcher) -> None:
    response = searcher().post(SEARCH + "?size=5", json={})
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "root_cause": [{"type": "illegal_argument_exception",
                        "reason": f"request [{SEARCH}] contains unrecognized parameter: [size]"}],
        "type": "illegal_argument_exception",
        "reason": f"request [{SEARCH}] contains unrecognized parameter: [size]"}


def test_source_parameters_are_accepted_only_without_a_body(searcher: Searcher) -> None:
    response = searcher().post(SEARCH + "?source_content_type=application/json", json={})
    assert response.status_code == 400
    assert "unrecognized parameter: [source_content_type]" in response.get_json()["error"]["reason"]


def test_other_methods_are_405(searcher: Searcher) -> None:
    response = searcher().put(SEARCH, json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET,POST"


def test_a_body_over_the_limit_is_413(searcher: Searcher) -> None:
    response = searcher(max_bulk_bytes=1024).post(SEARCH, json={"query": {"ids": {"values": ["x" * 2000]}}})
    assert response.status_code == 413


def test_a_missing_state_index_is_the_plugins_404(opensearch_url: str, unique_index: str) -> None:
    client = create_app(Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index)).test_client()
    response = client.post(SEARCH, json={})
    assert response.status_code == 404
    body = response.get_json()
    assert body["status"] == 404
    assert body["error"]["type"] == "status_exception"
    assert body["error"]["reason"] == f"Failed to search indices [{unique_index}]"
    assert body["error"]["root_cause"][0]["type"] == "index_not_found_exception"
    assert body["error"]["caused_by"]["type"] == "index_not_found_exception"


def test_unreachable_opensearch_is_503_with_retry_after() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = create_app(Settings(opensearch_hosts=(f"http://127.0.0.1:{port}",), retry_after=7)).test_client()
    response = client.post(SEARCH, json={})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.get_json() == {"error": "OpenSearch is unavailable, retry later"}


def test_a_search_past_the_timeout_is_503_or_the_plugins_408(opensearch_url: str, unique_index: str) -> None:
    # The search timeout is the request timeout; at 1 ms OpenSearch cancels
    # or fails the whole search (task_cancelled or time_exceeded, which it
    # answers with a 500) or returns partial hits (timed_out), depending on
    # where the clock runs out.
    OpenSearchStateRepository.from_settings(
        Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index)).ensure_index()
    raw = OpenSearch([opensearch_url], timeout=30)
    try:
        helpers.bulk(raw, ({"_index": unique_index, "_id": f"t-{i}", "_source": {"workflow_id": f"t-{i}"}}
                           for i in range(2000)), refresh=True)
        client = create_app(Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index,
                                     request_timeout=0.001)).test_client()
        body = {"query": {"bool": {"should": [{"prefix": {"workflow_id": f"t-{i}"}} for i in range(200)]}},
                "aggs": {"ids": {"terms": {"field": "workflow_id", "size": 1000}}}}
        outcomes = set()
        for _ in range(60):
            response = client.post(SEARCH, json=body)
            timed_out = response.get_json().get("timed_out")
            assert (response.status_code, timed_out) in {(200, False), (408, True), (503, None)}
            outcomes.add(response.status_code)
            if outcomes - {200}:
                break
        assert outcomes - {200}, "no search reached the 1 ms timeout in 60 tries"
    finally:
        raw.indices.delete(index=unique_index, ignore=404)
