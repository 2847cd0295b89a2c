"""``make bench``: what flowstatus adds on top of OpenSearch, measured with wrk.

    python bench/run.py [--sizes 1000,100000] [--concurrency 1,8,64] [--duration 10] ...

1. OpenSearch: ``OPENSEARCH_URL`` when set, else a node of
   :func:`devtools.opensearch.start_node` for the run.
2. One fresh hidden state index per size, ``.flowstatus-bench-<random>-<N>``,
   created by ``flowstatus init-index`` (``FLOWSTATUS_STATE_INDEX``) and
   seeded with raw ``_bulk`` in the plugin's stored format (bench/seed.py);
   the largest also holds the write targets.  All are deleted at the end.
3. One ``flowstatus serve`` (gunicorn, production defaults) per index, as a
   subprocess with ``OPENSEARCH_URL`` and ``FLOWSTATUS_STATE_INDEX``.
4. wrk loads.  Each row pairs a raw OpenSearch load with the flowstatus load
   doing the same work; at each concurrency all loads of all sizes run in
   ``--rounds`` interleaved passes, so raw and flowstatus, small and large
   index, see the same machine load.  CPU time per request of the flowstatus
   processes and of the OpenSearch process (when it is local) is read from
   /proc around each pass.
5. A Markdown report on stdout (progress goes to stderr) and the same figures
   as JSON in bench/results/<UTC timestamp>.json.

Every process started here is stopped here, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench import longpoll, procfs, wrk
from bench.environment import machine_info, server_settings, versions
from bench.progress import Progress
from bench.rawhttp import OpenSearchHttp, basic_auth_header
from bench.report import Measurement, Pass, Row, combine, markdown_report, results_document
from bench.seed import seed, write_doc
from bench.server import FlowstatusServer, flowstatus_command

RESULTS_DIR = ROOT / "bench" / "results"
STATUS_PATH = "/_plugins/_flow_framework/workflow/%s/_status"
WRITE_RAW, WRITE_FS = "bench-w-raw-", "bench-w-fs-"
HOT_RAW, HOT_FS = "bench-hot-raw-", "bench-hot-fs-"
SETTLE_S = 0.3


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=_ints, default=[1000, 100_000], help="workflows seeded, ascending (default 1000,100000)")
    p.add_argument("--concurrency", type=_ints, default=[1, 8, 64], help="wrk connections of the read rows")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured row")
    p.add_argument("--rounds", type=int, default=2,
                   help="passes per row, interleaved round-robin with the row's siblings (each duration/rounds s)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of unrecorded load before each size's reads")
    p.add_argument("--batch", type=int, default=100, help="events per bulk request")
    p.add_argument("--write-concurrency", type=int, default=8, help="wrk connections of the bulk-events row")
    p.add_argument("--write-workflows", type=int, default=10_000, help="PROVISIONING workflows the bulk rows append to")
    p.add_argument("--hot-writers", type=int, default=16, help="wrk connections of the hot-workflow row")
    p.add_argument("--only", choices=("all", "reads", "writes", "longpoll"), default="all")
    p.add_argument("--long-pollers", type=int, default=300, help="concurrent long polls of the long-poll row")
    p.add_argument("--serve-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for `flowstatus serve` (repeatable), e.g. --serve-arg=--threads=8")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for the flowstatus server (repeatable), e.g. FLOWSTATUS_POOL_SIZE=64")
    p.add_argument("--keep-index", action="store_true", help="do not delete the bench index at the end")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = p.parse_args(argv)
    if args.sizes != sorted(args.sizes):
        p.error("--sizes must be ascending")
    if args.duration / max(1, args.rounds) < 1 or args.warmup < 1:
        p.error("wrk runs whole seconds: --duration / --rounds and --warmup must be at least 1")
    return args


@contextlib.contextmanager
def opensearch(progress: Progress) -> Iterator[tuple[str, int | None, str]]:
    """Yield (url, pid of the local node or None, description)."""
    url = os.environ.get("OPENSEARCH_URL")
    if url:
        first = url.split(",")[0].strip()
        port = urlsplit(first).port
        host = urlsplit(first).hostname
        pid = procfs.listening_pid(port) if port and host in ("127.0.0.1", "localhost", "::1") else None
        progress.say(f"OpenSearch from OPENSEARCH_URL: {first}" + (f" (local pid {pid})" if pid else ""))
        yield first, pid, "OPENSEARCH_URL"
        return
    from devtools.opensearch import start_node

    progress.say("starting a local OpenSearch node (devtools.opensearch)")
    node = start_node()
    try:
        yield node.url, node.pid, "devtools.opensearch"
    finally:
        node.stop()


@dataclass
class Stage:
    """One state index with ``size`` read workflows and the flowstatus server that serves it."""

    size: int
    index: str
    server: FlowstatusServer


@dataclass
class Context:
    args: argparse.Namespace
    wrk: str
    os_url: str
    os_pid: int | None
    client: OpenSearchHttp
    stages: list[Stage]
    progress: Progress
    raw_headers: list[str]
    tag: str

    def cpu_pids(self) -> dict[str, list[int]]:
        """Process groups whose CPU time is read around each pass (idle servers add ~0)."""
        groups = {"flowstatus": [pid for st in self.stages for pid in st.server.pids()]}
        if self.os_pid:
            groups["opensearch"] = [self.os_pid]
        return groups


@dataclass(frozen=True)
class Load:
    """One load to measure: a wrk script against raw OpenSearch or flowstatus."""

    key: str
    label: str
    url: str
    script: str
    script_args: tuple[str, ...]
    connections: int
    expected: str = "200"
    per_request: int = 1
    raw: bool = False


def run_pass(ctx: Context, load: Load, duration: float, label: str, number: int) -> Pass:
    """One wrk pass of ``load``, with the CPU time of each process group around it.

    ``{pass}`` in the script arguments becomes ``number`` (resource ids must differ between
    passes, or flowstatus rightly answers the repeats as no-ops).
    """
    groups = ctx.cpu_pids()
    script_args = [a.replace("{pass}", str(number)) for a in load.script_args]
    before = {name: procfs.total_cpu_seconds(pids) for name, pids in groups.items()}
    label = f"{ctx.progress.stamp()} {label}"
    print(label, file=sys.stderr, flush=True)
    r = wrk.run(ctx.wrk, load.url, load.script, script_args, connections=load.connections, duration=duration,
                headers=ctx.raw_headers if load.raw else (), label=label)
    time.sleep(SETTLE_S)  # let requests still in flight finish inside this pass's CPU window
    after = {name: procfs.total_cpu_seconds(pids) for name, pids in groups.items()}
    return Pass(r.requests, r.duration_s, r.p50_ms, r.p99_ms, r.statuses, r.socket_errors, r.bulk_errors,
                r.updated, r.noops, {name: after[name] - before[name] for name in groups}, r.error_sample)


def measure_all(ctx: Context, loads: Sequence[Load]) -> dict[str, Measurement]:
    """Measure ``loads`` interleaved: ``--rounds`` passes each, of duration/rounds seconds.

    Every other round runs the loads in reverse order, so that no load is always
    the first (or the last) after a change of target.
    """
    rounds = max(1, ctx.args.rounds)
    passes: dict[str, list[Pass]] = {load.key: [] for load in loads}
    labels = {load.key: ctx.progress.row_label(load.label) for load in loads}
    for r in range(rounds):
        for load in (loads if r % 2 == 0 else loads[::-1]):
            label = labels[load.key] + (f" (pass {r + 1}/{rounds})" if rounds > 1 else "")
            passes[load.key].append(run_pass(ctx, load, ctx.args.duration / rounds, label, r))
    out = {}
    for load in loads:
        m = combine(passes[load.key], expected=load.expected, per_request=load.per_request)
        cpu = ", ".join(f"{k} {v:,.0f} µs" for k, v in m.cpu_us.items())
        warn = f"  ({m.errors} errors: {m.extra['statuses']} {m.extra['socket_errors']})" if m.errors else ""
        print(f"{ctx.progress.stamp()}   {load.label}: {m.rate:,.0f}/s  p50 {m.p50_ms:.2f} ms  p99 {m.p99_ms:.2f} ms"
              f"  cpu/op: {cpu}{warn}", file=sys.stderr, flush=True)
        out[load.key] = m
    return out


def read_rows(ctx: Context) -> list[Row]:
    """Every read row; at each concurrency the loads of all sizes are interleaved, so that
    the sizes are compared under the same machine load."""
    for st in ctx.stages:
        for url, template, raw in ((ctx.os_url, f"/{st.index}/_doc/%s", True), (st.server.url, STATUS_PATH, False)):
            wrk.run(ctx.wrk, url, "read.lua", [template, str(st.size)], connections=8, duration=ctx.args.warmup,
                    headers=ctx.raw_headers if raw else ())
    rows = []
    for c in ctx.args.concurrency:
        loads = []
        for st in ctx.stages:
            tag, n, fs, raw_get = f"N={st.size:,} c={c}", str(st.size), st.server.url, f"/{st.index}/_doc/%s"
            loads += [
                Load(f"{n}/raw", f"{tag} raw GET _doc", ctx.os_url, "read.lua", (raw_get, n), c, raw=True),
                Load(f"{n}/status", f"{tag} flowstatus _status", fs, "read.lua", (STATUS_PATH, n), c),
                Load(f"{n}/all", f"{tag} flowstatus _status?all=true", fs, "read.lua", (STATUS_PATH + "?all=true", n), c),
                Load(f"{n}/raw_missing", f"{tag} raw GET missing id", ctx.os_url, "read.lua", (raw_get, n, "missing"), c,
                     expected="404", raw=True),
                Load(f"{n}/missing", f"{tag} flowstatus missing id", fs, "read.lua", (STATUS_PATH, n, "missing"), c,
                     expected="404"),
            ]
        m = measure_all(ctx, loads)
        for st in ctx.stages:
            n = str(st.size)
            rows += [
                Row("read", "status", st.size, c, "req/s", m[f"{n}/raw"], m[f"{n}/status"]),
                Row("read", "status?all=true", st.size, c, "req/s", m[f"{n}/raw"], m[f"{n}/all"]),
                Row("read", "missing id", st.size, c, "req/s", m[f"{n}/raw_missing"], m[f"{n}/missing"]),
            ]
    return sorted(rows, key=lambda r: (r.size or 0, r.concurrency))


def _resources_in(ctx: Context, index: str, wid: str) -> int | None:
    status, body = ctx.client.request("GET", f"/{index}/_doc/{wid}")
    if status != 200 or not isinstance(body, dict):
        return None
    return len(body.get("_source", {}).get("resources_created") or [])


def write_rows(ctx: Context, st: Stage) -> list[Row]:
    """The write rows, against the index of stage ``st`` (which holds the write targets)."""
    a, w, b = ctx.args, str(ctx.args.write_workflows), str(ctx.args.batch)
    c, h = a.write_concurrency, a.hot_writers
    m = measure_all(ctx, [
        Load("raw", f"c={c} raw _bulk update x{b}", ctx.os_url, "writes.lua",
             ("raw", WRITE_RAW, w, b, st.index, f"{ctx.tag}p{{pass}}"), c, per_request=a.batch, raw=True),
        Load("fs", f"c={c} flowstatus _bulk events x{b}", st.server.url, "writes.lua",
             ("events", WRITE_FS, w, b, st.index, f"{ctx.tag}p{{pass}}"), c, per_request=a.batch),
    ])
    rows = [Row("write", "bulk events", None, c, "events/s", m["raw"], m["fs"])]
    m = measure_all(ctx, [
        Load("raw", f"c={h} raw _bulk update, one hot workflow", ctx.os_url, "writes.lua",
             ("raw", HOT_RAW, "1", "1", st.index, f"{ctx.tag}p{{pass}}"), h, raw=True),
        Load("fs", f"c={h} flowstatus events, one hot workflow", st.server.url, "writes.lua",
             ("events", HOT_FS, "1", "1", st.index, f"{ctx.tag}p{{pass}}"), h),
    ])
    # After the load: how many appends the hot documents really hold (raw
    # writers overwrite each other's lists; flowstatus must lose none).
    m["raw"].extra["resources_in_doc"] = _resources_in(ctx, st.index, f"{HOT_RAW}00000")
    m["fs"].extra["resources_in_doc"] = _resources_in(ctx, st.index, f"{HOT_FS}00000")
    rows.append(Row("write", "hot workflow", None, h, "events/s", m["raw"], m["fs"]))
    return rows


def _write_targets(args: argparse.Namespace) -> list[tuple[str, dict[str, Any]]]:
    ids = [f"{p}{i:05d}" for p in (WRITE_RAW, WRITE_FS) for i in range(args.write_workflows)]
    ids += [f"{HOT_RAW}00000", f"{HOT_FS}00000"]
    return [(wid, write_doc(wid)) for wid in ids]


def seed_stage(ctx: Context, st: Stage, extra: list[tuple[str, dict[str, Any]]]) -> None:
    """Seed ``st.index`` with its read workflows and ``extra`` docs, refresh off meanwhile."""
    began = time.monotonic()
    ctx.client.request("PUT", f"/{st.index}/_settings", {"index": {"refresh_interval": "-1"}})

    def tick(done: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{ctx.progress.stamp()} seeding {st.index}: {done:,}/{st.size:,}")
            sys.stderr.flush()

    seed(ctx.client, st.index, 0, st.size, extra=extra, on_progress=tick)
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    ctx.client.request("PUT", f"/{st.index}/_settings", {"index": {"refresh_interval": None}})
    ctx.client.request("POST", f"/{st.index}/_refresh")
    _, count = ctx.client.request("GET", f"/{st.index}/_count")
    ctx.progress.say(f"seeded {st.index}: {st.size:,} workflows + {len(extra):,} write targets in "
                     f"{time.monotonic() - began:.1f} s; {count.get('count', '?'):,} docs")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    reads = args.only in ("all", "reads")
    writes = args.only in ("all", "writes")
    polls = args.only in ("all", "longpoll")
    n_rows = (5 * len(args.concurrency) * len(args.sizes) if reads else 0) + (4 if writes else 0)
    progress = Progress(n_rows)
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    wrk_path = wrk.ensure_wrk()
    rows: list[Row] = []
    long_polls: dict[str, Any] | None = None
    processes: list[dict[str, Any]] = []
    base = f".flowstatus-bench-{secrets.token_hex(4)}"
    server_env = dict(kv.split("=", 1) for kv in args.server_env)
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    with opensearch(progress) as (os_url, os_pid, os_source):
        client = OpenSearchHttp(os_url)
        stages = [
            Stage(size, f"{base}-{size}", FlowstatusServer(os_url, f"{base}-{size}", args.serve_arg, env=server_env,
                                                           log_path=logs / f"{base[1:]}-{size}.log"))
            for size in (args.sizes if reads else [0])
        ]
        auth = basic_auth_header()
        ctx = Context(args, wrk_path, os_url, os_pid, client, stages, progress,
                      [f"Authorization: {auth}"] if auth else [], secrets.token_hex(3))
        created: list[str] = []
        try:
            for st in stages:
                env = {**os.environ, "OPENSEARCH_URL": os_url, "FLOWSTATUS_STATE_INDEX": st.index}
                subprocess.run([*flowstatus_command(), "init-index"], env=env, check=True, stdout=subprocess.DEVNULL)
                created.append(st.index)
                progress.say(f"created {st.index} with `flowstatus init-index`")
                seed_stage(ctx, st, _write_targets(args) if writes and st is stages[-1] else [])
            for st in stages:
                st.server.start()
                progress.say(f"flowstatus for {st.index} on {st.server.url} (master {st.server.pid}, "
                             f"workers {st.server.workers()}), log {st.server.log_path}")
            if reads:
                rows += read_rows(ctx)
            if writes:
                rows += write_rows(ctx, stages[-1])
            if polls:
                long_polls = longpoll.long_poll_row(client, stages[-1].index, stages[-1].server,
                                                    waiters=args.long_pollers, say=progress.say)
            processes = [{**vars(p), "size": st.size} for st in stages for p in st.server.processes()]
            run_versions = versions(client, wrk_path)
        finally:
            for st in stages:
                st.server.stop()
            if not args.keep_index:
                for index in created:
                    client.request("DELETE", f"/{index}")
                    progress.say(f"deleted {index}")
            client.close()
    finished = dt.datetime.now(dt.UTC)
    machine = {**machine_info(), "load_average_start": load_before, "load_average_end": os.getloadavg()}
    settings = {
        "sizes": args.sizes, "concurrency": args.concurrency, "duration_s": args.duration, "rounds": args.rounds,
        "warmup_s": args.warmup,
        "batch": args.batch, "write_concurrency": args.write_concurrency, "write_workflows": args.write_workflows,
        "hot_writers": args.hot_writers, "only": args.only, "opensearch": os_source,
        "indices": [st.index for st in stages],
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "opensearch_heap": os.environ.get("FLOWSTATUS_OPENSEARCH_HEAP") if os_source != "OPENSEARCH_URL" else None,
        "wrk_threads_max": os.cpu_count(),
        **server_settings(args),
    }
    doc = results_document(rows, processes, machine=machine, versions=run_versions, settings=settings,
                           started=started.isoformat(timespec="seconds"), finished=finished.isoformat(timespec="seconds"))
    if long_polls is not None:
        doc["long_polls"] = long_polls
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    header = (
        f"flowstatus {run_versions['flowstatus']} ({run_versions['git']}) vs OpenSearch {run_versions['opensearch']}"
        f" ({os_source}); Python {run_versions['python']}, {machine['cpu_count']} CPUs, load average "
        f"{load_before[0]:.1f} -> {machine['load_average_end'][0]:.1f}; {args.duration:g} s per row in "
        f"{args.rounds} interleaved passes; "
        f"ratios are flowstatus / raw; CPU is µs per request (per event for writes).\n"
    )
    print(markdown_report(rows, processes, header))
    if long_polls is not None:
        print("\n" + longpoll.markdown(long_polls))
    progress.say(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
