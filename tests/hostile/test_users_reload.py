"""The users file changes under a running ``flowstatus serve``: applied on SIGHUP and on change, never fatal."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Served, serving
from tests.hostile.test_signals import get, wait_for, workers
from tests.security.conftest import USERS, basic, write_users

STATUS = "/_plugins/_flow_framework/workflow/absent/_status"


def answer_for(server: Served, user: str) -> int:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(server.url + STATUS, headers=basic(user))
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def always(server: Served, user: str, status: int, rounds: int = 8) -> bool:
    """Every worker answers ``user`` with ``status`` (several connections spread over the workers)."""
    return all(answer_for(server, user) == status for _ in range(rounds))


@pytest.fixture
def users(tmp_path: Path) -> Path:
    return write_users(tmp_path / "internal_users.yml")


@pytest.fixture
def server(opensearch_url: str, unique_index: str, tmp_path: Path, users: Path) -> Iterator[Served]:
    with serving(opensearch_url, unique_index, tmp_path / "serve.log", "--workers", "2",
                 env={"FLOWSTATUS_USERS_FILE": str(users)}) as started:
        wait_for(lambda: len(workers(started)) == 2, "two workers")
        yield started


def _without(name: str) -> dict[str, tuple[list[str], list[str]]]:
    return {user: roles for user, roles in USERS.items() if user != name}


def _eventually(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    wait_for(check, what, timeout)


def test_sighup_applies_a_changed_file_and_a_revoked_user_is_refused(server: Served, users: Path) -> None:
    assert always(server, "alice", 404)
    write_users(users, _without("alice"))
    before = workers(server)
    os.kill(server.process.pid, signal.SIGHUP)
    wait_for(lambda: len(workers(server)) == 2 and not workers(server) & before, "new workers")
    assert always(server, "alice", 401), "a revoked user still gets in after SIGHUP"
    assert always(server, "bob", 404)


def test_a_change_applies_within_seconds_without_a_signal(server: Served, users: Path) -> None:
    assert always(server, "bob", 404)
    time.sleep(0.01)  # a distinct modification time
    write_users(users, _without("bob"))
    _eventually(lambda: always(server, "bob", 401), "bob revoked without a signal")
    assert always(server, "alice", 404)


def test_a_broken_file_is_refused_and_the_previous_users_stay(server: Served, users: Path) -> None:
    users.write_text("alice: {hash: not-a-bcrypt-hash}\n")
    before = workers(server)
    os.kill(server.process.pid, signal.SIGHUP)
    wait_for(lambda: len(workers(server)) == 2 and not workers(server) & before, "new workers")
    time.sleep(1.5)  # past the change check, too
    assert always(server, "alice", 404) and always(server, "bob", 404), "the previous users are gone"
    assert server.process.poll() is None, "the server stopped"
    assert get(server, "/_health")[0] == 200
    log = server.log.read_text()
    assert "'hash' is not a bcrypt hash" in log and "the users read before stay in force" in log
    write_users(users, _without("alice"))  # fixed: applies again
    _eventually(lambda: always(server, "alice", 401), "the fixed file applied")
