"""Liveness and readiness."""

from __future__ import annotations

import dataclasses

from flask.testing import FlaskClient
from opensearchpy import OpenSearch

from flowstatus.app import create_app
from flowstatus.settings import Settings
from tests.conftest import ready_soon
from tests.integration.test_unavailable import closed_port


def test_health_is_always_ok(client: FlaskClient) -> None:
    assert client.get("/_health").get_json() == {"status": "ok"}


def test_ready_when_the_state_index_exists(client: FlaskClient) -> None:
    response = client.get("/_ready")
    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})


def test_not_ready_without_the_state_index(fresh_client: FlaskClient) -> None:
    response = fresh_client.get("/_ready")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not_ready", "reason": "the state index does not exist"}


def test_not_ready_without_opensearch() -> None:
    client = create_app(Settings(opensearch_hosts=(f"http://127.0.0.1:{closed_port()}",))).test_client()
    response = client.get("/_ready")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["reason"] == "OpenSearch is unavailable"
    assert client.get("/_health").status_code == 200


def _red_state_index(opensearch_url: str, index: str) -> OpenSearch:
    """A state index (plugin mapping) whose only shard cannot be allocated: its primary is never active."""
    from flowstatus.repository.opensearch_state import CREATE_SETTINGS, MAPPING

    client = OpenSearch([opensearch_url], timeout=30)
    settings = {"index": {**CREATE_SETTINGS["index"], "routing.allocation.require._name": "no-such-node"}}
    client.indices.create(index=index, body={"settings": settings, "mappings": MAPPING},
                          params={"wait_for_active_shards": "0"})
    return client


def test_not_ready_while_the_primary_is_not_active_and_ready_once_it_is(
    opensearch_url: str, unique_index: str
) -> None:
    client = _red_state_index(opensearch_url, unique_index)
    try:
        app = create_app(Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index, request_timeout=2))
        web = app.test_client()
        response = web.get("/_ready")
        assert response.status_code == 503 and "Retry-After" in response.headers
        assert response.get_json()["reason"] == "the primary copy of the state index's shard is not active"
        assert web.get("/_plugins/_flow_framework/workflow/x/_status").status_code == 503  # as reads are
        client.indices.put_settings(index=unique_index, body={"index.routing.allocation.require._name": None})
        client.cluster.health(index=unique_index, wait_for_status="yellow", request_timeout=30)
        assert ready_soon(web).status_code == 200
        assert web.get("/_plugins/_flow_framework/workflow/x/_status").status_code == 404
    finally:
        client.indices.delete(index=unique_index, ignore=404)


def test_not_ready_while_writes_would_wait_for_copies_that_are_missing(
    opensearch_url: str, settings: Settings
) -> None:
    # One node: the state shard has one active copy, so a write asking for two cannot start.
    web = create_app(dataclasses.replace(settings, wait_for_active_shards="2")).test_client()
    response = web.get("/_ready")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "writes wait for 2 active copies of the state index's shard, 1 are active"
    assert create_app(dataclasses.replace(settings, wait_for_active_shards="1")).test_client().get(
        "/_ready").status_code == 200
