"""Shared fixtures: one real OpenSearch per test session.

Where it comes from, in order: ``OPENSEARCH_URL`` if set; a testcontainers
OpenSearch container when a Docker engine answers; else a node started by
:mod:`devtools.opensearch`.  Tests isolate themselves with unique index
names and ids; nothing ever wipes the cluster.  With ``CI=true`` a missing
OpenSearch fails the integration tests instead of skipping them.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import time
import urllib.request
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opensearchpy import OpenSearch

from flowstatus.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _docker_engine_answers() -> bool:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not os.path.exists(host[len("unix://"):]):
        return False  # the usual case here: a docker client without an engine
    # A failed ping leaves the client's socket to the garbage collector;
    # collect it here, where its ResourceWarning is expected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            import docker

            client = docker.from_env(timeout=3)
            try:
                client.ping()
            finally:
                client.close()
        except Exception:  # noqa: BLE001 - any failure means "no usable engine"
            return False
        finally:
            gc.collect()
    return True


@contextlib.contextmanager
def _container() -> Iterator[str]:
    # Imported here: testcontainers' OpenSearch module warns on import.
    from testcontainers.opensearch import OpenSearchContainer

    from devtools.opensearch import DEFAULT_VERSION

    # The version a started node would run (``make test`` runs its 3.x part with 3.6.0).
    image = f"opensearchproject/opensearch:{os.environ.get('FLOWSTATUS_OPENSEARCH_VERSION') or DEFAULT_VERSION}"
    with OpenSearchContainer(image, security_enabled=False) as container:
        config = container.get_config()
        yield f"http://{config['host']}:{config['port']}"


# Which OpenSearch the session used, for the summary at the end.
_USED: dict[str, str] = {}


def _version(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)["version"]["number"]
    except (OSError, ValueError, KeyError):
        return "unknown version"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _USED:
        terminalreporter.write_sep("-", f"integration tests ran against OpenSearch {_USED['version']} "
                                        f"at {_USED['url']} ({_USED['source']})")


@pytest.fixture(scope="session")
def opensearch_url() -> Iterator[str]:
    """The URL of a real OpenSearch node, for the whole session."""
    if os.environ.get("OPENSEARCH_URL"):
        url = os.environ["OPENSEARCH_URL"].split(",")[0]
        _USED.update(url=url, source="OPENSEARCH_URL", version=_version(url))
        yield url
        return
    from devtools.opensearch import local_opensearch

    docker = _docker_engine_answers()
    source = _container() if docker else local_opensearch()
    try:
        url = source.__enter__()
        _USED.update(url=url, version=_version(url),
                     source="a testcontainers container" if docker else "a node started by the suite")
    except Exception as exc:  # noqa: BLE001 - no OpenSearch can be had on this machine
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
    from flowstatus.repository.opensearch_state import OpenSearchStateRepository

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


@pytest.fixture
def raw(opensearch_url: str, unique_index: str) -> Iterator[OpenSearch]:
    """A plain opensearch-py client, to write documents as the plugin would; drops the test's index
    (and its companion index of step records)."""
    client = OpenSearch([opensearch_url], timeout=30)
    yield client
    client.indices.delete(index=unique_index, ignore=404)
    client.indices.delete(index=f"{unique_index}-flowstatus-steps", ignore=404)


@pytest.fixture
def state_index(shared_index: str) -> str:
    """The state index the ``app`` and ``repository`` fixtures use."""
    return shared_index


def put_template(client: OpenSearch, index: str, workflow_id: str, template: dict[str, Any]) -> None:
    """Store ``template`` as the plugin does: in a hidden index made first (OpenSearch warns of a dot-named
    index that a write creates, once per node, so whichever test came first would fail on it)."""
    client.indices.create(index=index, body={"settings": {"index.hidden": True}}, ignore=400)
    client.index(index=index, id=workflow_id, body=template, refresh=True)


def new_id(prefix: str = "wf") -> str:
    """A workflow id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def ready_soon(client: Any, within: float = 5.0) -> Any:
    """``client``'s ``/_ready`` answer once it is 200, or its last answer after ``within`` seconds.

    A process reuses a readiness verdict for a second, so a repair shows
    there within that second, not at once.
    """
    return eventually(lambda: client.get("/_ready"), lambda answer: answer.status_code == 200, within)


def eventually(ask: Callable[[], Any], done: Callable[[Any], bool], within: float) -> Any:
    """``ask()`` again every 0.1 s until ``done`` holds for its answer or ``within`` seconds pass; the last answer."""
    deadline = time.monotonic() + within
    while not done(answer := ask()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return answer
