"""The bench's use of a state index, against the session's real node (bench/state_index.py).

``make bench`` writes into the plugin's real state index, which may hold a
user's workflows: it must create the index only when absent, and at the end
delete either the index it created or exactly the documents it wrote.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from bench import longpoll
from bench.rawhttp import OpenSearchHttp
from bench.seed import read_doc, read_id, user_for
from bench.state_index import StateIndex
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.settings import Settings


@pytest.fixture
def client(opensearch_url: str) -> Iterator[OpenSearchHttp]:
    http = OpenSearchHttp(opensearch_url, timeout=30)
    yield http
    http.close()


def test_an_index_the_bench_created_is_grown_then_deleted(opensearch_url: str, unique_index: str,
                                                          raw: OpenSearch, client: OpenSearchHttp) -> None:
    state = StateIndex(client, unique_index, user_for("2.19.6"), say=lambda _: None)
    state.ensure(opensearch_url)
    assert state.created
    state.grow(10)
    state.grow(25)  # only the 15 missing ones are written
    state.grow(5)  # never shrinks
    assert state.count() == 25
    assert raw.get(index=unique_index, id=read_id(24))["_source"] == read_doc(24, user_for("2.19.6"))
    state.add(longpoll.workflows(3), "long-poll workflows")
    assert state.count() == 28
    state.clean_up()
    assert not raw.indices.exists(index=unique_index)


def test_an_index_that_existed_keeps_all_but_the_benchs_documents(opensearch_url: str, unique_index: str,
                                                                  raw: OpenSearch, client: OpenSearchHttp) -> None:
    settings = Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index)
    OpenSearchStateRepository.from_settings(settings).ensure_index()
    raw.indices.put_settings(index=unique_index, body={"index": {"refresh_interval": "7s"}})
    theirs = {"workflow_id": "users-own", "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED"}
    raw.index(index=unique_index, id="users-own", body=theirs, refresh=True)
    state = StateIndex(client, unique_index, user_for(None), say=lambda _: None)
    state.ensure(opensearch_url)
    assert not state.created
    state.grow(12)
    state.add(longpoll.workflows(2), "long-poll workflows")
    assert state.count() == 15
    flat = raw.indices.get_settings(index=unique_index, flat_settings=True)[unique_index]["settings"]
    assert flat["index.refresh_interval"] == "7s"  # restored after seeding with refresh off
    state.clean_up()
    raw.indices.refresh(index=unique_index)
    assert raw.count(index=unique_index)["count"] == 1
    assert raw.get(index=unique_index, id="users-own")["_source"] == theirs
