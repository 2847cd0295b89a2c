"""The status page's step timeline: one bar per step on a shared time axis (pure functions, no I/O).

Bars are drawn in SVG user units (``0`` to :data:`WIDTH`) so the page needs
no inline style (its Content-Security-Policy allows none).  A bar is solid
where the step surely ran and pale where its start or end is only bounded
(:class:`~flowstatus.domain.steps.Moment`); a running step's bar reaches
"now"; pending and unknown steps have none.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowstatus.domain.steps import Basis, Moment, Step, StepState, WorkflowSteps
from flowstatus.ui.display import duration

WIDTH = 1000.0
_BASIS = {
    Basis.REPORTED: "reported by the engine",
    Basis.FIRST_SEEN: "first seen by flowstatus's observer",
    Basis.INFERRED: "inferred from other steps and the workflow's start and end",
}

Span = tuple[float, float]  # x, width


@dataclass(frozen=True)
class Bar:
    """One step's row: its geometry (``None``: nothing to draw) and its words."""

    step: Step
    solid: Span | None
    pale: tuple[Span, ...]
    took: str
    title: str


@dataclass(frozen=True)
class Timeline:
    """Every step's bar, on an axis from ``origin`` lasting ``span`` ms."""

    origin: int
    span: int
    bars: tuple[Bar, ...]

    @property
    def label(self) -> str:
        return f"0 – {duration(self.span)}"


def _x(time: int, origin: int, span: int) -> float:
    return round(min(max(0.0, (time - origin) / span), 1.0) * WIDTH, 1)


def _segment(start: int, end: int, origin: int, span: int) -> Span | None:
    left, right = _x(start, origin, span), _x(end, origin, span)
    return (left, max(round(right - left, 1), 2.0)) if right >= left else None


def _bounds(moment: Moment | None, fallback: int) -> tuple[int, int]:
    if moment is None:
        return fallback, fallback
    earliest = moment.earliest if moment.earliest is not None else fallback
    latest = moment.latest if moment.latest is not None else max(earliest, fallback)
    return earliest, latest


def _kept(ms: int) -> str:
    """A duration that never breaks across lines."""
    return duration(ms).replace(" ", "\u00a0")


def _words(step: Step, now_ms: int) -> tuple[str, str]:
    """What the duration column says, and the bar's tooltip."""
    if step.state is StepState.RUNNING and step.start is not None and step.start.earliest is not None:
        latest = step.start.latest
        span: tuple[int, int] | None = (now_ms - latest if latest is not None else 0, now_ms - step.start.earliest)
        suffix = " so far"
    else:
        span, suffix = step.duration(), ""
    took = ""
    if span is not None:
        shortest, longest = max(0, span[0]), max(0, span[1])
        took = _kept(longest) if shortest == longest else (
            f"≤\u00a0{_kept(longest)}" if shortest == 0 else f"{_kept(shortest)} – {_kept(longest)}")
        took += suffix
    parts = [f"{step.id}: {step.state.value} ({step.source.value})"]
    for name, moment in (("start", step.start), ("end", step.end)):
        if moment is not None:
            parts.append(f"{name} {_BASIS[moment.basis]}")
    if step.note:
        parts.append(step.note)
    return took, "; ".join(parts)


def _bar(step: Step, origin: int, span: int, now_ms: int, horizon: int) -> Bar:
    took, title = _words(step, now_ms)
    if step.start is None or step.state in (StepState.PENDING, StepState.UNKNOWN):
        return Bar(step, None, (), took, title)
    start_early, start_late = _bounds(step.start, origin)
    if step.state is StepState.RUNNING:
        end_early = end_late = max(now_ms, start_late)
    else:
        end_early, end_late = _bounds(step.end, horizon)
    end_early = max(end_early, start_late)
    pale = tuple(s for s in (_segment(start_early, start_late, origin, span) if start_late > start_early else None,
                             _segment(end_early, end_late, origin, span) if end_late > end_early else None) if s)
    solid = _segment(start_late, end_early, origin, span) if end_early > start_late else None
    return Bar(step, solid, pale, took, title)


def timeline(steps: WorkflowSteps, now_ms: int) -> Timeline | None:
    """The timeline of ``steps`` as of ``now_ms``; ``None`` when no step has started."""
    if not any(s.start is not None for s in steps.steps):
        return None
    starts = [s.start.earliest for s in steps.steps if s.start is not None and s.start.earliest is not None]
    origin = steps.provision_start_time if steps.provision_start_time is not None else min(starts, default=now_ms)
    ends = [m.latest for s in steps.steps for m in (s.start, s.end) if m is not None and m.latest is not None]
    horizon = steps.provision_end_time if steps.provision_end_time is not None else max([now_ms, *ends])
    span = max(horizon - origin, 1)
    return Timeline(origin, span, tuple(_bar(s, origin, span, now_ms, horizon) for s in steps.steps))
