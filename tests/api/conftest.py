"""HTTP-level tests on the in-memory repository and search.

What these tests check is flowstatus's own HTTP behaviour (parameters,
rendering, errors, the API description), not OpenSearch's; the in-memory pair
answers as OpenSearch does because tests/contract holds both to one suite.
Everything about OpenSearch's behaviour stays in tests/integration.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.repository.memory import InMemoryStateRepository, in_memory_store
from flowstatus.settings import Settings


@pytest.fixture
def store() -> InMemoryStateRepository:
    repository, _ = in_memory_store()
    repository.ensure_index()
    return repository


@pytest.fixture
def app(store: InMemoryStateRepository) -> Flask:
    from flowstatus.repository.memory import InMemoryStateSearch

    return create_app(Settings(), repository=store, search=InMemoryStateSearch(store))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def put(store: InMemoryStateRepository, workflow_id: str, source: dict[str, Any]) -> None:
    """Store ``source`` as the plugin would have written it."""
    store.put_raw(workflow_id, source)
