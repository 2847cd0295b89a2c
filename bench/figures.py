"""The bench's figures: measurements, the passes they combine, and rows that compare them.  Pure (no I/O).

A :class:`Row` puts side by side the measurements of one kind of work done
three ways in the same run: raw OpenSearch (``GET _doc``, ``_bulk``), the
Flow Framework plugin's own endpoint (reads only; ``None`` where there is no
such endpoint or the node has no plugin), and flowstatus.  Every ratio has
flowstatus as its numerator, so for throughput higher is better and for
latency and CPU lower is better.  ``None`` stands for "not measurable" (a zero
or missing denominator) and is shown as ``n/a``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

OPENSEARCH, FLOWSTATUS = "opensearch", "flowstatus"  # the process groups whose CPU is read


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


def _summed(counts: Sequence[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        for k, n in c.items():
            out[k] = out.get(k, 0) + n
    return out


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
    statuses = _summed([p.statuses for p in passes])
    socket_errors = _summed([p.socket_errors for p in passes])
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


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Ratios:
    """flowstatus's rate, p50 and p99 over another side's."""

    rate: float | None
    p50: float | None
    p99: float | None

    @classmethod
    def of(cls, flowstatus: Measurement, other: Measurement | None) -> Ratios:
        if other is None:
            return cls(None, None, None)
        return cls(ratio(flowstatus.rate, other.rate), ratio(flowstatus.p50_ms, other.p50_ms),
                   ratio(flowstatus.p99_ms, other.p99_ms))


@dataclass(frozen=True)
class Row:
    """One kind of work (``name``), at one index size (reads) and concurrency, done three ways."""

    group: str  # "read" or "write"
    name: str
    size: int | None  # workflows in the index (reads)
    concurrency: int
    unit: str  # "req/s" or "events/s"
    raw: Measurement
    flowstatus: Measurement
    plugin: Measurement | None = None  # the plugin's own endpoint; None for writes or without the plugin

    @property
    def vs_raw(self) -> Ratios:
        return Ratios.of(self.flowstatus, self.raw)

    @property
    def vs_plugin(self) -> Ratios:
        return Ratios.of(self.flowstatus, self.plugin)

    @property
    def rate_ratio(self) -> float | None:
        return self.vs_raw.rate

    @property
    def p50_ratio(self) -> float | None:
        return self.vs_raw.p50

    @property
    def p99_ratio(self) -> float | None:
        return self.vs_raw.p99

    @property
    def opensearch_cpu_ratio(self) -> float | None:
        """OpenSearch's CPU per flowstatus request over its CPU per raw request (None where not measured)."""
        return ratio(self.flowstatus.cpu_us.get(OPENSEARCH), self.raw.cpu_us.get(OPENSEARCH))
