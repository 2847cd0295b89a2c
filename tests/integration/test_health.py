"""Liveness and readiness."""

from __future__ import annotations

from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.settings import Settings
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
