"""The cluster's generation on a real node: the mapping flowstatus gives the state index, and when it looks again.

``make test`` runs this on a 2.19 and on a 3.x node; each test asserts what
the node's own generation calls for, read from the node without flowstatus's
code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from flowstatus.domain.model import User, WorkflowState
from flowstatus.repository import Create, IndexReport, Outcome
from flowstatus.repository.errors import StoreUnavailable
from flowstatus.repository.opensearch_state import MAPPING, OpenSearchStateRepository
from flowstatus.settings import Settings
from tests.conftest import new_id
from tests.recording_proxy import RecordingProxy

SHARING = "all_shared_principals"


def node_release(raw: OpenSearch) -> tuple[int, int]:
    major, minor = raw.info()["version"]["number"].split(".")[:2]
    return int(major), int(minor)


def mapped(raw: OpenSearch, index: str) -> set[str]:
    (entry,) = raw.indices.get_mapping(index=index).values()
    assert entry["mappings"]["_meta"] == {"schema_version": 4} and entry["mappings"]["dynamic"] == "false"
    return set(entry["mappings"]["properties"])


def test_the_index_gets_the_mapping_of_the_clusters_plugin(
        fresh_repository: OpenSearchStateRepository, raw: OpenSearch) -> None:
    assert fresh_repository.ensure_index() is IndexReport.CREATED
    properties = mapped(raw, fresh_repository.index)
    assert (SHARING in properties) is (node_release(raw) >= (3, 4)), "3.4 added resource sharing"
    assert properties | {SHARING} == set(MAPPING["properties"])


def test_an_index_without_resource_sharing_is_current_before_3_4_and_upgraded_from_3_4_on(
        fresh_repository: OpenSearchStateRepository, raw: OpenSearch) -> None:
    # As a plugin before 3.4 creates it (schema_version 4 all the same).
    older = {**MAPPING, "properties": {k: v for k, v in MAPPING["properties"].items() if k != SHARING}}
    raw.indices.create(index=fresh_repository.index, body={"settings": {"index": {"hidden": True}}, "mappings": older})
    if node_release(raw) >= (3, 4):
        assert fresh_repository.ensure_index() is IndexReport.UPGRADED
        assert SHARING in mapped(raw, fresh_repository.index)
    else:
        assert fresh_repository.ensure_index() is IndexReport.CURRENT
        assert SHARING not in mapped(raw, fresh_repository.index)
    assert fresh_repository.ensure_index() is IndexReport.CURRENT


def test_an_index_with_resource_sharing_stays_as_it_is_on_every_generation(
        fresh_repository: OpenSearchStateRepository, raw: OpenSearch) -> None:
    # What flowstatus created on any cluster before it told generations apart; every plugin reads it.
    raw.indices.create(index=fresh_repository.index, body={"settings": {"index": {"hidden": True}},
                                                           "mappings": MAPPING})
    assert fresh_repository.ensure_index() is IndexReport.CURRENT
    assert mapped(raw, fresh_repository.index) == set(MAPPING["properties"])


@pytest.fixture
def proxied(recording_proxy: RecordingProxy, fresh_settings: Settings,
            raw: OpenSearch) -> Iterator[tuple[OpenSearchStateRepository, RecordingProxy]]:
    """A repository reaching the node through the recording proxy (its index dropped afterwards by ``raw``)."""
    settings = dataclasses.replace(fresh_settings, opensearch_hosts=(recording_proxy.url,), request_timeout=5)
    yield OpenSearchStateRepository.from_settings(settings), recording_proxy


def generation_reads(proxy: RecordingProxy) -> tuple[int, int]:
    """How many ``GET /`` and ``GET /_cat/plugins`` went through."""
    paths = [s.path.split("?")[0] for s in proxy.seen if s.method == "GET"]
    return paths.count("/"), paths.count("/_cat/plugins")


def create(repository: OpenSearchStateRepository) -> None:
    wid = new_id()
    result = repository.write(Create(wid, WorkflowState.fresh(wid, user=User("alice"))))
    assert result.outcome is Outcome.DONE, result


def test_the_generation_is_read_once_for_many_writes(
        proxied: tuple[OpenSearchStateRepository, RecordingProxy]) -> None:
    repository, proxy = proxied
    for _ in range(3):
        create(repository)
    repository.generation()
    assert generation_reads(proxy) == (1, 1)


def test_it_is_read_again_when_the_cluster_comes_back(
        proxied: tuple[OpenSearchStateRepository, RecordingProxy]) -> None:
    repository, proxy = proxied
    create(repository)
    assert generation_reads(proxy) == (1, 1)
    proxy.stop()  # the cluster goes away (an upgrade restarts its nodes) ...
    with pytest.raises(StoreUnavailable):
        create(repository)
    proxy.start()  # ... and comes back: the first write looks again
    create(repository)
    create(repository)
    assert generation_reads(proxy) == (2, 2)


def test_it_is_read_again_when_it_is_old(fresh_settings: Settings, recording_proxy: RecordingProxy,
                                         raw: OpenSearch) -> None:
    settings = dataclasses.replace(fresh_settings, opensearch_hosts=(recording_proxy.url,))
    built = OpenSearchStateRepository.from_settings(settings)
    repository = OpenSearchStateRepository(built.client, settings.state_index, write_client=built.write_client,
                                           generation_ttl=0)
    create(repository)  # ensure_index looks, then the write (its time is up at once)
    create(repository)
    assert generation_reads(recording_proxy) == (3, 3)


def test_ensure_index_always_looks_again(proxied: tuple[OpenSearchStateRepository, RecordingProxy]) -> None:
    repository, proxy = proxied
    repository.generation()
    repository.ensure_index()
    repository.ensure_index()
    assert generation_reads(proxy) == (3, 3)
