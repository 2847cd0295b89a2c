"""The benchmark's targets, checked on the figures of one run.  Pure (no I/O).

Each target is a ratio measured in the same run (flowstatus against the
plugin's ``_status`` or against raw OpenSearch), or an absolute bound on
memory and threads.  A target whose figures were not measured (no plugin on
the node, no OpenSearch process to read the CPU of) is listed with ``passed``
``None`` ("n/a"), never as met; a target whose rows were not run at all
(``--only``, ``--concurrency``) is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.figures import Measurement, Row, ratio

# flowstatus against the plugin's own _status, same index, same run.
PLUGIN_READS = ("status", "status?all=true")
PLUGIN_THROUGHPUT_MIN = 0.4  # flowstatus req/s >= 0.4x the plugin's ...
PLUGIN_THROUGHPUT_CONCURRENCY = (8, 64)  # ... at these concurrencies
PLUGIN_P50_MAX, PLUGIN_P50_CONCURRENCY = 2.0, 1  # p50 <= 2x the plugin's at c=1
PLUGIN_P99_MAX, PLUGIN_P99_CONCURRENCY = 3.0, 64  # p99 <= 3x the plugin's at c=64
# OpenSearch's CPU per flowstatus read <= 1.5x its CPU per raw GET of the same row and concurrency.
OPENSEARCH_CPU_MAX = 1.5
BULK_THROUGHPUT_MIN = 0.7  # flowstatus events/s >= 0.7x raw _bulk
FLAT_P50_MAX = 1.2  # status p50 at the largest N within 20% of the smallest N
WORKER_RSS_MAX_MIB = 80.0
LONG_POLL_THREADS_PER_WORKER_MAX = 10  # while the long-poll row's waiters wait
LONG_POLL_WAITING_MIN = 0.9  # share of the waiters the gauge must show waiting for the thread count to mean anything


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    limit: float
    passed: bool | None  # None: not measurable in this run
    detail: str


def _at_most(name: str, value: float | None, limit: float, detail: str) -> Target:
    return Target(name, value, limit, None if value is None else value <= limit, detail)


def _at_least(name: str, value: float | None, limit: float, detail: str) -> Target:
    return Target(name, value, limit, None if value is None else value >= limit, detail)


def plugin_targets(r: Row) -> list[Target]:
    """flowstatus against the plugin on one read row: throughput, p50, p99 (where the concurrency has one)."""
    if r.group != "read" or r.name not in PLUGIN_READS:
        return []
    where = f"{r.name}, N={r.size:,}, c={r.concurrency}"
    vs = r.vs_plugin
    out = []
    if r.concurrency in PLUGIN_THROUGHPUT_CONCURRENCY:
        out.append(_at_least(f"{where}: throughput vs plugin", vs.rate, PLUGIN_THROUGHPUT_MIN,
                             f"flowstatus/plugin req/s >= {PLUGIN_THROUGHPUT_MIN}"))
    if r.concurrency == PLUGIN_P50_CONCURRENCY:
        out.append(_at_most(f"{where}: p50 vs plugin", vs.p50, PLUGIN_P50_MAX,
                            f"flowstatus/plugin p50 <= {PLUGIN_P50_MAX}"))
    if r.concurrency == PLUGIN_P99_CONCURRENCY:
        out.append(_at_most(f"{where}: p99 vs plugin", vs.p99, PLUGIN_P99_MAX,
                            f"flowstatus/plugin p99 <= {PLUGIN_P99_MAX}"))
    return out


def opensearch_cpu_target(r: Row) -> list[Target]:
    """OpenSearch's CPU per flowstatus read against per raw GET, on one read row."""
    if r.group != "read" or r.name not in PLUGIN_READS:
        return []
    return [_at_most(f"{r.name}, N={r.size:,}, c={r.concurrency}: OpenSearch CPU per read vs raw GET",
                     r.opensearch_cpu_ratio, OPENSEARCH_CPU_MAX,
                     f"OpenSearch µs per flowstatus read / per raw GET <= {OPENSEARCH_CPU_MAX}")]


def _p50_growth(small: Measurement | None, large: Measurement | None) -> float | None:
    return ratio(large.p50_ms, small.p50_ms) if small and large else None


def flat_targets(rows: Sequence[Row]) -> list[Target]:
    """status p50 at the largest N against the smallest, per concurrency measured at both."""
    sizes = sorted({r.size for r in rows if r.group == "read" and r.size})
    if len(sizes) < 2:
        return []
    smallest, largest = sizes[0], sizes[-1]
    status = {(r.size, r.concurrency): r for r in rows if r.group == "read" and r.name == "status"}
    out = []
    for c in sorted({c for size, c in status if size == largest}):
        if (smallest, c) not in status:
            continue
        large, small = status[(largest, c)], status[(smallest, c)]
        value = _p50_growth(small.flowstatus, large.flowstatus)
        # The sizes run one after the other: the same ratio for raw GET and the plugin shows how much of a
        # change the machine (or OpenSearch itself) made in between.
        others = {"raw GET": _p50_growth(small.raw, large.raw), "plugin": _p50_growth(small.plugin, large.plugin)}
        seen = ", ".join(f"{side} {growth:.2f}" for side, growth in others.items() if growth is not None)
        out.append(_at_most(f"status p50 flat {smallest:,} -> {largest:,}, c={c}", value, FLAT_P50_MAX,
                            f"p50(N={largest:,}) / p50(N={smallest:,}) <= {FLAT_P50_MAX}"
                            + (f" (same ratio for {seen})" if seen else "")))
    return out


def long_poll_target(figures: dict[str, Any]) -> Target:
    """The long-poll row's waiters hold no thread each: the busiest worker's OS threads while they wait.

    Met only if the waiters gauge also showed most waiters waiting (a row
    whose polls failed would hold few threads for the wrong reason).
    """
    each = figures.get("worker_os_threads_max_each") or []
    value = float(max(each)) if each else None
    gauge = figures.get("waiters_gauge_min", 0)
    waiting = gauge >= LONG_POLL_WAITING_MIN * figures["waiters"]
    passed = None if value is None else value <= LONG_POLL_THREADS_PER_WORKER_MAX and waiting
    return Target(f"{figures['waiters']} long polls waiting: OS threads per worker", value,
                  LONG_POLL_THREADS_PER_WORKER_MAX, passed,
                  f"<= {LONG_POLL_THREADS_PER_WORKER_MAX} per worker, with >= {LONG_POLL_WAITING_MIN:.0%} of the "
                  f"waiters waiting (gauge min {gauge:g})")


def evaluate_targets(rows: Sequence[Row], processes: Sequence[dict[str, Any]],
                     long_polls: dict[str, Any] | None = None) -> list[Target]:
    """Every target the run's rows allow, in the order of the rows (reads by N and concurrency), then
    bulk, flatness, memory and long polls."""
    targets: list[Target] = []
    for r in rows:
        targets += plugin_targets(r)
    for r in rows:
        targets += opensearch_cpu_target(r)
    for r in rows:
        if r.group == "write" and r.name == "bulk events":
            targets.append(_at_least(f"bulk events, c={r.concurrency}: throughput vs raw _bulk", r.rate_ratio,
                                     BULK_THROUGHPUT_MIN, f"flowstatus/raw events/s >= {BULK_THROUGHPUT_MIN}"))
    targets += flat_targets(rows)
    for p in processes:
        if p["role"] == "worker":
            targets.append(Target(f"worker {p['pid']} RSS MiB", p["rss_mib"], WORKER_RSS_MAX_MIB,
                                  p["rss_mib"] < WORKER_RSS_MAX_MIB, f"< {WORKER_RSS_MAX_MIB:.0f} MiB"))
    if long_polls is not None:
        targets.append(long_poll_target(long_polls))
    return targets
