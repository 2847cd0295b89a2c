"""The reliability suite: a real 3-node OpenSearch cluster, real ``flowstatus serve`` processes.

Nothing is mocked and nothing is skipped: if the cluster cannot start, the
tests fail with the launcher's explanation (also outside CI).  One cluster
serves the whole suite; each test uses its own state index and its own
flowstatus processes, and copes with whichever nodes the previous test left
running (it starts the missing ones itself).  Every process started here is
stopped here, also when a test fails.

Each test records its figures with the ``figures`` fixture: they are printed
(also without ``-s``, in the terminal summary) and written to
``<pytest basetemp>/reliability-figures.json``.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devtools.opensearch import LocalCluster, start_cluster
from devtools.opensearch.util import free_ports, get_json
from flowstatus.composition import Components
from flowstatus.settings import Settings

STATUS_PATH = "/_plugins/_flow_framework/workflow/{}/_status"
BULK_PATH = "/_flowstatus/_bulk"

# -- figures ------------------------------------------------------------------

_FIGURES: dict[str, dict[str, Any]] = {}
_FIGURES_FILE: list[Path] = []


def _format(figures: dict[str, Any]) -> str:
    width = max(len(k) for k in figures)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in figures.items())


@pytest.fixture
def figures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], None]:
    """``figures({...})`` records this test's figures: printed now, in the summary, and in a JSON file."""
    path = tmp_path_factory.getbasetemp() / "reliability-figures.json"

    def record(values: dict[str, Any]) -> None:
        _FIGURES[request.node.name] = values
        if not _FIGURES_FILE:
            _FIGURES_FILE.append(path)
        path.write_text(json.dumps(_FIGURES, indent=2) + "\n")
        print(f"\n{request.node.name}:\n{_format(values)}", flush=True)

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _FIGURES:
        return
    terminalreporter.write_sep("-", "reliability figures")
    for name, values in _FIGURES.items():
        terminalreporter.write_line(f"{name}:")
        terminalreporter.write_line(_format(values))
    terminalreporter.write_line(f"(also in {_FIGURES_FILE[0]})")


# -- the cluster --------------------------------------------------------------


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """A 3-node OpenSearch cluster on 127.0.0.1 for the whole suite, always stopped.

    Started from the main thread, which outlives every node (the nodes die
    with the thread that started them).
    """
    started = time.monotonic()
    local = start_cluster(3)
    try:
        _FIGURES.setdefault("cluster", {})["start_s"] = round(time.monotonic() - started, 1)
        yield local
    finally:
        local.stop()


def running(cluster: LocalCluster) -> list[int]:
    """Indexes of the nodes whose process runs."""
    return [i for i, node in enumerate(cluster.nodes) if node.running]


def ensure_running(cluster: LocalCluster, count: int) -> list[int]:
    """Start stopped nodes until ``count`` run, wait until healthy; return the running indexes."""
    stopped = [i for i in range(len(cluster.nodes)) if not cluster.nodes[i].running]
    missing = stopped[: max(0, count - (len(cluster.nodes) - len(stopped)))]
    for i in missing:
        cluster.start_node(i, wait=False)
    if missing:
        cluster.wait_healthy()
    return running(cluster)


def create_state_index(cluster: LocalCluster, index: str) -> None:
    """Create ``index`` and its step history exactly as ``flowstatus init-index`` does, then wait for both to be green."""
    urls = tuple(cluster.nodes[i].url for i in running(cluster))
    built = Components(Settings(opensearch_hosts=urls, state_index=index, request_timeout=30))
    built.repository.ensure_index()
    built.step_store.ensure_index()
    for name in (index, built.step_store.index):
        wait_index(cluster, name, "green")


def wait_index(cluster: LocalCluster, index: str, status: str, timeout: float = 120) -> dict[str, Any]:
    quoted = urllib.parse.quote(index)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return cluster.get_json(f"/_cluster/health/{quoted}?wait_for_status={status}&timeout=5s")  # type: ignore[no-any-return]
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def cluster_manager(cluster: LocalCluster) -> str:
    """The name of the elected cluster-manager node."""
    for i in running(cluster):
        try:
            return str(get_json(cluster.nodes[i].url + "/_cat/cluster_manager?format=json")[0]["node"])
        except (OSError, ValueError, LookupError):
            continue
    return "unknown"


# -- flowstatus processes -----------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)


def call(method: str, url: str, body: bytes | None = None, *, content_type: str = "application/x-ndjson",
         timeout: float = 60.0) -> Reply:
    """One HTTP request on a new connection; raises OSError/HTTPException if no answer came."""
    parts = urllib.parse.urlsplit(url)
    started = time.monotonic()
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        headers = {"Content-Type": content_type} if body is not None else {}
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data,
                     time.monotonic() - started)
    finally:
        conn.close()


@dataclass
class Flowstatus:
    """One ``flowstatus serve`` process (gunicorn), its output in a log file."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    hosts: Sequence[str]
    env: dict[str, str] = field(repr=False)

    def status(self, workflow_id: str, timeout: float = 60.0) -> Reply:
        return call("GET", self.url + STATUS_PATH.format(workflow_id), timeout=timeout)

    def bulk(self, lines: Sequence[dict[str, Any]], timeout: float = 60.0) -> Reply:
        body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        return call("POST", self.url + BULK_PATH, body, timeout=timeout)

    def ready(self, timeout: float = 60.0) -> Reply:
        return call("GET", self.url + "/_ready", timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_serving(self, timeout: float = 90.0) -> None:
        """Block until ``/_health`` (which never touches OpenSearch) answers 200."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if call("GET", self.url + "/_health", timeout=5).status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"flowstatus serve did not start:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM the process group (gunicorn and its workers), SIGKILL after 20 s. Idempotent."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()


def _clean_environ() -> dict[str, str]:
    """The environment without any OPENSEARCH_* / FLOWSTATUS_* setting of the caller's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("OPENSEARCH_", "FLOWSTATUS_"))}


@pytest.fixture
def flowstatus(tmp_path: Path) -> Iterator[Callable[..., Flowstatus]]:
    """``flowstatus(hosts, index, timeout=2, workers=1, extra_env=None)`` starts ``flowstatus serve``.

    Every process started is stopped after the test.

    The process is started but not waited for; call ``wait_serving()``
    (several can start in parallel).
    """
    started: list[Flowstatus] = []

    def start(hosts: Sequence[str], index: str, *, timeout: float = 2.0, workers: int = 1,
              threads: int = 16, retry_after: int = 2, name: str = "flowstatus",
              extra_env: dict[str, str] | None = None) -> Flowstatus:
        (port,) = free_ports(1)
        env = {
            **_clean_environ(),
            "OPENSEARCH_URL": ",".join(hosts),
            "FLOWSTATUS_STATE_INDEX": index,
            "FLOWSTATUS_REQUEST_TIMEOUT": str(timeout),
            "FLOWSTATUS_RETRY_AFTER": str(retry_after),
            **(extra_env or {}),
        }
        log_path = tmp_path / f"{name}-{port}.log"
        with open(log_path, "wb") as log:
            # setpriv's parent-death signal stops the server even if pytest itself is killed.
            process = subprocess.Popen(
                ["setpriv", "--pdeathsig", "TERM", "--",
                 sys.executable, "-m", "flowstatus", "serve", "--port", str(port), "--workers", str(workers),
                 "--threads", str(threads)],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        server = Flowstatus(f"http://127.0.0.1:{port}", process, log_path, tuple(hosts), env)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def count_log(server: Flowstatus, needle: str) -> int:
    """How many lines of the server's output contain ``needle``."""
    return sum(needle in line for line in server.log().splitlines())


def resource(wid: str, n: int) -> dict[str, Any]:
    """The ``n``-th resource_created event of workflow ``wid``."""
    return {"event": "resource_created", "workflow_id": wid, "workflow_step_name": "create_index",
            "workflow_step_id": f"create_index_{n}", "resource_id": f"{wid}-index-{n}"}


def acknowledged(reply: Any) -> bool:
    """A bulk reply whose every item was applied (2xx)."""
    return reply.status == 200 and all(
        200 <= next(iter(item.values()))["status"] < 300 for item in reply.json()["items"])
