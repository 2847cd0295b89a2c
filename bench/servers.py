"""Which WSGI server serves status reads at the least CPU: ``make bench``'s "servers" section.

The same flowstatus app, the same reads (random ids of 1,000 workflows, 64
connections), under each candidate in turn, in interleaved passes:

* ``flowstatus serve`` as it ships: gunicorn with gevent workers;
* ``flowstatus serve --worker-class gthread``: gunicorn with 16 threads per worker;
* uWSGI with gevent, and uWSGI with 16 threads, when uWSGI is installed
  (``pip install uwsgi``);
* granian (a Rust HTTP server) with 16 blocking threads per process
  (installed with ``make install``'s ``bench`` extra);
* granian's ASGI interface, the app on a pool of 16 threads (``bench/asgi_app.py``,
  a2wsgi): what an event-loop front that held long polls itself would cost
  every other request.

A row whose server is not installed says so.

Each with 2 worker processes.  The figures: reads per second, p50 and p99,
and CPU µs per read of the server's processes and of OpenSearch (when it is
a local process).  A thread-per-request server also holds a thread for each
long poll waiting, which the long-poll row of the report measures for the
default server only: that is what rules out the faster thread-per-request
servers as ``flowstatus serve``'s default (docs/benchmarks.md).
"""

from __future__ import annotations

import secrets
import shutil
import sys
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bench import wrk
from bench.procfs import listening_pid, total_cpu_seconds
from bench.rawhttp import OpenSearchHttp
from bench.report import Section
from bench.seed import read_docs, seed
from bench.server import FlowstatusServer
from bench.state_index import drop, init_index

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = 1000
CONNECTIONS = 64
PASSES = 2
PASS_SECONDS = 5.0
READ_PATH = "/_plugins/_flow_framework/workflow/%s/_status"


class UwsgiServer(FlowstatusServer):
    """The flowstatus app (``bench/wsgi_app.py``) under uWSGI, 2 processes, gevent or threads."""

    def __init__(self, uwsgi: str, opensearch_url: str, index: str, concurrency: list[str]) -> None:
        super().__init__(opensearch_url, index)
        self.cmd = ["setpriv", "--pdeathsig", "TERM", "--", uwsgi, "--http-socket", f"127.0.0.1:{self.port}",
                    "--master", "--processes", "2", "--disable-logging", "--need-app", "--die-on-term",
                    "--pythonpath", str(ROOT), "--module", "bench.wsgi_app:app", *concurrency]


class GranianServer(FlowstatusServer):
    """The flowstatus app (``bench/wsgi_app.py``) under granian's WSGI interface, 2 processes."""

    def __init__(self, granian: str, opensearch_url: str, index: str) -> None:
        super().__init__(opensearch_url, index)
        self.cmd = ["setpriv", "--pdeathsig", "TERM", "--", granian, "--interface", "wsgi", "--host", "127.0.0.1",
                    "--port", str(self.port), "--workers", "2", "--blocking-threads", "16", "--no-ws",
                    "--log-level", "warning", "--working-dir", str(ROOT), "bench.wsgi_app:app"]


class GranianAsgiServer(FlowstatusServer):
    """The flowstatus app on a 16-thread pool behind granian's ASGI interface (``bench/asgi_app.py``)."""

    def __init__(self, granian: str, opensearch_url: str, index: str) -> None:
        super().__init__(opensearch_url, index)
        self.cmd = ["setpriv", "--pdeathsig", "TERM", "--", granian, "--interface", "asgi", "--host", "127.0.0.1",
                    "--port", str(self.port), "--workers", "2", "--no-ws", "--log-level", "warning",
                    "--working-dir", str(ROOT), "bench.asgi_app:app"]


def _installed(program: str) -> str | None:
    return shutil.which(program, path=str(Path(sys.executable).parent)) or shutil.which(program)


def candidates(url: str, index: str) -> list[tuple[str, str, Callable[[], FlowstatusServer] | None]]:
    """Each server to try, the package it comes from, and how to build it (``None``: not installed here)."""
    uwsgi, granian = _installed("uwsgi"), _installed("granian")
    return [
        ("gunicorn, gevent workers (flowstatus serve's default)", "gunicorn", lambda: FlowstatusServer(url, index)),
        ("gunicorn, gthread workers of 16 threads", "gunicorn", lambda: FlowstatusServer(
            url, index, ["--worker-class", "gthread", "--threads", "16"])),
        ("uWSGI, gevent (1,000 greenlets per process)", "uwsgi", None if uwsgi is None else lambda: UwsgiServer(
            uwsgi, url, index, ["--gevent", "1000", "--gevent-monkey-patch"])),
        ("uWSGI, 16 threads per process", "uwsgi", None if uwsgi is None else lambda: UwsgiServer(
            uwsgi, url, index, ["--threads", "16"])),
        ("granian, 16 blocking threads per process", "granian", None if granian is None else lambda: GranianServer(
            granian, url, index)),
        ("granian ASGI, the app on 16 threads (a2wsgi)", "a2wsgi",
         None if granian is None or find_spec("a2wsgi") is None else lambda: GranianAsgiServer(granian, url, index)),
    ]


def _pass(tool: str, server: FlowstatusServer, os_pid: int | None) -> dict[str, float | None]:
    pids = server.pids()
    before, os_before = total_cpu_seconds(pids), total_cpu_seconds([os_pid] if os_pid else [])
    result = wrk.run(tool, server.url, str(wrk.LUA_DIR / "read.lua"), [READ_PATH, str(WORKFLOWS)],
                     connections=CONNECTIONS, duration=PASS_SECONDS)
    used, os_used = total_cpu_seconds(pids) - before, total_cpu_seconds([os_pid] if os_pid else []) - os_before
    return {"requests": result.requests, "seconds": result.duration_s, "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms, "server_cpu_s": used, "opensearch_cpu_s": os_used if os_pid else None}


def measure(url: str, say: Callable[[str], None]) -> list[dict[str, Any]]:
    """One row per candidate: its passes summed, or ``installed: False``."""
    tool = wrk.ensure_wrk()
    client = OpenSearchHttp(url)
    index = f".flowstatus-bench-servers-{secrets.token_hex(4)}"
    os_pid = listening_pid(int(url.rsplit(":", 1)[1].split("/")[0]))
    init_index(url, index)
    rows: dict[str, dict[str, Any]] = {}
    try:
        seed(client, index, read_docs(0, WORKFLOWS))
        client.request("POST", f"/{index}/_refresh")
        built = candidates(url, index)
        for name, package, build in built:
            rows[name] = {"server": name, "package": package, "installed": build is not None, "passes": []}
        for number in range(PASSES):
            order = built if number % 2 == 0 else built[::-1]
            for name, _, build in order:
                if build is None:
                    continue
                say(f"servers: {name}, pass {number + 1}/{PASSES}")
                with build() as server:
                    wrk.run(tool, server.url, str(wrk.LUA_DIR / "read.lua"), [READ_PATH, str(WORKFLOWS)],
                            connections=CONNECTIONS, duration=1)  # warm-up
                    rows[name]["passes"].append(_pass(tool, server, os_pid))
    finally:
        drop(client, index)
        client.close()
    return [summarize(row) for row in rows.values()]


def summarize(row: dict[str, Any]) -> dict[str, Any]:
    """Rates and CPU per read over all passes of a row (p50 and p99: the worst pass's)."""
    passes = row["passes"]
    if not passes:
        return row
    requests = sum(p["requests"] for p in passes)
    return {**row, "rps": requests / sum(p["seconds"] for p in passes),
            "p50_ms": max(p["p50_ms"] for p in passes), "p99_ms": max(p["p99_ms"] for p in passes),
            "server_cpu_us": 1e6 * sum(p["server_cpu_s"] for p in passes) / requests,
            "opensearch_cpu_us": None if passes[0]["opensearch_cpu_s"] is None
            else 1e6 * sum(p["opensearch_cpu_s"] for p in passes) / requests}


def markdown(rows: list[dict[str, Any]]) -> str:
    out = ["| server (2 processes) | reads /s | p50 ms | p99 ms | server CPU µs per read | OpenSearch CPU µs per read |",
           "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        if not row["installed"]:
            out.append(f"| {row['server']} | not installed (pip install {row['package']}) | | | | |")
            continue
        cpu = row["opensearch_cpu_us"]
        out.append(f"| {row['server']} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} "
                   f"| {row['server_cpu_us']:,.0f} | {'n/a' if cpu is None else f'{cpu:,.0f}'} |")
    return "\n".join(out)


def bench_section(opensearch_url: str, say: Callable[[str], None]) -> Section:
    """``make bench``'s section: status reads under each WSGI server."""
    rows = measure(opensearch_url, say)
    return Section("servers", f"WSGI servers: status reads, N = {WORKFLOWS:,}, c = {CONNECTIONS}",
                   markdown(rows), rows)
