"""The state index vanishing or dynamically mapped: never re-created by a write, repaired with nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from flowstatus.app import create_app
from flowstatus.repository.opensearch_state import MAPPING
from flowstatus.settings import Settings
from tests.e2e.conftest import flowstatus_env
from tests.hostile.conftest import WRITER, ServerFactory

BULK = "/_flowstatus/_bulk"


def post_events(url: str, *events: dict) -> dict:
    body = b"".join(json.dumps(e).encode() + b"\n" for e in events)
    req = urllib.request.Request(url + BULK, data=body, headers={**WRITER, "Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(req, timeout=30) as answer:
        return json.load(answer)


def mapping(client: OpenSearch, index: str) -> dict:
    (found,) = client.indices.get_mapping(index=index).values()
    return found["mappings"]


@pytest.fixture
def client(opensearch_url: str) -> OpenSearch:
    return OpenSearch([opensearch_url], timeout=30)


def test_a_deleted_index_comes_back_with_the_plugins_mapping(hostile_server: ServerFactory,
                                                             client: OpenSearch) -> None:
    with hostile_server() as server:
        index = server.env["FLOWSTATUS_STATE_INDEX"]
        try:
            assert post_events(server.url, {"event": "create", "workflow_id": "before"})["errors"] is False
            client.indices.delete(index=index)
            answer = post_events(server.url, {"event": "create", "workflow_id": "after"},
                                 {"event": "create", "workflow_id": "after", "user": {"name": "u"}})
            assert answer["errors"] is False, answer
            current = mapping(client, index)
            assert current["properties"]["user"]["type"] == "nested", "the index came back dynamically mapped"
            assert current["properties"]["state"] == {"type": "keyword"}
            assert current["dynamic"] == "false" and current["_meta"] == MAPPING["_meta"]
            settings = client.indices.get_settings(index=index)[index]["settings"]["index"]
            assert settings["hidden"] == "true"
        finally:
            client.indices.delete(index=index, ignore=404)


def _dynamically_mapped(client: OpenSearch, index: str, docs: dict[str, dict]) -> None:
    """What an auto-created index looks like: dynamic mappings (``user`` a plain object, ``state`` text)."""
    client.indices.create(index=index, body={"settings": {"index": {"hidden": True}}})
    for doc_id, source in docs.items():
        client.index(index=index, id=doc_id, body=source)
    client.indices.refresh(index=index)


def _docs(count: int) -> dict[str, dict]:
    user = {"name": "alice", "backend_roles": ["team-a"], "roles": [], "custom_attribute_names": []}
    return {f"wf-{i}": {"workflow_id": f"wf-{i}", "state": "COMPLETED", "provisioning_progress": "DONE",
                        "user": user, "resources_created": [
                            {"workflow_step_name": "create_index", "workflow_step_id": "s1",
                             "resource_type": "index_name", "resource_id": f"idx-{i}"}]}
            for i in range(count)}


def _init_index(opensearch_url: str, index: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowstatus", "init-index", *args],
                          env=flowstatus_env(opensearch_url, index), capture_output=True, text=True, timeout=300,
                          check=False)


def test_writes_to_a_dynamically_mapped_index_are_refused_until_it_is_repaired(
    hostile_server: ServerFactory, client: OpenSearch, opensearch_url: str
) -> None:
    index = f".flowstatus-hostile-{uuid.uuid4().hex[:12]}"
    docs = _docs(1234)
    _dynamically_mapped(client, index, docs)
    try:
        settings = Settings(opensearch_hosts=(opensearch_url,), state_index=index)
        refused = create_app(settings).test_client().post(
            BULK, data=b'{"event": "create", "workflow_id": "refused"}\n', content_type="application/x-ndjson")
        assert refused.status_code == 503 and "init-index --repair" in refused.get_json()["error"]
        assert "Retry-After" in refused.headers
        assert not client.exists(index=index, id="refused")

        plain = _init_index(opensearch_url, index)
        assert plain.returncode == 1 and "init-index --repair" in plain.stderr, plain.stderr

        repaired = _init_index(opensearch_url, index, "--repair")
        assert repaired.returncode == 0, repaired.stderr
        assert repaired.stdout.strip() == f"{index}: repaired; {index}-flowstatus-steps: created"
        assert "copying back: 1234 of 1234 documents done" in repaired.stderr  # progress, also when piped
        assert mapping(client, index)["properties"]["user"]["type"] == "nested"
        assert not client.indices.exists(index=f"{index}-repair")
        client.indices.refresh(index=index)
        assert client.count(index=index)["count"] == len(docs)
        stored = client.mget(index=index, body={"ids": list(docs)})["docs"]
        assert {d["_id"]: d["_source"] for d in stored} == docs, "a document changed or went missing"

        with hostile_server(index=index) as server:  # and it takes writes again
            assert post_events(server.url, {"event": "create", "workflow_id": "new"})["errors"] is False
        again = _init_index(opensearch_url, index, "--repair").stdout.strip()
        assert again == f"{index}: current; {index}-flowstatus-steps: current"
    finally:
        client.indices.delete(index=index, ignore=404)
        client.indices.delete(index=f"{index}-repair", ignore=404)
        client.indices.delete(index=f"{index}-flowstatus-steps", ignore=404)


def test_a_repair_that_stopped_after_the_delete_resumes_with_nothing_lost(
    client: OpenSearch, opensearch_url: str, tmp_path: Path
) -> None:
    index = f".flowstatus-hostile-{uuid.uuid4().hex[:12]}"
    docs = _docs(50)
    # The state after a repair stopped right after deleting the broken index: only the checked copy is left.
    client.indices.create(index=f"{index}-repair", body={"settings": {"index": {"hidden": True}},
                                                          "mappings": MAPPING})
    for doc_id, source in docs.items():
        client.index(index=f"{index}-repair", id=doc_id, body=source)
    try:
        resumed = _init_index(opensearch_url, index, "--repair")
        assert resumed.returncode == 0, resumed.stderr
        assert resumed.stdout.strip() == f"{index}: repaired; {index}-flowstatus-steps: created"
        client.indices.refresh(index=index)
        assert client.count(index=index)["count"] == len(docs)
        assert not client.indices.exists(index=f"{index}-repair")
    finally:
        client.indices.delete(index=index, ignore=404)
        client.indices.delete(index=f"{index}-repair", ignore=404)
        client.indices.delete(index=f"{index}-flowstatus-steps", ignore=404)
