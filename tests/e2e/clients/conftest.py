"""Fixtures of the command-line clients' end-to-end tests: a HOME per run, a server with users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clients.runs import secured_server
from tests.e2e.conftest import Served
from tests.security.conftest import users_file  # noqa: F401 - the users file fixture, for the servers here


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A HOME for client runs: no ~/.netrc unless the test writes one."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def secured(opensearch_url: str, users_file: Path,  # noqa: F811 - the fixture imported above
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server with users and backend-role filtering, for a module.

    It logs at DEBUG: whatever the server logs, it must not log a password.
    """
    with secured_server(opensearch_url, users_file, tmp_path_factory.mktemp("secured"),
                        FLOWSTATUS_LOG_LEVEL="DEBUG") as served:
        yield served

