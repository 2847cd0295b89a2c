"""The one search path: schema, cost, filters, in that order, before the store sees anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from flowstatus.domain.access import AccessPolicy, Caller
from flowstatus.domain.model import User
from flowstatus.domain.search_scope import MissingTenant, SearchRefused
from flowstatus.repository.memory import InMemoryStateRepository, InMemoryStateSearch
from flowstatus.services.scoped_search import ScopedSearch

BOB = Caller(User("bob", backend_roles=("team-b",)), tenant_id="t-b")
ADMIN = Caller(User("root", roles=("all_access",)), tenant_id="t-b")


class RecordingSearch(InMemoryStateSearch):
    """The in-memory search, keeping what it was asked."""

    def __init__(self) -> None:
        repository = InMemoryStateRepository()
        repository.put_raw("wf-b", {"workflow_id": "wf-b", "state": "FAILED", "tenant_id": "t-b",
                                    "user": {"name": "bob", "backend_roles": ["team-b"], "roles": []}})
        super().__init__(repository)
        self.received: list[Mapping[str, Any]] = []

    def search(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self.received.append(body)
        return super().search(body)


@pytest.fixture
def store() -> RecordingSearch:
    return RecordingSearch()


def scoped(store: RecordingSearch) -> ScopedSearch:
    return ScopedSearch(store, AccessPolicy(filter_by_backend_roles=True, multi_tenancy=True))


@pytest.mark.parametrize("body", [
    {"aggs": {"wf": {"terms": {"field": "workflow_id", "min_doc_count": "0.99999999999999999999"}}}},
    {"aggs": {"x": {"histogram": {"field": "provision_start_time", "interval": 1, "min_doc_count": 0,
                                  "extended_bounds": {"min": 0, "max": 100_000_000_000}}}}},
    {"query": {"nested": {"path": "user", "query": {"match_all": {}}}}},
])
def test_a_refused_body_never_reaches_the_store(store: RecordingSearch, body: dict[str, Any]) -> None:
    with pytest.raises(SearchRefused):
        scoped(store).run(body, BOB)
    assert store.received == []


def test_a_missing_tenant_is_refused_first(store: RecordingSearch) -> None:
    with pytest.raises(MissingTenant):
        scoped(store).run({"bogus": 1}, Caller(BOB.user))


def test_the_store_receives_the_rebuilt_body_with_the_filters(store: RecordingSearch) -> None:
    body = orjson.loads(b'{"size": 5, "query": {"term": {"state": "FAILED"}}, "aggs": {"s": {"terms": '
                        b'{"field": "state", "size": 3}}}}')
    response = scoped(store).run(body, BOB)
    assert [hit["_id"] for hit in response["hits"]["hits"]] == ["wf-b"]
    (sent,) = store.received
    assert sent["size"] == 5 and type(sent["size"]) is int
    assert sent["query"]["bool"]["filter"] == [
        {"nested": {"path": "user", "query": {"terms": {"user.backend_roles.keyword": ["team-b"]}},
                    "score_mode": "none"}},
        {"term": {"tenant_id": "t-b"}},
    ]
    assert sent["_source"]["excludes"][0] == "user"
    assert sent["version"] is True and sent["seq_no_primary_term"] is True
    assert body == orjson.loads(orjson.dumps(body)), "the caller's body is left as it was"


def test_all_access_gets_user_and_no_role_filter(store: RecordingSearch) -> None:
    scoped(store).run({"query": {"match_all": {}}}, ADMIN)
    (sent,) = store.received
    assert sent["query"] == {"bool": {"must": [{"match_all": {}}], "filter": [{"term": {"tenant_id": "t-b"}}]}}
    assert "user" not in sent["_source"]["excludes"]
