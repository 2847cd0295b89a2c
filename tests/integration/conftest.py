"""Fixtures for tests that run flowstatus against the session's real OpenSearch."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from opensearchpy import OpenSearch
from werkzeug.serving import make_server

from flowstatus.app import create_app
from flowstatus.domain.access import ANONYMOUS, Caller
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.settings import Settings
from tests.recording_proxy import RecordingProxy


@pytest.fixture
def repository(settings: Settings) -> OpenSearchStateRepository:
    """A repository on the session's shared state index."""
    return OpenSearchStateRepository.from_settings(settings)


@pytest.fixture
def fresh_repository(fresh_settings: Settings, raw: OpenSearch) -> OpenSearchStateRepository:
    """A repository whose state index does not exist yet (dropped after the test)."""
    return OpenSearchStateRepository.from_settings(fresh_settings)


@pytest.fixture
def recording_proxy(opensearch_url: str) -> Iterator[RecordingProxy]:
    """A pass-through proxy to the session's node that records every request (see tests/recording_proxy.py)."""
    with RecordingProxy(opensearch_url) as proxy:
        yield proxy


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def fresh_client(fresh_settings: Settings, raw: OpenSearch) -> FlaskClient:
    """A client of an app whose state index does not exist yet."""
    return create_app(fresh_settings).test_client()


def put_stored(raw: OpenSearch, index: str, workflow_id: str, source: dict[str, Any]) -> None:
    """Store ``source`` verbatim, as the plugin would have written it."""
    raw.index(index=index, id=workflow_id, body=source)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@contextlib.contextmanager
def seeded_state_index(opensearch_url: str, prefix: str, docs: dict[str, dict[str, Any]]) -> Iterator[str]:
    """A new state index (plugin mapping) holding exactly ``docs`` by id, refreshed; dropped on exit."""
    index = f".flowstatus-test-{prefix}-{uuid.uuid4().hex[:12]}"
    OpenSearchStateRepository.from_settings(Settings(opensearch_hosts=(opensearch_url,), state_index=index)).ensure_index()
    client = OpenSearch([opensearch_url], timeout=30)
    for workflow_id, source in docs.items():
        client.index(index=index, id=workflow_id, body=source)
    client.indices.refresh(index=index)
    try:
        yield index
    finally:
        client.indices.delete(index=index, ignore=404)


def client_as(opensearch_url: str, index: str, caller: Caller = ANONYMOUS, **overrides: Any) -> FlaskClient:
    """A client of an app on ``index`` that takes every request as made by ``caller``."""
    settings = Settings(**{"opensearch_hosts": (opensearch_url,), "state_index": index,
                           "request_timeout": 10, **overrides})
    app = create_app(settings)

    @app.before_request
    def _as_caller() -> None:  # stands in for authentication
        g.caller = caller

    client = app.test_client()
    if caller.tenant_id is not None:  # the header multi-tenancy reads the tenant from
        client.environ_base["HTTP_X_TENANT_ID"] = caller.tenant_id
    return client
