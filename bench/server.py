"""flowstatus as ``flowstatus serve`` runs it by default (plus any extra options), as a subprocess.

:class:`FlowstatusServer` runs ``flowstatus serve --port <free port>`` (plus
any extra options) with ``OPENSEARCH_URL`` and ``FLOWSTATUS_STATE_INDEX`` in
its environment, waits until ``/_ready`` answers 200, and stops it with
SIGTERM (SIGKILL after a grace period).  :meth:`processes` lists the
server's main process ("master") and its workers (its child processes) with
their resident memory (VmRSS, from /proc).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.procfs import children, rss_kib


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ProcessMemory:
    role: str  # "master" or "worker"
    pid: int
    rss_mib: float


def flowstatus_command() -> list[str]:
    script = Path(sys.executable).with_name("flowstatus")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flowstatus"]


class FlowstatusServer:
    def __init__(self, opensearch_url: str, index: str, extra_args: Sequence[str] = (),
                 env: dict[str, str] | None = None, log_path: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # setpriv's parent-death signal stops the server even if the bench itself is killed.
        self.cmd = ["setpriv", "--pdeathsig", "TERM", "--", *flowstatus_command(), "serve", "--port", str(self.port),
                    *extra_args]
        self.env = {**os.environ, **(env or {}), "OPENSEARCH_URL": opensearch_url, "FLOWSTATUS_STATE_INDEX": index}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> FlowstatusServer:
        with open(self.log_path or os.devnull, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"flowstatus serve exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/_ready", timeout=2) as resp:
                    if resp.status == 200 and len(self.workers()) >= 1:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"flowstatus did not get ready in {timeout:.0f} s; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def workers(self) -> list[int]:
        return children(self.pid) if self.proc is not None else []

    def pids(self) -> list[int]:
        """The master and its current workers."""
        return [self.pid, *self.workers()] if self.proc is not None else []

    def processes(self) -> list[ProcessMemory]:
        """The master and each worker with its RSS in MiB (workers that vanished are left out)."""
        out = []
        for role, pid in [("master", self.pid)] + [("worker", p) for p in self.workers()]:
            kib = rss_kib(pid)
            if kib is not None:
                out.append(ProcessMemory(role, pid, kib / 1024))
        return out

    def stop(self, grace: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            for pid in self.workers():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> FlowstatusServer:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
