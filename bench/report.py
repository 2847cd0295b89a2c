"""The bench's report: Markdown tables of the rows, the targets, and the JSON document.  Pure (no I/O).

Reads get one table per index size N: for each row and concurrency, raw
OpenSearch, the plugin's ``_status`` and flowstatus side by side, with the
ratios flowstatus/plugin and flowstatus/raw, and CPU µs per request of
OpenSearch (and of flowstatus for its own loads).  Writes get one table of raw
against flowstatus.  A :class:`Section` is an optional extra part (its own
title, table and figures) that another bench module contributes.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.figures import FLOWSTATUS, OPENSEARCH, Measurement, Row
from bench.targets import Target, evaluate_targets


@dataclass(frozen=True)
class Section:
    """An optional part of the report: a title, its Markdown, its JSON figures and any targets of its own."""

    key: str
    title: str
    markdown: str
    figures: Any
    targets: tuple[Target, ...] = field(default=())


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ratio_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _rate(m: Measurement | None) -> str:
    return "n/a" if m is None else _fmt(m.rate)


def _latencies(attr: str, *ms: Measurement | None) -> str:
    return " / ".join("n/a" if m is None else _fmt(getattr(m, attr)) for m in ms)


def _cpu_cell(m: Measurement | None, *groups: str) -> str:
    """CPU µs per unit of the given process groups, e.g. ``1,200 + 160 OS``; n/a where none was read."""
    if m is None:
        return "n/a"
    parts = [f"{m.cpu_us[g]:,.0f}" + (" OS" if g == OPENSEARCH else "") for g in groups if g in m.cpu_us]
    return " + ".join(parts) if parts else "n/a"


READ_HEADER = (
    "| row | c | raw /s | plugin /s | flowstatus /s | vs plugin | vs raw "
    "| p50 ms raw / plugin / fs | vs plugin | vs raw | p99 ms raw / plugin / fs | vs plugin | vs raw "
    "| CPU µs raw | CPU µs plugin | CPU µs fs + OS | OS CPU vs raw |"
)
WRITE_HEADER = (
    "| row | c | raw | flowstatus | vs raw | p50 ms raw / fs | vs raw | p99 ms raw / fs | vs raw "
    "| CPU µs raw | CPU µs fs + OS |"
)


def _separator(header: str) -> str:
    return "|" + " --- |" * (header.count("|") - 1)


def read_table(rows: Sequence[Row]) -> str:
    """The read rows of one N, one line per row and concurrency; CPU is µs per request (OS = OpenSearch's)."""
    lines = [READ_HEADER, _separator(READ_HEADER)]
    for r in rows:
        vp, vr = r.vs_plugin, r.vs_raw
        lines.append(
            f"| {r.name} | {r.concurrency} | {_rate(r.raw)} | {_rate(r.plugin)} | {_rate(r.flowstatus)} "
            f"| {_ratio_cell(vp.rate)} | {_ratio_cell(vr.rate)} "
            f"| {_latencies('p50_ms', r.raw, r.plugin, r.flowstatus)} | {_ratio_cell(vp.p50)} "
            f"| {_ratio_cell(vr.p50)} "
            f"| {_latencies('p99_ms', r.raw, r.plugin, r.flowstatus)} | {_ratio_cell(vp.p99)} "
            f"| {_ratio_cell(vr.p99)} "
            f"| {_cpu_cell(r.raw, OPENSEARCH)} | {_cpu_cell(r.plugin, OPENSEARCH)} "
            f"| {_cpu_cell(r.flowstatus, FLOWSTATUS, OPENSEARCH)} | {_ratio_cell(r.opensearch_cpu_ratio)} |"
        )
    return "\n".join(lines)


def write_table(rows: Sequence[Row]) -> str:
    """The write rows: raw OpenSearch against flowstatus; rates and CPU per event."""
    lines = [WRITE_HEADER, _separator(WRITE_HEADER)]
    for r in rows:
        vr = r.vs_raw
        lines.append(
            f"| {r.name} | {r.concurrency} | {_fmt(r.raw.rate)} {r.unit} | {_fmt(r.flowstatus.rate)} "
            f"| {_ratio_cell(vr.rate)} | {_latencies('p50_ms', r.raw, r.flowstatus)} | {_ratio_cell(vr.p50)} "
            f"| {_latencies('p99_ms', r.raw, r.flowstatus)} | {_ratio_cell(vr.p99)} "
            f"| {_cpu_cell(r.raw, OPENSEARCH)} | {_cpu_cell(r.flowstatus, FLOWSTATUS, OPENSEARCH)} |"
        )
    return "\n".join(lines)


def memory_table(processes: Iterable[dict[str, Any]]) -> str:
    """RSS of the flowstatus processes after the run."""
    lines = ["| flowstatus process | pid | RSS MiB |", "| --- | --- | --- |"]
    for p in processes:
        lines.append(f"| {p['role']} | {p['pid']} | {p['rss_mib']:.1f} |")
    return "\n".join(lines)


def notes(rows: Sequence[Row]) -> list[str]:
    """Facts the tables cannot show: loads with errors or with no answer at all, and what the hot documents hold."""
    out = []
    for r in rows:
        where = f"{r.name}" + (f" N={r.size:,}" if r.size else "") + f" c={r.concurrency}"
        for side, m in (("raw", r.raw), ("plugin", r.plugin), ("flowstatus", r.flowstatus)):
            if m is not None and m.errors:
                out.append(f"{where}, {side}: {m.errors} errors (statuses {m.extra.get('statuses')}, "
                           f"socket {m.extra.get('socket_errors')}, bulk bodies with errors {m.extra.get('bulk_errors')})"
                           + (f"; first: `{m.extra['error_sample']}`" if m.extra.get("error_sample") else ""))
            if m is not None and not m.requests:
                out.append(f"{where}, {side}: no request completed within the load's time")
        if r.name == "hot workflow":
            for side, m in (("raw", r.raw), ("flowstatus", r.flowstatus)):
                out.append(f"hot workflow, {side}: {m.extra.get('updated')} appends acknowledged, "
                           f"the document holds {m.extra.get('resources_in_doc')} resources")
    return out


def targets_table(targets: Sequence[Target]) -> str:
    lines = ["| target | value | limit | met |", "| --- | --- | --- | --- |"]
    for t in targets:
        met = "n/a" if t.passed is None else "yes" if t.passed else "**no**"
        lines.append(f"| {t.name} | {_fmt(t.value, 3)} | {t.detail} | {met} |")  # 0.699 is not 0.70
    return "\n".join(lines)


def all_targets(rows: Sequence[Row], processes: Sequence[dict[str, Any]], long_polls: dict[str, Any] | None,
                sections: Sequence[Section]) -> list[Target]:
    return evaluate_targets(rows, processes, long_polls) + [t for s in sections for t in s.targets]


def row_to_json(r: Row) -> dict[str, Any]:
    out = asdict(r)
    out["ratios"] = {
        "flowstatus/raw": asdict(r.vs_raw),
        "flowstatus/plugin": asdict(r.vs_plugin) if r.plugin is not None else None,
        "opensearch_cpu flowstatus/raw": r.opensearch_cpu_ratio,
    }
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
    long_polls: dict[str, Any] | None = None,
    sections: Sequence[Section] = (),
    **more: Any,
) -> dict[str, Any]:
    """The JSON written to bench/results/<UTC timestamp>.json: every figure of the run; ``more`` is
    added as is (e.g. the idle CPU before each size's reads)."""
    return {
        "started": started,
        "finished": finished,
        "machine": machine,
        "versions": versions,
        "settings": settings,
        **more,
        "rows": [row_to_json(r) for r in rows],
        "memory": list(processes),
        "long_polls": long_polls,
        "sections": {s.key: s.figures for s in sections},
        "targets": [asdict(t) for t in all_targets(rows, processes, long_polls, sections)],
    }


def markdown_report(rows: Sequence[Row], processes: Sequence[dict[str, Any]], header: str = "", *,
                    long_polls_table: str | None = None, long_polls: dict[str, Any] | None = None,
                    sections: Sequence[Section] = (), size_notes: dict[int, str] | None = None) -> str:
    """The whole report: ``header``, a read table per N (with ``size_notes[N]`` under its title), the
    write table, the long polls, memory, the sections, the targets, then notes."""
    parts = [header] if header else []
    for size in sorted({r.size for r in rows if r.group == "read" and r.size}):
        parts += [f"### Reads, N = {size:,} workflows", ""]
        if size_notes and size_notes.get(size):
            parts += [size_notes[size], ""]
        parts += [read_table([r for r in rows if r.group == "read" and r.size == size]), ""]
    writes = [r for r in rows if r.group == "write"]
    if writes:
        parts += ["### Writes", "", write_table(writes), ""]
    if long_polls_table:
        parts += ["### Long polls", "", long_polls_table, ""]
    if processes:
        parts += ["### Memory after the run", "", memory_table(processes), ""]
    for s in sections:
        parts += [f"### {s.title}", "", s.markdown, ""]
    parts += ["### Targets", "", targets_table(all_targets(rows, processes, long_polls, sections))]
    extra = notes(rows)
    if extra:
        parts += ["", *(f"* {line}" for line in extra)]
    return "\n".join(parts)


SERVE_DEFAULTS_SHOWN_NOT = ("summary", "host", "port", "init", "insecure")


def _load(values: Sequence[float] | None) -> str:
    return ", ".join(f"{v:.1f}" for v in values) if values else "n/a"


def report_header(doc: dict[str, Any]) -> str:
    """What was measured, how and on what, from the JSON document of the run (its settings, machine, versions)."""
    v, m, s = doc["versions"], doc["machine"], doc["settings"]
    plugin = (f"its Flow Framework plugin {v['flow_framework_plugin']}" if v.get("flow_framework_plugin") else
              "no Flow Framework plugin (not installed on this node: the plugin's columns and the targets "
              "relative to it are n/a)")
    server = ", ".join(f"{name} {version}" for name, version in (v.get("wsgi_server") or {}).items()) or "n/a"
    defaults = ", ".join(f"{k.replace('_', '-')} {val}" for k, val in (s.get("serve_defaults") or {}).items()
                         if k not in SERVE_DEFAULTS_SHOWN_NOT and val is not None)
    extra = f"; run with `{shlex.join(s['serve_extra'])}`" if s.get("serve_extra") else ""
    env = f"; environment: {', '.join(f'{k}={val}' for k, val in s['server_env'].items())}" if s.get("server_env") else ""
    title = (f"flowstatus {v.get('flowstatus')} (git {v.get('git')}) against OpenSearch {v.get('opensearch')} "
             f"({s.get('opensearch')}, heap {v.get('opensearch_heap') or 'n/a'}) and {plugin}.")
    machine = (f"* machine: {m.get('cpu_count')} CPUs ({m.get('cpu_model') or 'model unknown'}), "
               f"{m.get('memory_gib')} GiB memory, {m.get('platform')}; load average "
               f"{_load(m.get('load_average_start'))} before, {_load(m.get('load_average_end'))} after")
    software = (f"* versions: Python {v.get('python')}; WSGI server {server} (`flowstatus serve` defaults: "
                f"{defaults}{extra}{env}); Flask {v.get('flask')}, opensearch-py {v.get('opensearch-py')}, "
                f"{v.get('wrk')}")
    sizes = ", then grown to ".join(f"{n:,}" for n in s.get("sizes", []))
    passes = f"{s.get('rounds')} pass" + ("es" if s.get("rounds") != 1 else "")
    method = (f"* method: every load {s.get('duration_s'):g} s in {passes} interleaved with the "
              f"other loads of its size and concurrency; sizes measured one after the other (N = {sizes}), not "
              f"interleaved; state index `{s.get('index')}`. Ratios are flowstatus / plugin and flowstatus / raw; "
              f"CPU is µs per request (per event for writes) read from /proc around each pass, OS = OpenSearch's.")
    return "\n".join([title, "", f"* command: `{s.get('command')}`", machine, software, method, ""])


def size_note(figures: dict[str, Any]) -> str:
    """The line under a size's title: documents in the index, background CPU before its loads."""
    idle = figures.get("idle_cpu_ms_per_s") or {}
    cpu = ", ".join(f"{'OpenSearch' if k == OPENSEARCH else k} {val:g} ms/s" for k, val in idle.items())
    return (f"The index held {figures.get('documents') or 0:,} documents. After seeding, OpenSearch's CPU took "
            f"{figures.get('settled_s', 0):g} s to settle; then, with no load: {cpu or 'n/a'} (included in the CPU "
            f"per request, where it weighs most at low rates).")
