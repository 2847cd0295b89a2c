"""One search suite, two implementations: OpenSearch and the in-memory search.

Every body here is one flowstatus sends (the status page's, the access
filters', the search API's common ones); both implementations must answer
them alike, which is what allows the in-memory pair in API-level tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from flowstatus.domain.access import AccessPolicy, Caller
from flowstatus.domain.model import User
from flowstatus.repository.errors import SearchIndexMissing
from flowstatus.repository.memory import in_memory_store
from flowstatus.repository.port import StateRepository, StateSearch
from flowstatus.services.scoped_search import ScopedSearch
from flowstatus.settings import Settings
from flowstatus.ui.listing import ListRequest, detail_body, loaded, rows, state_counts, total, visible

ALICE = User("alice", ("team-a",), ("flow_framework_read_access",))
BOB = User("bob", ("team-b",), ("flow_framework_read_access",))
R = {"workflow_step_name": "create_index", "workflow_step_id": "create_index_1",
     "resource_type": "index_name", "resource_id": "idx-1"}


def _user(u: User) -> dict[str, Any]:
    return {"name": u.name, "backend_roles": list(u.backend_roles), "roles": list(u.roles)}


DOCS: dict[str, dict[str, Any]] = {
    "a-new": {"workflow_id": "a-new", "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED",
              "user": _user(ALICE), "tenant_id": "t1"},
    "a-run": {"workflow_id": "a-run", "state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
              "provision_start_time": 3000, "user": _user(ALICE), "tenant_id": "t1", "resources_created": [R]},
    "a-done": {"workflow_id": "a-done", "state": "COMPLETED", "provisioning_progress": "DONE",
               "provision_start_time": 1000, "provision_end_time": 2000, "user": _user(ALICE), "tenant_id": "t2"},
    "b-fail": {"workflow_id": "b-fail", "state": "FAILED", "provisioning_progress": "FAILED", "error": "boom",
               "provision_start_time": 2000, "provision_end_time": 2500, "user": _user(BOB), "tenant_id": "t1"},
    "nobody": {"workflow_id": "nobody", "state": "COMPLETED", "provisioning_progress": "DONE",
               "provision_start_time": 500, "provision_end_time": 900},
}


@dataclass
class Store:
    repository: StateRepository
    search: StateSearch
    put: Callable[[str, dict[str, Any]], None]
    settle: Callable[[], None]  # make writes visible to search


@pytest.fixture(params=["memory", "opensearch"])
def store(request: pytest.FixtureRequest, unique_index: str) -> Iterator[Store]:
    if request.param == "memory":
        repository, search = in_memory_store(unique_index)
        yield Store(repository, search, repository.put_raw, lambda: None)
        return
    from flowstatus.composition import Components

    url = request.getfixturevalue("opensearch_url")
    built = Components(Settings(opensearch_hosts=(url,), state_index=unique_index, request_timeout=10))
    client = built.client

    def put(workflow_id: str, source: dict[str, Any]) -> None:
        client.index(index=unique_index, id=workflow_id, body=source)

    yield Store(built.repository, built.search, put, lambda: client.indices.refresh(index=unique_index))
    client.indices.delete(index=unique_index, ignore=404)


@pytest.fixture
def seeded(store: Store) -> Store:
    store.repository.ensure_index()
    for workflow_id, source in DOCS.items():
        store.put(workflow_id, source)
    store.put("a-run", DOCS["a-run"])  # a second write: _version 2
    store.settle()
    return store


def _ids(response: dict[str, Any]) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


def _as(caller: Caller, body: dict[str, Any], *, roles: bool = False, tenants: bool = False) -> dict[str, Any]:
    """The body flowstatus sends for ``caller``: loaded through the search schema, bounded and restricted."""
    return ScopedSearch(_Unused(), AccessPolicy(roles, tenants)).prepare(body, caller)


class _Unused(StateSearch):
    """``prepare`` builds a body and never searches."""

    index = "unused"

    def search(self, body: Any) -> dict[str, Any]:
        raise AssertionError("prepare must not search")


ADMIN = Caller(User("admin", (), ("all_access",)))


def test_a_missing_index_is_reported_as_missing(store: Store) -> None:
    with pytest.raises(SearchIndexMissing):
        store.search.search({"query": {"match_all": {}}})


@pytest.mark.parametrize("state", [None, "COMPLETED"])
def test_the_status_page_list(seeded: Store, state: str | None) -> None:
    listing = ListRequest(state=state, size=3)
    response = seeded.search.search(_as(ADMIN, listing.search_body()))
    expected = ["a-new", "a-run", "b-fail"] if state is None else ["a-done", "nobody"]
    assert _ids(response) == expected
    assert total(response) == (5 if state is None else 2)
    assert visible(response) == 5
    assert state_counts(response) == {"NOT_STARTED": 1, "PROVISIONING": 1, "FAILED": 1, "COMPLETED": 2}
    second = seeded.search.search(_as(ADMIN, ListRequest(state=state, size=3, page=2).search_body()))
    assert _ids(second) == (["a-done", "nobody"] if state is None else [])


@pytest.mark.parametrize(("caller", "roles", "tenants", "expected"), [
    (Caller(ALICE), True, False, {"a-new", "a-run", "a-done"}),
    (Caller(BOB), True, False, {"b-fail"}),
    (Caller(ALICE, "t1"), True, True, {"a-new", "a-run"}),
    (Caller(BOB, "t2"), False, True, {"a-done"}),
    (ADMIN, True, False, set(DOCS)),
])
def test_the_access_filters(seeded: Store, caller: Caller, roles: bool, tenants: bool, expected: set[str]) -> None:
    response = seeded.search.search(_as(caller, ListRequest(size=20).search_body(), roles=roles, tenants=tenants))
    assert set(_ids(response)) == expected
    assert visible(response) == len(expected)
    for hit in response["hits"]["hits"]:
        shown = "user" in hit["_source"]
        assert shown is (caller.is_admin and "user" in DOCS[hit["_id"]]), "user is shown to all_access only"


def test_one_workflow_by_id_with_its_versions(seeded: Store) -> None:
    response = seeded.search.search(_as(ADMIN, detail_body("a-run")))
    (hit,) = response["hits"]["hits"]
    assert hit["_source"] == DOCS["a-run"]
    assert hit["_version"] == 2 and hit["_primary_term"] == 1 and isinstance(hit["_seq_no"], int)
    (row,) = rows(loaded(response))
    assert (row.workflow_id, row.state, row.start, row.resources[0].resource_id) == ("a-run", "PROVISIONING", 3000, "idx-1")


@pytest.mark.parametrize(("query", "expected"), [
    ({"term": {"state": "COMPLETED"}}, {"a-done", "nobody"}),
    ({"term": {"state": {"value": "FAILED"}}}, {"b-fail"}),
    ({"terms": {"workflow_id": ["a-new", "nobody", "absent"]}}, {"a-new", "nobody"}),
    ({"range": {"provision_start_time": {"gte": 1000, "lt": 3000}}}, {"a-done", "b-fail"}),
    ({"exists": {"field": "provision_end_time"}}, {"a-done", "b-fail", "nobody"}),
    ({"prefix": {"workflow_id": "a-"}}, {"a-new", "a-run", "a-done"}),
    ({"nested": {"path": "resources_created", "query": {"term": {"resources_created.resource_id": "idx-1"}}}},
     {"a-run"}),
    ({"bool": {"must_not": [{"term": {"state": "COMPLETED"}}], "filter": [{"term": {"tenant_id": "t1"}}]}},
     {"a-new", "a-run", "b-fail"}),
    ({"bool": {"should": [{"term": {"state": "FAILED"}}, {"term": {"state": "NOT_STARTED"}}]}}, {"b-fail", "a-new"}),
])
def test_common_queries(seeded: Store, query: dict[str, Any], expected: set[str]) -> None:
    response = seeded.search.search({"query": query, "size": 20, "track_total_hits": True})
    assert set(_ids(response)) == expected
    assert response["hits"]["total"] == {"value": len(expected), "relation": "eq"}


def test_sorting_with_missing_values_last_and_source_filtering(seeded: Store) -> None:
    body = {"size": 20, "sort": [{"provision_start_time": {"order": "asc"}}], "_source": ["state"]}
    response = seeded.search.search(body)
    assert _ids(response)[:4] == ["nobody", "a-done", "b-fail", "a-run"]
    assert response["hits"]["hits"][0]["_source"] == {"state": "COMPLETED"}
    assert response["hits"]["hits"][0]["sort"] == [500]
