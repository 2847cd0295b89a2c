"""What only the OpenSearch adapter does: the index, its mapping and its upgrades."""

from __future__ import annotations

import dataclasses

import pytest
from opensearchpy import OpenSearch

from flowstatus.repository import IndexReport
from flowstatus.repository.errors import CorruptDocument, MappingConflict
from flowstatus.repository.opensearch_state import MAPPING, OpenSearchStateRepository
from flowstatus.repository.state_mapping import mapping_for
from flowstatus.settings import Settings
from tests.conftest import new_id


def mapping_of(raw: OpenSearch, index: str) -> dict:
    (entry,) = raw.indices.get_mapping(index=index).values()
    return entry["mappings"]


def test_the_index_gets_the_plugins_mapping_and_settings(
    fresh_repository: OpenSearchStateRepository, raw: OpenSearch
) -> None:
    # filterwarnings=error: a dot-index deprecation warning would fail this test.
    assert fresh_repository.ensure_index() is IndexReport.CREATED
    mappings = mapping_of(raw, fresh_repository.index)
    assert mappings["dynamic"] == "false"
    assert mappings["_meta"] == {"schema_version": 4}
    assert mappings["properties"]["user"]["type"] == "nested"
    assert mappings["properties"]["resources_created"]["type"] == "nested"
    # The plugin's of the node's generation (tests/integration/test_generations.py: which that is).
    assert set(mappings["properties"]) == set(mapping_for(fresh_repository.generation())["properties"])
    (entry,) = raw.indices.get_settings(index=fresh_repository.index).values()
    assert entry["settings"]["index"]["auto_expand_replicas"] == "0-1"
    assert entry["settings"]["index"]["hidden"] == "true"


OLD_MAPPINGS = {
    "2.12 (schema 1, ui_metadata)": {
        "dynamic": False, "_meta": {"schema_version": 1},
        "properties": {"workflow_id": {"type": "keyword"}, "state": {"type": "keyword"},
                       "ui_metadata": {"type": "object", "enabled": False}}},
    "2.15 (schema 3, no tenant_id)": {
        "dynamic": False, "_meta": {"schema_version": 3},
        "properties": {k: v for k, v in MAPPING["properties"].items()
                       if k not in ("tenant_id", "all_shared_principals")}},
    "schema 4 lacking a property (user)": {
        "dynamic": False, "_meta": {"schema_version": 4},
        "properties": {k: v for k, v in MAPPING["properties"].items() if k != "user"}},
    "no _meta at all": {"dynamic": False, "properties": {"workflow_id": {"type": "keyword"}}},
}


@pytest.mark.parametrize("old", OLD_MAPPINGS.values(), ids=list(OLD_MAPPINGS))
def test_an_older_mapping_is_upgraded_in_place(
    old: dict, fresh_repository: OpenSearchStateRepository, raw: OpenSearch
) -> None:
    raw.indices.create(index=fresh_repository.index, body={"settings": {"index": {"hidden": True}}, "mappings": old})
    wid = new_id()
    raw.index(index=fresh_repository.index, id=wid, body={"workflow_id": wid, "state": "NOT_STARTED"})
    assert fresh_repository.ensure_index() is IndexReport.UPGRADED
    mappings = mapping_of(raw, fresh_repository.index)
    assert mappings["_meta"] == {"schema_version": 4}
    assert set(mapping_for(fresh_repository.generation())["properties"]) <= set(mappings["properties"])
    assert fresh_repository.get(wid).state.state == "NOT_STARTED"
    assert fresh_repository.ensure_index() is IndexReport.CURRENT


def test_a_mapping_that_cannot_be_upgraded_says_why(fresh_repository: OpenSearchStateRepository, raw: OpenSearch) -> None:
    # Before 2.16 a v1 template could give the index dynamic mappings:
    # "user" became a plain object, which cannot turn nested in place.
    raw.indices.create(index=fresh_repository.index, body={
        "settings": {"index": {"hidden": True}},
        "mappings": {"properties": {"user": {"properties": {"name": {"type": "text"}}}}}})
    with pytest.raises(MappingConflict, match="cannot take the plugin's mapping in place"):
        fresh_repository.ensure_index()


def test_a_corrupt_document_is_reported_not_raised_from_opensearch(
    repository: OpenSearchStateRepository, raw: OpenSearch, state_index: str
) -> None:
    wid = new_id()
    raw.index(index=state_index, id=wid, body={"workflow_id": wid, "user_outputs": {"k": 1}})
    with pytest.raises(CorruptDocument):
        repository.get(wid)
    assert isinstance(repository.get_many([wid])[wid], CorruptDocument)


def test_reads_are_realtime(fresh_repository: OpenSearchStateRepository, raw: OpenSearch) -> None:
    index = fresh_repository.index
    fresh_repository.ensure_index()
    raw.indices.put_settings(index=index, body={"index": {"refresh_interval": "-1"}})

    def refreshes() -> int:  # searches see what the last external refresh made visible
        return raw.indices.stats(index=index, metric="refresh")["_all"]["primaries"]["refresh"]["external_total"]

    for _ in range(3):  # a refresh still under way from the index's start makes an attempt inconclusive
        before, wid = refreshes(), new_id()
        raw.index(index=index, id=wid, body={"workflow_id": wid, "state": "PROVISIONING"})
        assert fresh_repository.get(wid).state.state == "PROVISIONING"
        searchable = raw.count(index=index, body={"query": {"ids": {"values": [wid]}}})["count"]
        if refreshes() == before:
            assert searchable == 0  # not searchable yet: the read was realtime
            return
    pytest.fail("an external refresh came between the write and the search in every attempt")


def test_the_connection_pool_has_the_configured_size(settings: Settings) -> None:
    for hosts in ((settings.opensearch_hosts[0],), (settings.opensearch_hosts[0], "http://127.0.0.1:9")):
        repository = OpenSearchStateRepository.from_settings(
            dataclasses.replace(settings, opensearch_hosts=hosts, pool_size=7)
        )
        for client in (repository.client, repository.write_client):
            sizes = {c.pool_size for c in client.transport.connection_pool.connections}
            assert sizes == {7}
