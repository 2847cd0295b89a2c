"""Hostile clients on the session's node: a real ``flowstatus serve`` with users, and an app on a corpus of two owners."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.settings import Settings
from tests.e2e.conftest import Served, serving
from tests.hostile.search_corpus import CORPUS, USERS, write_users_with_costs
from tests.integration.conftest import seeded_state_index
from tests.security.conftest import basic, write_users

ServerFactory = Callable[..., contextlib.AbstractContextManager[Served]]


@pytest.fixture
def hostile_server(opensearch_url: str, tmp_path: Path) -> ServerFactory:
    """``hostile_server(*serve_options, **env)``: ``flowstatus serve`` with users on a fresh state index."""

    @contextlib.contextmanager
    def start(*options: str, index: str | None = None, **env: str) -> Iterator[Served]:
        users = write_users(tmp_path / f"users-{uuid.uuid4().hex[:6]}.yml")
        index = index or f".flowstatus-hostile-{uuid.uuid4().hex[:12]}"
        log = tmp_path / f"serve-{uuid.uuid4().hex[:6]}.log"
        with serving(opensearch_url, index, log, "--workers", "2", *options,
                     env={"FLOWSTATUS_USERS_FILE": str(users), **env}) as server:
            yield server

    return start


WRITER = basic("writer")
READER = basic("alice")


AppFactory = Callable[..., FlaskClient]


@pytest.fixture(scope="session")
def search_users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alice, bob, carol and admin of :data:`~tests.hostile.search_corpus.USERS`."""
    return write_users_with_costs(tmp_path_factory.mktemp("hostile") / "internal_users.yml", USERS)


@pytest.fixture(scope="module")
def corpus(opensearch_url: str) -> Iterator[str]:
    """A state index holding alice's and bob's workflows (:data:`~tests.hostile.search_corpus.CORPUS`)."""
    with seeded_state_index(opensearch_url, "hostile", CORPUS) as index:
        yield index


@pytest.fixture
def hostile_app(opensearch_url: str, corpus: str, search_users_file: Path) -> AppFactory:
    """``hostile_app(**settings)``: a client of an app with users, backend-role filtering and multi-tenancy on."""

    def make(**overrides: Any) -> FlaskClient:
        settings = {"opensearch_hosts": (opensearch_url,), "state_index": corpus, "request_timeout": 10,
                    "users_file": str(search_users_file), "filter_by_backend_roles": True, "multi_tenancy": True,
                    **overrides}
        return create_app(Settings(**settings)).test_client()

    return make
