"""Query clauses of the closed search schema: which, on which fields, in which nested context."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.schemas.search_helpers import load, refusal

RES = "resources_created"


def nested(query: dict[str, Any], path: str = RES) -> dict[str, Any]:
    return {"nested": {"path": path, "query": query}}


ALLOWED = {
    "match_all": {"match_all": {"boost": 1.5}},
    "match_none": {"match_none": {}},
    "bool": {"bool": {"must": {"term": {"state": "FAILED"}}, "must_not": [{"exists": {"field": "error"}}],
                      "should": [{"match": {"error": "boom"}}], "minimum_should_match": "75%", "boost": 1}},
    "constant_score": {"constant_score": {"filter": {"term": {"state": "FAILED"}}, "boost": 2}},
    "dis_max": {"dis_max": {"queries": [{"match_all": {}}], "tie_breaker": 0.3}},
    "term short": {"term": {"workflow_id": "wf-1"}},
    "term long": {"term": {"state": {"value": "failed", "case_insensitive": True, "boost": 1.0}}},
    "term on a date": {"term": {"provision_start_time": 1_700_000_000_000}},
    "term on an integer": {"term": {"schema_version": 4}},
    "terms": {"terms": {"state": ["FAILED", "COMPLETED"], "boost": 1.0}},
    "match": {"match": {"error": {"query": "step failed", "operator": "and"}}},
    "match on a keyword": {"match": {"state": "FAILED"}},
    "match_phrase": {"match_phrase": {"error": {"query": "create_index", "slop": 2}}},
    "range on dates": {"range": {"provision_end_time": {"gte": "now-1h", "lt": "2030-01-01T00:00:00Z"}}},
    "range on keywords": {"range": {"workflow_id": {"gte": "a", "lt": "b"}}},
    "exists": {"exists": {"field": "provision_end_time"}},
    "prefix": {"prefix": {"workflow_id": {"value": "wf-", "case_insensitive": False}}},
    "ids": {"ids": {"values": ["a", "b"]}},
    "nested on resources": nested({"term": {f"{RES}.resource_type": "model_id"}}),
    "simple_query_string": {"simple_query_string": {"query": "index + fail*", "fields": ["error", "workflow_id"],
                                                    "default_operator": "AND"}},
}


@pytest.mark.parametrize("query", ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed_clauses_load_unchanged_for_every_caller(query: dict[str, Any]) -> None:
    assert load({"query": query})["query"] == _rebuilt(query)
    assert load({"post_filter": query}, hide_user=False)["post_filter"] == _rebuilt(query)


def _rebuilt(query: dict[str, Any]) -> dict[str, Any]:
    """Clause lists are rebuilt as arrays, operators in lower case."""
    if "bool" in query:
        return {"bool": {k: (v if not isinstance(v, dict) else [v]) for k, v in query["bool"].items()}}
    if "simple_query_string" in query:
        return {"simple_query_string": {**query["simple_query_string"], "default_operator": "AND"}}
    return query


REFUSED = {
    "script": ({"script": {"script": "true"}}, "[query.script] is not allowed as a query clause: scripts"),
    "script_score": ({"script_score": {}}, "[query.script_score] is not allowed as a query clause: scripts"),
    "function_score": ({"function_score": {}}, "[query.function_score] is not allowed"),
    "wrapper": ({"wrapper": {"query": "e30="}}, "[query.wrapper] is not allowed as a query clause: wrapper"),
    "terms lookup": ({"terms": {"workflow_id": {"index": "other", "id": "1", "path": "ids"}}},
                     "[query.terms.workflow_id] terms lookups read other documents"),
    "more_like_this": ({"more_like_this": {"like": [{"_id": "x"}]}}, "[query.more_like_this] is not allowed"),
    "percolate": ({"percolate": {}}, "[query.percolate] is not allowed"),
    "geo_shape": ({"geo_shape": {}}, "[query.geo_shape] is not allowed"),
    "query_string": ({"query_string": {"query": "x"}}, ("[query.query_string] is not allowed as a query clause: it "
                                                       "searches every field")),
    "multi_match": ({"multi_match": {"query": "x", "fields": ["error"]}}, "[query.multi_match] is not allowed"),
    "wildcard": ({"wildcard": {"workflow_id": "*x*"}}, "[query.wildcard] is not allowed as a query clause: wildcard"),
    "regexp": ({"regexp": {"workflow_id": ".*"}}, "[query.regexp] is not allowed"),
    "fuzzy": ({"fuzzy": {"workflow_id": "x"}}, "[query.fuzzy] is not allowed"),
    "terms_set": ({"terms_set": {}}, "[query.terms_set] is not allowed"),
    "unknown clause": ({"nope": {}}, "[query.nope] is not allowed as a query clause; allowed: bool, constant_score,"),
    "two clauses in one object": ({"match_all": {}, "match_none": {}}, "[query] must be an object of exactly one"),
    "inner_hits": ({"nested": {"path": RES, "query": {"match_all": {}}, "inner_hits": {}}},
                   "[query.nested.inner_hits] is not allowed in a nested query: inner hits bypass"),
    "nested on another path": (nested({"match_all": {}}, "workflows"), ("[query.nested.path] must be one of "
                                                                        "resources_created")),
    "nested in nested": (nested(nested({"match_all": {}})), "[query.nested.query.nested.path] nested queries do not"),
    "a nested field outside nested": ({"term": {f"{RES}.resource_id": "x"}},
                                      f"[query.term.{RES}.resource_id] lives in the nested [{RES}] objects"),
    "a root field inside nested": (nested({"term": {"state": "x"}}), ("[query.nested.query.term.state] is a field of "
                                                                     "the root document")),
    "an unknown field": ({"term": {"nope": "x"}}, "[query.term.nope] is not a field of the workflow state index"),
    "term on text": ({"term": {"error": "x"}}, "[query.term.error] is a text field"),
    "prefix on a date": ({"prefix": {"provision_start_time": "1"}}, "[query.prefix.provision_start_time] is a date"),
    "term with two fields": ({"term": {"state": "a", "workflow_id": "b"}}, "[query.term] must be an object naming"),
    "a number for a keyword": ({"term": {"state": 1}}, "[query.term.state] must be a string, not an integer"),
    "a string for an integer": ({"term": {"schema_version": "4"}}, "[query.term.schema_version] must be a whole"),
    "epoch millis as a string": ({"range": {"provision_start_time": {"gte": "1700000000000"}}},
                                 "[query.range.provision_start_time.gte] is not a date"),
    "a range format": ({"range": {"provision_start_time": {"gte": "now", "format": "yyyy"}}},
                       "[query.range.provision_start_time.format] is not allowed in a range query: dates are read"),
    "a short range": ({"range": {"provision_start_time": "now"}}, ("[query.range.provision_start_time] must be a "
                                                                  "JSON object")),
    "minimum_should_match as a string count": ({"bool": {"minimum_should_match": "1"}},
                                               "[query.bool.minimum_should_match] must be a percentage"),
    "simple_query_string without fields": ({"simple_query_string": {"query": "x"}},
                                           "[query.simple_query_string.fields] is required"),
    "simple_query_string on every field": ({"simple_query_string": {"query": "x", "fields": ["*"]}},
                                           "[query.simple_query_string.fields[0]] is not a field"),
    "_name": ({"match_all": {"_name": "x"}}, "[query.match_all._name] is not allowed"),
    "too many values": ({"ids": {"values": ["x"] * 1_025}}, "[query.ids.values] must hold from 0 to 1024 entries"),
    "a clause deep in a bool": ({"bool": {"filter": [{"match_all": {}}, {"bool": {"should": [{"wildcard": {}}]}}]}},
                                "[query.bool.filter[1].bool.should[0].wildcard] is not allowed"),
}


@pytest.mark.parametrize(("query", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_clauses_name_their_path(query: dict[str, Any], message: str) -> None:
    assert refusal({"query": query}).startswith(message)


USER = {
    "nested query": nested({"match": {"user.name": "alice"}}, "user"),
    "term on a user field": {"term": {"user.name.keyword": "alice"}},
    "exists on user": {"exists": {"field": "user"}},
    "simple_query_string on user fields": {"simple_query_string": {"query": "x", "fields": ["error", "user.name"]}},
}


@pytest.mark.parametrize("query", USER.values(), ids=USER.keys())
def test_user_is_out_of_reach_unless_the_caller_may_see_it(query: dict[str, Any]) -> None:
    assert "the [user] field is hidden from callers without all_access" in refusal({"query": query})


def test_all_access_may_search_user_in_its_nested_context() -> None:
    query = nested({"terms": {"user.backend_roles.keyword": ["team-a"]}}, "user")
    assert load({"query": query}, hide_user=False)["query"] == query
    assert "lives in the nested [user] objects" in refusal({"query": {"term": {"user.name.keyword": "a"}}},
                                                          hide_user=False)


def test_the_number_of_clauses_is_bounded() -> None:
    body = {"query": {"bool": {"should": [{"term": {"state": str(i)}} for i in range(256)]}}}
    assert refusal(body) == "[query.bool.should[255]] a search may hold at most 256 query clauses"
