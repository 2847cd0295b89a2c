"""Shared fixtures: one real OpenSearch per test session.

Where it comes from, in order: ``OPENSEARCH_URL`` if set; a testcontainers
OpenSearch container when a Docker engine answers; else a node started by
:mod:`flowstatus.launcher`.  Tests isolate themselves with unique index
names and ids; nothing ever wipes the cluster.  With ``CI=true`` a missing
OpenSearch fails the integration tests instead of skipping them.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Iterator

import pytest

from flowstatus.config import Settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def _container() -> Iterator[str]:
    # Imported here: testcontainers' OpenSearch module warns on import.
    from testcontainers.opensearch import OpenSearchContainer

    from flowstatus.launcher import DEFAULT_VERSION

    image = f"opensearchproject/opensearch:{DEFAULT_VERSION}"
    with OpenSearchContainer(image, security_enabled=False) as container:
        config = container.get_config()
        yield f"http://{config['host']}:{config['port']}"


@pytest.fixture(scope="session")
def opensearch_url() -> Iterator[str]:
    """The URL of a real OpenSearch node, for the whole session."""
    if os.environ.get("OPENSEARCH_URL"):
        yield os.environ["OPENSEARCH_URL"].split(",")[0]
        return
    from flowstatus.launcher import local_opensearch

    source = _container() if _docker_engine_answers() else local_opensearch()
    try:
        url = source.__enter__()
    except Exception as exc:  # no OpenSearch can be had on this machine
        message = f"no OpenSearch could be started: {exc}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield url
    finally:
        source.__exit__(None, None, None)


@pytest.fixture
def unique_index() -> str:
    """A state-index name no other test uses."""
    return f".flowstatus-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def shared_index(opensearch_url: str) -> str:
    """One state index for the session, created with the plugin's mapping; tests use unique ids in it."""
    from flowstatus.repository.opensearch import OpenSearchStateRepository

    name = f".flowstatus-test-shared-{uuid.uuid4().hex[:8]}"
    OpenSearchStateRepository.from_settings(Settings(opensearch_hosts=(opensearch_url,), state_index=name)).ensure_index()
    return name


@pytest.fixture
def settings(opensearch_url: str, shared_index: str) -> Settings:
    """Settings for the session's node and shared state index."""
    return Settings(opensearch_hosts=(opensearch_url,), state_index=shared_index, request_timeout=10)


@pytest.fixture
def fresh_settings(opensearch_url: str, unique_index: str) -> Settings:
    """Settings naming a state index that does not exist yet."""
    return Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index, request_timeout=10)


def new_id(prefix: str = "wf") -> str:
    """A workflow id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"
