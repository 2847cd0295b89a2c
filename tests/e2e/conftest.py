"""Fixtures that run the real ``flowstatus`` command as a separate process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path

    def output(self) -> str:
        """Stop the server and return everything it printed."""
        self.process.terminate()
        self.process.wait(timeout=30)
        return self.log.read_text(errors="replace")


def flowstatus_env(opensearch_url: str, index: str) -> dict[str, str]:
    return {**os.environ, "OPENSEARCH_URL": opensearch_url, "FLOWSTATUS_STATE_INDEX": index}


@contextlib.contextmanager
def serving(opensearch_url: str, index: str, log: Path, *options: str,
            env: dict[str, str] | None = None) -> Iterator[Served]:
    """``flowstatus serve --init-index OPTIONS`` (gunicorn) on a free port, with ``env`` added; stopped on exit."""
    port = free_port()
    env = {**flowstatus_env(opensearch_url, index), **(env or {})}
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        # setpriv's parent-death signal stops the server even if pytest itself is killed.
        process = subprocess.Popen(
            ["setpriv", "--pdeathsig", "TERM", "--",
             sys.executable, "-m", "flowstatus", "serve", "--init-index", "--port", str(port), *options],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2)
            except urllib.error.HTTPError:
                break  # answered (400 "no handler"): up
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"flowstatus serve did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        yield Served(url, process, env, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def served(opensearch_url: str, unique_index: str, tmp_path: Path) -> Iterator[Served]:
    """The production server with two workers, for the test; its log is a file, never a pipe."""
    with serving(opensearch_url, unique_index, tmp_path / "serve.log", "--workers", "2") as server:
        yield server
