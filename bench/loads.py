"""Measuring loads: one wrk pass with the CPU time of each process group around it, and loads interleaved.

A :class:`Load` is one wrk script against one target (raw OpenSearch, the
plugin's endpoint inside OpenSearch, or flowstatus).  :func:`measure_all`
runs a set of loads in ``--rounds`` interleaved passes, so that every load of
the set sees the same machine load, and combines each load's passes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench import procfs, wrk
from bench.figures import FLOWSTATUS, OPENSEARCH, Measurement, Pass, combine
from bench.progress import Progress
from bench.rawhttp import OpenSearchHttp
from bench.server import FlowstatusServer

SETTLE_S = 0.3


@dataclass
class Context:
    """What every measurement of a run shares.

    ``plugin`` is the Flow Framework plugin's version on the node, None when
    it is not installed.
    """

    args: argparse.Namespace
    wrk: str
    os_url: str
    os_pid: int | None
    client: OpenSearchHttp
    index: str
    server: FlowstatusServer
    progress: Progress
    raw_headers: list[str]
    tag: str
    plugin: str | None

    def cpu_pids(self) -> dict[str, list[int]]:
        """Process groups whose CPU time is read around each pass (an idle server adds ~0)."""
        groups = {FLOWSTATUS: self.server.pids()}
        if self.os_pid:
            groups[OPENSEARCH] = [self.os_pid]
        return groups

    def cpu_seconds(self) -> dict[str, float]:
        return {name: procfs.total_cpu_seconds(pids) for name, pids in self.cpu_pids().items()}


@dataclass(frozen=True)
class Load:
    """One load to measure: a wrk script against OpenSearch (``raw``: raw API or the plugin's) or flowstatus."""

    key: str
    label: str
    url: str
    script: str
    script_args: tuple[str, ...]
    connections: int
    expected: str = "200"
    per_request: int = 1
    raw: bool = False  # sent to OpenSearch: carries its credentials


def run_pass(ctx: Context, load: Load, duration: float, label: str, number: int) -> Pass:
    """One wrk pass of ``load``, with the CPU time of each process group around it.

    ``{pass}`` in the script arguments becomes ``number`` (resource ids must differ between
    passes, or flowstatus rightly answers the repeats as no-ops).
    """
    script_args = [a.replace("{pass}", str(number)) for a in load.script_args]
    before = ctx.cpu_seconds()
    label = f"{ctx.progress.stamp()} {label}"
    print(label, file=sys.stderr, flush=True)
    r = wrk.run(ctx.wrk, load.url, load.script, script_args, connections=load.connections, duration=duration,
                headers=ctx.raw_headers if load.raw else (), label=label)
    time.sleep(SETTLE_S)  # let requests still in flight finish inside this pass's CPU window
    after = ctx.cpu_seconds()
    return Pass(r.requests, r.duration_s, r.p50_ms, r.p99_ms, r.statuses, r.socket_errors, r.bulk_errors,
                r.updated, r.noops, {name: after[name] - before.get(name, 0.0) for name in after}, r.error_sample)


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


def idle_cpu(ctx: Context, seconds: float) -> dict[str, float]:
    """CPU milliseconds per second each process group uses with no load, over ``seconds``.

    Per-request CPU figures include this background (OpenSearch's scheduled
    jobs, flowstatus's watchers); at low rates it is a visible share.
    """
    before, began = ctx.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    after, elapsed = ctx.cpu_seconds(), time.monotonic() - began
    return {name: round((after[name] - before.get(name, 0.0)) * 1000 / elapsed, 1) for name in after}


def settle(ctx: Context, quiet_ms_per_s: float = 50.0, windows: int = 3, timeout: float = 120.0) -> float:
    """Wait until OpenSearch's CPU stays under ``quiet_ms_per_s`` for ``windows`` seconds in a row (after
    seeding it flushes and merges for a while), at most ``timeout``; the seconds waited (0 if not local)."""
    if not ctx.os_pid:
        return 0.0
    began, quiet = time.monotonic(), 0
    while quiet < windows and time.monotonic() - began < timeout:
        quiet = quiet + 1 if idle_cpu(ctx, 1.0).get(OPENSEARCH, 0.0) < quiet_ms_per_s else 0
    return round(time.monotonic() - began, 1)
