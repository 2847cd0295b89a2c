"""The access filters of the state search: pure rewriting and refusals of search bodies."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from flowstatus.domain.access import ANONYMOUS, Caller
from flowstatus.domain.model import User
from flowstatus.domain.search_scope import (
    CREDENTIAL_FIELD,
    MAX_DEPTH,
    MissingTenant,
    Scope,
    SearchRefused,
    backend_roles_clause,
    restrict,
    scope_for,
    source_filter,
    with_filter,
)

ALICE = Caller(User("alice", backend_roles=("team-a",)), tenant_id="t1")
ADMIN = Caller(User("root", backend_roles=("ops",), roles=("all_access",)), tenant_id="t1")
NON_ADMIN = Scope(hide_user=True)
ADMIN_SCOPE = Scope(hide_user=False)
TERM = {"term": {"state": "FAILED"}}
ROLE_CLAUSE = backend_roles_clause(("team-a",))


# -- who sees what ----------------------------------------------------------------


def test_an_ordinary_caller_is_filtered_by_roles_and_tenant_and_never_sees_user() -> None:
    scope = scope_for(ALICE, filter_by_backend_roles=True, multi_tenancy=True)
    assert scope == Scope(hide_user=True, backend_roles=("team-a",), tenant_id="t1")


def test_all_access_skips_role_filtering_but_not_the_tenant() -> None:
    scope = scope_for(ADMIN, filter_by_backend_roles=True, multi_tenancy=True)
    assert scope == Scope(hide_user=False, backend_roles=None, tenant_id="t1")


def test_without_access_control_everything_is_visible() -> None:
    assert scope_for(ANONYMOUS, filter_by_backend_roles=True, multi_tenancy=False) == Scope(hide_user=False)


def test_filters_apply_only_when_their_setting_is_on() -> None:
    assert scope_for(ALICE, filter_by_backend_roles=False, multi_tenancy=False) == Scope(hide_user=True)


def test_multi_tenancy_needs_a_tenant_but_an_empty_one_is_a_tenant() -> None:
    with pytest.raises(MissingTenant, match="Tenant ID header is missing or has no value"):
        scope_for(Caller(User("bob")), filter_by_backend_roles=False, multi_tenancy=True)
    empty = Caller(User("bob"), tenant_id="")
    assert scope_for(empty, filter_by_backend_roles=False, multi_tenancy=True).tenant_id == ""


# -- the plugin's rewrites ----------------------------------------------------------


def test_the_plugin_forces_version_and_seq_no_primary_term() -> None:
    body = restrict({"version": False, "seq_no_primary_term": False}, ADMIN_SCOPE)
    assert body["version"] is True and body["seq_no_primary_term"] is True


def test_no_query_becomes_a_bool_must_of_the_role_filter() -> None:
    body = restrict({}, Scope(hide_user=True, backend_roles=("team-a",)))
    assert body["query"] == {"bool": {"must": [ROLE_CLAUSE]}}
    assert ROLE_CLAUSE == {
        "nested": {"path": "user", "query": {"terms": {"user.backend_roles.keyword": ["team-a"]}}, "score_mode": "none"}
    }


def test_a_bool_query_gets_the_filter_appended() -> None:
    query = {"bool": {"must": [TERM], "filter": {"exists": {"field": "error"}}}}
    assert with_filter(query, ROLE_CLAUSE) == {
        "bool": {"must": [TERM], "filter": [{"exists": {"field": "error"}}, ROLE_CLAUSE]}
    }


def test_any_other_query_is_wrapped() -> None:
    assert with_filter(TERM, ROLE_CLAUSE) == {"bool": {"must": [TERM], "filter": [ROLE_CLAUSE]}}


def test_a_should_only_bool_keeps_its_meaning_under_the_filter() -> None:
    query = {"bool": {"should": [TERM]}}
    assert with_filter(query, ROLE_CLAUSE)["bool"]["minimum_should_match"] == 1
    explicit = {"bool": {"should": [TERM], "minimum_should_match": "0"}}
    assert with_filter(explicit, ROLE_CLAUSE)["bool"]["minimum_should_match"] == "0"
    with_must = {"bool": {"should": [TERM], "must": [TERM]}}
    assert "minimum_should_match" not in with_filter(with_must, ROLE_CLAUSE)["bool"]


def test_the_tenant_term_is_added_after_the_role_filter() -> None:
    body = restrict({"query": TERM}, Scope(hide_user=True, backend_roles=("team-a",), tenant_id="t1"))
    assert body["query"] == {"bool": {"must": [TERM], "filter": [ROLE_CLAUSE, {"term": {"tenant_id": "t1"}}]}}


def test_the_callers_body_is_never_modified() -> None:
    body = {"query": {"bool": {"should": [TERM]}}, "aggs": {"t": {"top_hits": {"size": 1}}}}
    before = copy.deepcopy(body)
    restrict(body, Scope(hide_user=True, backend_roles=("x",), tenant_id="t"))
    assert body == before


# -- _source ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "hide_user", "expected"),
    [
        (None, True, {"includes": [], "excludes": ["user", CREDENTIAL_FIELD]}),
        (None, False, {"includes": [], "excludes": [CREDENTIAL_FIELD]}),
        (True, False, {"includes": [], "excludes": ["user", "ui_metadata", CREDENTIAL_FIELD]}),
        (False, True, False),
        ("user", False, {"includes": ["user"], "excludes": ["user", "ui_metadata", CREDENTIAL_FIELD]}),
        (["state", "u*"], True, {"includes": ["state", "u*"], "excludes": ["user", "ui_metadata", CREDENTIAL_FIELD]}),
        (
            {"include": "state", "excludes": ["error", "user"]},
            True,
            {"includes": ["state"], "excludes": ["error", "user", "ui_metadata", CREDENTIAL_FIELD]},
        ),
    ],
)
def test_the_plugins_source_rule(requested: Any, hide_user: bool, expected: Any) -> None:
    body = {} if requested is None else {"_source": requested}
    assert restrict(body, Scope(hide_user=hide_user))["_source"] == expected


@pytest.mark.parametrize("requested", [None, 5, {"includes": 5}, {"only": ["state"]}, ["state", 1]])
def test_a_source_the_rule_cannot_read_is_refused(requested: Any) -> None:
    with pytest.raises(SearchRefused, match=r"\[_source\] must be"):
        source_filter(requested, hide_user=True)


def test_top_hits_get_the_same_source_rule() -> None:
    body = restrict({"aggs": {"latest": {"top_hits": {"size": 1, "_source": ["user"]}}}}, NON_ADMIN)
    assert body["aggs"]["latest"]["top_hits"]["_source"]["excludes"][0] == "user"
    body = restrict({"aggs": {"latest": {"top_hits": {"size": 1}}}}, NON_ADMIN)
    assert "user" in body["aggs"]["latest"]["top_hits"]["_source"]["excludes"]


# -- refusals ---------------------------------------------------------------------

REFUSED_FOR_EVERYONE = {
    "stored_fields": {"stored_fields": ["user"]},
    "docvalue_fields": {"docvalue_fields": ["user.name.keyword"]},
    "fields": {"fields": ["*"]},
    "script_fields": {"script_fields": {"u": {"script": "params._source.user"}}},
    "highlight": {"highlight": {"fields": {"*": {}}}},
    "suggest": {"suggest": {"s": {"text": "wf", "term": {"field": "workflow_id"}}}},
    "collapse": {"collapse": {"field": "state", "inner_hits": {"name": "x"}}},
    "rescore": {"rescore": {"query": {"rescore_query": {"match_all": {}}}}},
    "pit": {"pit": {"id": "abc"}},
    "slice": {"slice": {"id": 0, "max": 2}},
    "explain": {"explain": True},
    "profile": {"profile": True},
    "unknown": {"bogus": 1},
    "global": {"aggs": {"all": {"global": {}, "aggs": {"n": {"value_count": {"field": "state"}}}}}},
    "global below a filter": {"aggs": {"f": {"filter": {"match_all": {}}, "aggs": {"g": {"global": {}}}}}},
    "significant_terms": {"aggs": {"s": {"significant_terms": {"field": "state"}}}},
    "significant_text": {"aggs": {"s": {"significant_text": {"field": "error"}}}},
    "terms with min_doc_count 0": {"aggs": {"t": {"terms": {"field": "workflow_id", "min_doc_count": 0}}}},
    "multi_terms with min_doc_count 0": {
        "aggs": {"t": {"multi_terms": {"terms": [{"field": "workflow_id"}, {"field": "state"}], "min_doc_count": "0"}}}
    },
    "scripted_metric": {"aggs": {"s": {"scripted_metric": {"map_script": "state.x = params._source"}}}},
    "script in a terms agg": {"aggs": {"s": {"terms": {"script": "doc['state'].value"}}}},
    "script query": {"query": {"script": {"script": "true"}}},
    "script_score": {"query": {"script_score": {"query": {"match_all": {}}, "script": "1"}}},
    "function_score script": {"query": {"function_score": {"functions": [{"script_score": {"script": "1"}}]}}},
    "terms_set script": {
        "query": {"terms_set": {"state": {"terms": ["A"], "minimum_should_match_script": {"source": "1"}}}}
    },
    "script sort": {"sort": [{"_script": {"type": "number", "script": "1"}}]},
    "wrapper": {"query": {"wrapper": {"query": "eyJtYXRjaF9hbGwiOnt9fQ=="}}},
    "terms lookup": {"query": {"terms": {"workflow_id": {"index": "other", "id": "1", "path": "ids"}}}},
    "more_like_this": {"query": {"more_like_this": {"like": [{"_id": "hidden"}]}}},
    "percolate": {"query": {"percolate": {"field": "q", "index": "other", "id": "1"}}},
    "indexed_shape": {"query": {"geo_shape": {"f": {"indexed_shape": {"index": "other", "id": "1"}}}}},
    "inner_hits": {"query": {"nested": {"path": "resources_created", "query": {"match_all": {}}, "inner_hits": {}}}},
    "post_filter with a script": {"post_filter": {"script": {"script": "true"}}},
    "top_hits with docvalue_fields": {"aggs": {"t": {"top_hits": {"docvalue_fields": ["state"]}}}},
    "top_hits with a script field": {"aggs": {"t": {"top_hits": {"script_fields": {}}}}},
}


@pytest.mark.parametrize("body", REFUSED_FOR_EVERYONE.values(), ids=REFUSED_FOR_EVERYONE.keys())
@pytest.mark.parametrize("scope", [NON_ADMIN, ADMIN_SCOPE], ids=["non-admin", "admin"])
def test_refused_for_everyone(body: dict[str, Any], scope: Scope) -> None:
    with pytest.raises(SearchRefused):
        restrict(body, scope)


USER_REVEALING = {
    "nested query on user": {"query": {"nested": {"path": "user", "query": {"match": {"user.name": "alice"}}}}},
    "nested agg on user": {
        "aggs": {"u": {"nested": {"path": "user"}, "aggs": {"n": {"terms": {"field": "user.name.keyword"}}}}}
    },
    "nested sort on user": {"sort": [{"user.name.keyword": {"order": "asc", "nested": {"path": "user"}}}]},
    "old nested_path sort": {"sort": [{"provision_start_time": {"nested_path": "user"}}]},
    "sort by a user field": {"sort": ["user.name.keyword"]},
    "term on a user field": {"post_filter": {"term": {"user.name.keyword": "alice"}}},
    "exists on user": {"query": {"exists": {"field": "user"}}},
    "multi_match on user fields": {"query": {"multi_match": {"query": "x", "fields": ["error", "user.name"]}}},
}


@pytest.mark.parametrize("body", USER_REVEALING.values(), ids=USER_REVEALING.keys())
def test_user_cannot_be_reached_by_callers_it_is_hidden_from(body: dict[str, Any]) -> None:
    with pytest.raises(SearchRefused, match=r"\[user\] field is hidden"):
        restrict(body, NON_ADMIN)
    restrict(body, ADMIN_SCOPE)  # all_access sees user anyway


ALLOWED = {
    "paging": {"from": 10, "size": 5, "search_after": [1, "x"], "track_total_hits": True},
    "bool with post_filter": {"query": {"bool": {"should": [TERM]}}, "post_filter": {"match_all": {}}},
    "terms query": {"query": {"terms": {"state": ["FAILED", "COMPLETED"], "boost": 1.0}}},
    "terms agg ordered": {
        "aggs": {"s": {"terms": {"field": "state", "order": {"_count": "desc"}, "min_doc_count": 2}}}
    },
    "composite": {"aggs": {"c": {"composite": {"sources": [{"s": {"terms": {"field": "state"}}}]}}}},
    "nested agg on resources": {
        "aggs": {"r": {"nested": {"path": "resources_created"},
                       "aggs": {"t": {"terms": {"field": "resources_created.resource_type"}}}}}
    },
    "histogram with empty buckets": {
        "aggs": {"h": {"date_histogram": {"field": "provision_start_time", "fixed_interval": "1h", "min_doc_count": 0}}}
    },
    "bucket_script": {
        "aggs": {"w": {"terms": {"field": "workflow_id"}, "aggs": {
            "a": {"min": {"field": "provision_start_time"}},
            "d": {"bucket_script": {"buckets_path": {"a": "a"}, "script": "params.a * 2"}},
        }}}
    },
    "an agg named like a refused type": {"aggs": {"global": {"terms": {"field": "state"}}}},
    "sort strings and objects": {"sort": ["_score", {"provision_start_time": "desc"}, {"_seq_no": {"order": "desc"}}]},
    "timeout and friends": {"timeout": "1s", "terminate_after": 10, "min_score": 0.1, "track_scores": True},
}


@pytest.mark.parametrize("body", ALLOWED.values(), ids=ALLOWED.keys())
def test_what_a_dashboard_needs_is_allowed(body: dict[str, Any]) -> None:
    restricted = restrict(body, NON_ADMIN)
    assert {k: v for k, v in restricted.items() if k not in ("_source", "version", "seq_no_primary_term")} == body


def test_refusals_name_the_key_and_the_reason() -> None:
    with pytest.raises(SearchRefused) as refused:
        restrict({"suggest": {}}, NON_ADMIN)
    assert str(refused.value).startswith("[suggest] is not allowed in a workflow state search: suggesters read")
    with pytest.raises(SearchRefused, match=r"^\[global\] is not allowed .* escape the query"):
        restrict({"aggs": {"a": {"global": {}}}}, NON_ADMIN)


def test_bodies_nested_too_deep_are_refused_without_recursion() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(MAX_DEPTH + 1):
        node["bool"] = {}
        node = node["bool"]
    with pytest.raises(SearchRefused, match="nested deeper than"):
        restrict({"query": deep}, NON_ADMIN)
    very_deep: list[Any] = []
    for _ in range(100_000):
        very_deep = [very_deep]
    with pytest.raises(SearchRefused, match="nested deeper than"):
        restrict({"query": {"bool": {"must": very_deep}}}, NON_ADMIN)
