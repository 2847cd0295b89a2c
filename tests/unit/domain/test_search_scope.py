"""The access filters of the state search: pure rewriting of bodies the search schema loaded.

What a body may hold, and the refusals, are tested with the schema (tests/unit/schemas/test_search_*.py).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from flowstatus.domain.access import ANONYMOUS, Caller
from flowstatus.domain.model import User
from flowstatus.domain.search_scope import (
    CREDENTIAL_FIELD,
    MissingTenant,
    Scope,
    SearchRefused,
    backend_roles_clause,
    restrict,
    scope_for,
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
    assert scope == Scope(hide_user=True, backend_roles=("team-a",), tenant_id="t1", user_out_of_source=True)


def test_all_access_skips_role_filtering_but_not_the_tenant() -> None:
    scope = scope_for(ADMIN, filter_by_backend_roles=True, multi_tenancy=True)
    assert scope == Scope(hide_user=False, backend_roles=None, tenant_id="t1", user_out_of_source=False)


def test_without_access_control_user_is_searchable_but_left_out_of_sources_as_the_plugin_does() -> None:
    scope = scope_for(ANONYMOUS, filter_by_backend_roles=True, multi_tenancy=False)
    assert scope == Scope(hide_user=False, user_out_of_source=True)
    assert restrict({}, scope)["_source"]["excludes"][0] == "user"


def test_filters_apply_only_when_their_setting_is_on() -> None:
    assert scope_for(ALICE, filter_by_backend_roles=False, multi_tenancy=False) == Scope(hide_user=True,
                                                                                        user_out_of_source=True)


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
        (["user"], False, {"includes": ["user"], "excludes": ["user", "ui_metadata", CREDENTIAL_FIELD]}),
        (["state", "u*"], True, {"includes": ["state", "u*"], "excludes": ["user", "ui_metadata", CREDENTIAL_FIELD]}),
        (
            {"includes": ["state"], "excludes": ["error", "user"]},
            True,
            {"includes": ["state"], "excludes": ["error", "user", "ui_metadata", CREDENTIAL_FIELD]},
        ),
    ],
)
def test_the_plugins_source_rule(requested: Any, hide_user: bool, expected: Any) -> None:
    body = {} if requested is None else {"_source": requested}
    assert restrict(body, Scope(hide_user=hide_user))["_source"] == expected


def test_top_hits_get_the_same_source_rule() -> None:
    body = restrict({"aggs": {"latest": {"top_hits": {"size": 1, "_source": ["user"]}}}}, NON_ADMIN)
    assert body["aggs"]["latest"]["top_hits"]["_source"]["excludes"][0] == "user"
    body = restrict({"aggs": {"latest": {"top_hits": {"size": 1}}}}, NON_ADMIN)
    assert "user" in body["aggs"]["latest"]["top_hits"]["_source"]["excludes"]


def test_top_hits_below_other_aggregations_get_the_rule_too() -> None:
    body = {"aggs": {"n": {"nested": {"path": "resources_created"}, "aggs": {
        "r": {"reverse_nested": {}, "aggs": {"latest": {"top_hits": {"size": 1}}}}}}}}
    restricted = restrict(body, NON_ADMIN)
    inner = restricted["aggs"]["n"]["aggs"]["r"]["aggs"]["latest"]["top_hits"]
    assert "user" in inner["_source"]["excludes"]
    assert "_source" not in body["aggs"]["n"]["aggs"]["r"]["aggs"]["latest"]["top_hits"], "the body is not modified"


def test_a_refusal_names_the_path_and_the_reason() -> None:
    refused = SearchRefused("must be from 1 to 10", "aggs.wf.terms.min_doc_count")
    assert str(refused) == "[aggs.wf.terms.min_doc_count] must be from 1 to 10"
    assert (refused.path, refused.why) == ("aggs.wf.terms.min_doc_count", "must be from 1 to 10")
    assert str(SearchRefused("too deep")) == "too deep"
