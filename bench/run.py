"""``make bench``: flowstatus against raw OpenSearch and the Flow Framework plugin's own ``_status``, with wrk.

    python bench/run.py [--sizes 1000,100000] [--concurrency 1,8,64] [--duration 10] [--rounds 2] ...

1. OpenSearch: ``OPENSEARCH_URL`` when set (the plugin's columns are n/a if
   ``_cat/plugins`` does not list it), else a node with the Flow Framework
   plugin from :func:`devtools.opensearch.start_node`, for the run.
2. The plugin's state index ``.plugins-flow-framework-state``, created by
   ``flowstatus init-index`` if absent, seeded with raw ``_bulk`` in the
   plugin's stored format (bench/seed.py).  Sizes are measured one after the
   other: the reads at the first N, then the index grows to the next N.
3. One ``flowstatus serve`` with its defaults (plus ``--serve-arg``,
   ``--server-env``) on that index, as a subprocess.
4. wrk loads.  At each size and concurrency, every read load (raw
   ``GET _doc``, the plugin's ``_status`` and ``?all=true``, flowstatus's,
   missing ids on all three) runs in ``--rounds`` interleaved passes, so all
   see the same machine load; then the write rows and the long-poll row on
   the same index, then any optional section (a bench module providing
   ``bench_section``, e.g. bench/steps.py).  CPU time of the flowstatus
   processes and of the OpenSearch process (when it is local) is read from
   /proc around each pass.
5. A Markdown report on stdout (progress goes to stderr) and every figure as
   JSON in bench/results/<UTC timestamp>.json.

Every process started here is stopped here, and the bench's documents (or
the index, if the bench created it) are deleted, whatever happens.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import secrets
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench import longpoll, reads, writes, wrk
from bench.environment import machine_info, server_settings, versions
from bench.figures import Row
from bench.loads import Context, idle_cpu, settle
from bench.node import flow_framework_version, opensearch
from bench.progress import Progress
from bench.rawhttp import OpenSearchHttp, basic_auth_header
from bench.report import Section, markdown_report, report_header, results_document, size_note
from bench.seed import user_for
from bench.server import FlowstatusServer
from bench.state_index import STATE_INDEX, StateIndex

RESULTS_DIR = ROOT / "bench" / "results"
IDLE_S = 5.0  # seconds of no load before each size's reads, to read the processes' background CPU
# Optional sections: bench/<name>.py with ``bench_section(opensearch_url, say) -> bench.report.Section``.
SECTION_MODULES = ("steps", "servers")
PARTS = ("reads", "writes", "longpoll")


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=_ints, default=[1000, 100_000],
                   help="workflows in the index, ascending, measured one after the other (default 1000,100000)")
    p.add_argument("--concurrency", type=_ints, default=[1, 8, 64], help="wrk connections of the read rows")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per load")
    p.add_argument("--rounds", type=int, default=2,
                   help="passes per load, interleaved round-robin with its siblings (each duration/rounds s)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of unrecorded load per read path before each size")
    p.add_argument("--batch", type=int, default=100, help="events per bulk request")
    p.add_argument("--write-concurrency", type=int, default=8, help="wrk connections of the bulk-events row")
    p.add_argument("--write-workflows", type=int, default=10_000, help="PROVISIONING workflows the bulk rows append to")
    p.add_argument("--hot-writers", type=int, default=16, help="wrk connections of the hot-workflow row")
    p.add_argument("--only", choices=("all", *PARTS, *SECTION_MODULES), default="all")
    p.add_argument("--long-pollers", type=int, default=300, help="concurrent long polls of the long-poll row")
    p.add_argument("--serve-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for `flowstatus serve` (repeatable), e.g. --serve-arg=--workers=3")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for the flowstatus server (repeatable), e.g. FLOWSTATUS_POOL_SIZE=64")
    p.add_argument("--keep-index", action="store_true", help="leave the bench's documents (or index) in place")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = p.parse_args(argv)
    if args.sizes != sorted(args.sizes) or len(set(args.sizes)) != len(args.sizes):
        p.error("--sizes must be ascending")
    if args.duration / max(1, args.rounds) < 1 or args.warmup < 1:
        p.error("wrk runs whole seconds: --duration / --rounds and --warmup must be at least 1")
    if any("=" not in kv for kv in args.server_env):
        p.error("--server-env takes KEY=VALUE")
    return args


def optional_sections(only: str, url: str, say: Callable[[str], None]) -> list[Section]:
    """The sections of :data:`SECTION_MODULES` whose module exists and provides ``bench_section``."""
    out = []
    for name in SECTION_MODULES:
        if only not in ("all", name):
            continue
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            continue
        section = getattr(module, "bench_section", None)
        if section is not None:
            say(f"section {name}")
            out.append(section(url, say))
    if only in SECTION_MODULES and not out:
        say(f"no section {only}: bench/{only}.py is missing or provides no bench_section")
    return out


def _heap(client: OpenSearchHttp) -> str | None:
    _, body = client.request("GET", "/_nodes/_local/jvm?filter_path=nodes.*.jvm.mem.heap_max_in_bytes")
    try:
        (node,) = body["nodes"].values()
        return f"{node['jvm']['mem']['heap_max_in_bytes'] / 2**30:.1f} GiB"
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def measure(ctx: Context, state: StateIndex, run_reads: bool, run_writes: bool,
            run_polls: bool) -> tuple[list[Row], dict[int, dict[str, Any]], dict[str, Any] | None]:
    """The rows asked for, in order: the reads of each size (the index grown to it first), the writes, the
    long polls; with, for each size, its document count and background CPU."""
    rows: list[Row] = []
    sizes: dict[int, dict[str, Any]] = {}
    for size in ctx.args.sizes if run_reads else []:
        state.grow(size)
        settled = settle(ctx)
        sizes[size] = {"documents": state.count(), "settled_s": settled, "idle_cpu_ms_per_s": idle_cpu(ctx, IDLE_S)}
        rows += reads.read_rows(ctx, size)
    if run_writes:
        state.add(writes.write_targets(ctx.args, state.user), "write targets")
        rows += writes.write_rows(ctx)
    long_polls = None
    if run_polls:
        docs = longpoll.workflows(100, state.user)
        state.add(docs, "long-poll workflows")
        long_polls = longpoll.long_poll_row(ctx.server, [wid for wid, _ in docs], waiters=ctx.args.long_pollers,
                                            say=ctx.progress.say)
    return rows, sizes, long_polls


def run_settings(args: argparse.Namespace, source: str, created: bool) -> dict[str, Any]:
    """How the run was made, for the JSON document and the report's header."""
    return {
        "sizes": args.sizes, "concurrency": args.concurrency, "duration_s": args.duration, "rounds": args.rounds,
        "warmup_s": args.warmup, "idle_s": IDLE_S,
        "batch": args.batch, "write_concurrency": args.write_concurrency, "write_workflows": args.write_workflows,
        "hot_writers": args.hot_writers, "long_pollers": args.long_pollers, "only": args.only,
        "opensearch": source, "index": STATE_INDEX, "index_created_by_bench": created,
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "wrk_threads_max": os.cpu_count(),
        **server_settings(args),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    run_reads, run_writes, run_polls = (args.only in ("all", part) for part in PARTS)
    progress = Progress(0)
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    wrk_path = wrk.ensure_wrk()
    rows: list[Row] = []
    long_polls: dict[str, Any] | None = None
    sizes: dict[int, dict[str, Any]] = {}
    sections: list[Section] = []
    processes: list[dict[str, Any]] = []
    server_env = dict(kv.split("=", 1) for kv in args.server_env)
    tag = secrets.token_hex(3)
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"flowstatus-bench-{tag}.log"
    with opensearch(progress) as node:
        client = OpenSearchHttp(node.url)
        server = FlowstatusServer(node.url, STATE_INDEX, args.serve_arg, env=server_env, log_path=log)
        state: StateIndex | None = None
        try:
            plugin = flow_framework_version(client)
            run_versions = versions(client, wrk_path, plugin, server_settings(args)["serve_defaults"]["summary"])
            progress.say(f"OpenSearch {run_versions['opensearch']}, Flow Framework plugin: {plugin or 'not installed'}")
            state = StateIndex(client, STATE_INDEX, user_for(run_versions["opensearch"]), progress.say)
            state.ensure(node.url)
            server.start()
            progress.say(f"flowstatus on {server.url} (master {server.pid}, workers {server.workers()}), log {log}")
            auth = basic_auth_header()
            ctx = Context(args, wrk_path, node.url, node.pid, client, STATE_INDEX, server, progress,
                          [f"Authorization: {auth}"] if auth else [], tag, plugin)
            progress.total = ((reads.loads_per_size(ctx) * len(args.sizes) if run_reads else 0)
                              + (writes.LOADS if run_writes else 0))
            rows, sizes, long_polls = measure(ctx, state, run_reads, run_writes, run_polls)
            processes = [vars(p) for p in server.processes()]
            sections = optional_sections(args.only, node.url, progress.say)
            run_versions["opensearch_heap"] = _heap(client)
        finally:
            server.stop()
            if state is not None and not args.keep_index:
                state.clean_up()
            client.close()
    finished = dt.datetime.now(dt.UTC)
    machine = {**machine_info(), "load_average_start": load_before, "load_average_end": os.getloadavg()}
    settings = run_settings(args, node.source, bool(state and state.created))
    doc = results_document(rows, processes, machine=machine, versions=run_versions, settings=settings,
                           started=started.isoformat(timespec="seconds"), finished=finished.isoformat(timespec="seconds"),
                           long_polls=long_polls, sections=sections, sizes=sizes)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(markdown_report(rows, processes, report_header(doc), long_polls=long_polls,
                          long_polls_table=longpoll.markdown(long_polls) if long_polls else None,
                          sections=sections, size_notes={n: size_note(f) for n, f in sizes.items()}))
    progress.say(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
