"""A real ``flowstatus serve`` with users, on the session's node, for hostile clients."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Served, serving
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
