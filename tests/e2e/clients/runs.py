"""Helpers for the end-to-end tests of the command-line clients (``watch``, ``ingest --url``) on real servers."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from tests.e2e.conftest import Served, serving
from tests.security.conftest import PASSWORD

FLOWSTATUS = [sys.executable, "-m", "flowstatus"]
SECRETS = ("FLOWSTATUS_PASSWORD", "FLOWSTATUS_USER", "FLOWSTATUS_URL", "NETRC")


@contextlib.contextmanager
def server(opensearch_url: str, folder: Path, *options: str, index: str | None = None, **env: str) -> Iterator[Served]:
    """``flowstatus serve`` (one worker, access log on) with ``env`` added to its environment; stopped on exit.

    Its state index is ``index``, else a new one.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        index = index or f".flowstatus-test-{uuid.uuid4().hex[:12]}"
        starting = serving(opensearch_url, index, folder / f"serve-{uuid.uuid4().hex[:6]}.log",
                           "--workers", "1", "--access-log", *options)
        served = starting.__enter__()
    try:
        yield served
    finally:
        starting.__exit__(None, None, None)


@contextlib.contextmanager
def secured_server(opensearch_url: str, users_file: Path, folder: Path, **env: str) -> Iterator[Served]:
    """A server with users and the plugin's backend-role filtering."""
    with server(opensearch_url, folder, FLOWSTATUS_USERS_FILE=str(users_file),
                FLOWSTATUS_FILTER_BY_BACKEND_ROLES="true", **env) as served:
        yield served


def client_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a client run: no credentials but ``extra``, and a HOME of its own (its own ~/.netrc)."""
    env = {name: value for name, value in os.environ.items() if name not in SECRETS}
    return {**env, "HOME": str(home), **extra}


def run(*args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``flowstatus ARGS`` to its end, stdin from ``stdin`` (empty if ``None``).

    In a session of its own, without a controlling terminal: nothing may be
    asked on the terminal of whoever runs the tests.
    """
    return subprocess.run([*FLOWSTATUS, *args], env=env, input=stdin or "", capture_output=True, text=True,
                          timeout=timeout, check=False, start_new_session=True)


def with_password(home: Path, password: str = PASSWORD) -> dict[str, str]:
    """A client environment whose password comes from FLOWSTATUS_PASSWORD."""
    return client_env(home, FLOWSTATUS_PASSWORD=password)


def ndjson(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


def provisioning(wid: str, resources: int = 2, completed: bool = True) -> list[dict[str, Any]]:
    """The events of one workflow's provisioning, with times so that re-deliveries are exact no-ops."""
    events: list[dict[str, Any]] = [{"event": "create", "workflow_id": wid},
                                    {"event": "provision_started", "workflow_id": wid, "time": 1_700_000_000_000}]
    events += [{"event": "resource_created", "workflow_id": wid, "workflow_step_name": "create_index",
                "workflow_step_id": f"create_index_{n}", "resource_id": f"index-{n}"} for n in range(resources)]
    if completed:
        events.append({"event": "provision_completed", "workflow_id": wid, "time": 1_700_000_060_000})
    return events


def stored(opensearch_url: str, index: str, wid: str) -> dict[str, Any] | None:
    """The state document as OpenSearch holds it (``None`` if absent)."""
    client = OpenSearch([opensearch_url], timeout=30)
    try:
        found = client.get(index=index, id=wid, ignore=404)
    finally:
        client.close()
    return found["_source"] if found.get("found") else None


def index_of(served: Served) -> str:
    return served.env["FLOWSTATUS_STATE_INDEX"]


def port_of(served: Served) -> int:
    return int(served.url.rsplit(":", 1)[1])


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, *expected: str) -> str:
    """The command exited ``code`` with a one-line message on stderr holding every ``expected`` text."""
    err = result.stderr.strip()
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for text in expected:
        assert text in err, err
    return err


@contextlib.contextmanager
def watching(wid: str, url: str, user: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``flowstatus watch`` (piped, 2 s polls) once it printed its first line, PROVISIONING; killed if left running."""
    watcher = subprocess.Popen([*FLOWSTATUS, "watch", wid, "--url", url, "--user", user, "--wait", "2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert watcher.stdout is not None and select.select([watcher.stdout], [], [], 60)[0], "watch printed nothing"
        assert "PROVISIONING" in watcher.stdout.readline()
        yield watcher
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
