"""The bench's figures: rows of raw-vs-flowstatus measurements, ratios,
target checks, the Markdown table and the JSON document.  Pure (no I/O).

A :class:`Row` pairs one raw OpenSearch measurement with the flowstatus
measurement of the same work, taken in the same run right after it.  Ratios
are always flowstatus / raw, so for throughput higher is better and for
latency lower is better.  ``None`` stands for "not measurable" (a zero or
missing denominator) and is shown as ``n/a``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# The targets (benchmark figures, never timed tests).
READ_THROUGHPUT_MIN = 0.8  # flowstatus req/s >= 0.8x raw GET at c=64
READ_P99_MAX = 2.0  # flowstatus p99 <= 2x raw GET at c=64
BULK_THROUGHPUT_MIN = 0.7  # flowstatus events/s >= 0.7x raw _bulk
FLAT_P50_MAX = 1.2  # status p50 at the largest N within 20% of the smallest N
WORKER_RSS_MAX_MIB = 80.0
TARGET_CONCURRENCY = 64


@dataclass(frozen=True)
class Measurement:
    """One wrk load: ``rate`` per second of ``Row.unit``, latencies of whole requests.

    ``errors`` counts unexpected statuses, socket errors and bulk bodies that
    reported item errors; ``cpu_us`` is CPU microseconds per unit of work by
    process group (``"flowstatus"``, ``"opensearch"``) where it was measured.
    """

    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int = 0
    cpu_us: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pass:
    """One wrk pass of a load: what :func:`combine` needs of a :class:`bench.wrk.WrkResult`,
    plus the CPU seconds each process group used during it."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    socket_errors: dict[str, int] = field(default_factory=dict)
    bulk_errors: int = 0
    updated: int = 0
    noops: int = 0
    cpu_s: dict[str, float] = field(default_factory=dict)
    error_sample: str | None = None


def combine(passes: Sequence[Pass], *, expected: str, per_request: int = 1) -> Measurement:
    """The passes of one load as one :class:`Measurement`.

    Rate = all work / all time; latency percentiles are the mean of the
    passes' (wrk keeps no mergeable histogram; passes are of equal length);
    CPU = all CPU / all work.  ``errors`` counts responses whose status is not
    ``expected``, socket errors other than wrk's "status" tally (statuses are
    checked instead) and bulk responses that reported item errors.
    """
    requests = sum(p.requests for p in passes)
    duration = sum(p.duration_s for p in passes)
    units = requests * per_request
    statuses: dict[str, int] = {}
    socket_errors: dict[str, int] = {}
    for p in passes:
        for k, n in p.statuses.items():
            statuses[k] = statuses.get(k, 0) + n
        for k, n in p.socket_errors.items():
            socket_errors[k] = socket_errors.get(k, 0) + n
    groups = {name for p in passes for name in p.cpu_s}
    cpu_us = {g: sum(p.cpu_s.get(g, 0.0) for p in passes) * 1e6 / units for g in sorted(groups)} if units else {}
    unexpected = sum(n for status, n in statuses.items() if status != expected)
    bulk_errors = sum(p.bulk_errors for p in passes)
    errors = unexpected + sum(n for k, n in socket_errors.items() if k != "status") + bulk_errors
    n = len(passes) or 1
    return Measurement(
        rate=units / duration if duration else 0.0,
        p50_ms=sum(p.p50_ms for p in passes) / n,
        p99_ms=sum(p.p99_ms for p in passes) / n,
        requests=requests,
        errors=errors,
        cpu_us=cpu_us,
        extra={"passes": len(passes), "statuses": statuses, "socket_errors": socket_errors,
               "bulk_errors": bulk_errors, "updated": sum(p.updated for p in passes),
               "noops": sum(p.noops for p in passes),
               "error_sample": next((p.error_sample for p in passes if p.error_sample), None)},
    )


@dataclass(frozen=True)
class Row:
    group: str  # "read" or "write"
    name: str
    size: int | None  # workflows in the index (reads)
    concurrency: int
    unit: str  # "req/s" or "events/s"
    raw: Measurement
    flowstatus: Measurement

    @property
    def rate_ratio(self) -> float | None:
        return ratio(self.flowstatus.rate, self.raw.rate)

    @property
    def p50_ratio(self) -> float | None:
        return ratio(self.flowstatus.p50_ms, self.raw.p50_ms)

    @property
    def p99_ratio(self) -> float | None:
        return ratio(self.flowstatus.p99_ms, self.raw.p99_ms)


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    limit: float
    passed: bool
    detail: str


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ratio_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _cpu_cell(m: Measurement) -> str:
    fs, os_ = m.cpu_us.get("flowstatus"), m.cpu_us.get("opensearch")
    parts = []
    if fs is not None:
        parts.append(f"{fs:,.0f}")
    if os_ is not None:
        parts.append(f"{os_:,.0f} OS")
    return " + ".join(parts) if parts else "n/a"


TABLE_HEADER = (
    "| row | N | c | raw /s | flowstatus /s | ratio | raw p50 ms | fs p50 ms | ratio "
    "| raw p99 ms | fs p99 ms | ratio | raw CPU µs | fs CPU µs |"
)


def markdown_table(rows: Sequence[Row]) -> str:
    """One line per row; rates in the row's unit, CPU µs per request or event."""
    lines = [TABLE_HEADER, "|" + " --- |" * 14]
    for r in rows:
        size = f"{r.size:,}" if r.size else ""
        lines.append(
            f"| {r.name} | {size} | {r.concurrency} | {_fmt(r.raw.rate)} {r.unit} | {_fmt(r.flowstatus.rate)} "
            f"| {_ratio_cell(r.rate_ratio)} | {_fmt(r.raw.p50_ms)} | {_fmt(r.flowstatus.p50_ms)} "
            f"| {_ratio_cell(r.p50_ratio)} | {_fmt(r.raw.p99_ms)} | {_fmt(r.flowstatus.p99_ms)} "
            f"| {_ratio_cell(r.p99_ratio)} | {_cpu_cell(r.raw)} | {_cpu_cell(r.flowstatus)} |"
        )
    return "\n".join(lines)


def memory_table(processes: Iterable[dict[str, Any]]) -> str:
    """RSS after the run; ``size`` (if present) is the N of the index the server served."""
    lines = ["| process | serving N | pid | RSS MiB |", "| --- | --- | --- | --- |"]
    for p in processes:
        size = f"{p['size']:,}" if p.get("size") else ""
        lines.append(f"| gunicorn {p['role']} | {size} | {p['pid']} | {p['rss_mib']:.1f} |")
    return "\n".join(lines)


def notes(rows: Sequence[Row]) -> list[str]:
    """Facts the table cannot show: rows with errors, and what the hot documents hold."""
    out = []
    for r in rows:
        where = f"{r.name}" + (f" N={r.size:,}" if r.size else "") + f" c={r.concurrency}"
        for side, m in (("raw", r.raw), ("flowstatus", r.flowstatus)):
            if m.errors:
                out.append(f"{where}, {side}: {m.errors} errors (statuses {m.extra.get('statuses')}, "
                           f"socket {m.extra.get('socket_errors')}, bulk bodies with errors {m.extra.get('bulk_errors')})"
                           + (f"; first: `{m.extra['error_sample']}`" if m.extra.get("error_sample") else ""))
        if r.name == "hot workflow":
            for side, m in (("raw", r.raw), ("flowstatus", r.flowstatus)):
                out.append(f"hot workflow, {side}: {m.extra.get('updated')} appends acknowledged, "
                           f"the document holds {m.extra.get('resources_in_doc')} resources")
    return out


def evaluate_targets(rows: Sequence[Row], processes: Sequence[dict[str, Any]]) -> list[Target]:
    """The issue's targets, each checked on the rows that exist (absent rows give no target)."""
    targets: list[Target] = []
    largest = max((r.size for r in rows if r.size), default=None)
    smallest = min((r.size for r in rows if r.size), default=None)
    for r in rows:
        if r.group == "read" and r.concurrency == TARGET_CONCURRENCY and r.name != "missing id" and r.size == largest:
            value = r.rate_ratio
            targets.append(Target(f"{r.name} throughput, N={r.size:,}, c={r.concurrency}", value,
                                  READ_THROUGHPUT_MIN, value is not None and value >= READ_THROUGHPUT_MIN,
                                  f"flowstatus/raw req/s >= {READ_THROUGHPUT_MIN}"))
            value = r.p99_ratio
            targets.append(Target(f"{r.name} p99, N={r.size:,}, c={r.concurrency}", value, READ_P99_MAX,
                                  value is not None and value <= READ_P99_MAX,
                                  f"flowstatus/raw p99 <= {READ_P99_MAX}"))
        if r.group == "write" and r.name == "bulk events":
            value = r.rate_ratio
            targets.append(Target(f"bulk events throughput, c={r.concurrency}", value, BULK_THROUGHPUT_MIN,
                                  value is not None and value >= BULK_THROUGHPUT_MIN,
                                  f"flowstatus/raw events/s >= {BULK_THROUGHPUT_MIN}"))
    if largest and smallest and largest != smallest:
        by_key = {(r.name, r.size, r.concurrency): r for r in rows if r.group == "read"}
        for (name, size, c), r in sorted(by_key.items(), key=lambda kv: kv[0][2]):
            if name != "status" or size != largest or ("status", smallest, c) not in by_key:
                continue
            value = ratio(r.flowstatus.p50_ms, by_key[("status", smallest, c)].flowstatus.p50_ms)
            targets.append(Target(f"status p50 flat {smallest:,} -> {largest:,}, c={c}", value, FLAT_P50_MAX,
                                  value is not None and value <= FLAT_P50_MAX,
                                  f"p50(N={largest:,}) / p50(N={smallest:,}) <= {FLAT_P50_MAX}"))
    for p in processes:
        if p["role"] == "worker":
            targets.append(Target(f"worker {p['pid']} RSS MiB", p["rss_mib"], WORKER_RSS_MAX_MIB,
                                  p["rss_mib"] < WORKER_RSS_MAX_MIB, f"< {WORKER_RSS_MAX_MIB:.0f} MiB"))
    return targets


def targets_table(targets: Sequence[Target]) -> str:
    lines = ["| target | value | limit | met |", "| --- | --- | --- | --- |"]
    for t in targets:
        lines.append(f"| {t.name} | {_fmt(t.value)} | {t.detail} | {'yes' if t.passed else '**no**'} |")
    return "\n".join(lines)


def row_to_json(r: Row) -> dict[str, Any]:
    out = asdict(r)
    out["ratios"] = {"rate": r.rate_ratio, "p50": r.p50_ratio, "p99": r.p99_ratio}
    return out


def results_document(
    rows: Sequence[Row],
    processes: Sequence[dict[str, Any]],
    *,
    machine: dict[str, Any],
    versions: dict[str, Any],
    settings: dict[str, Any],
    started: str,
    finished: str,
) -> dict[str, Any]:
    """The JSON written to bench/results/<UTC timestamp>.json."""
    return {
        "started": started,
        "finished": finished,
        "machine": machine,
        "versions": versions,
        "settings": settings,
        "rows": [row_to_json(r) for r in rows],
        "memory": list(processes),
        "targets": [asdict(t) for t in evaluate_targets(rows, processes)],
    }


def markdown_report(rows: Sequence[Row], processes: Sequence[dict[str, Any]], header: str = "") -> str:
    parts = [header] if header else []
    parts += [markdown_table(rows), "", memory_table(processes), "", targets_table(evaluate_targets(rows, processes))]
    extra = notes(rows)
    if extra:
        parts += ["", *(f"* {line}" for line in extra)]
    return "\n".join(parts)
