"""The timeline's geometry and words: solid where a step surely ran, pale where a time is only bounded."""

from __future__ import annotations

from flowstatus.domain.steps import Basis, Moment, Step, StepSource, StepState, WorkflowSteps
from flowstatus.ui.timeline import WIDTH, timeline

START = 10_000


def workflow(*steps: Step, end: int | None = None) -> WorkflowSteps:
    return WorkflowSteps("wf", "COMPLETED" if end else "PROVISIONING", START, end, "template", steps)


def test_exact_times_draw_a_solid_bar_at_their_place_on_the_axis() -> None:
    done = Step("a", "noop", StepState.COMPLETED, StepSource.REPORTED,
                start=Moment.exact(Basis.REPORTED, START + 1000), end=Moment.exact(Basis.REPORTED, START + 3000))
    (bar,) = timeline(workflow(done, end=START + 4000), now_ms=START + 9000).bars
    assert bar.solid == (250.0, 500.0) and bar.pale == ()
    assert bar.took == "2.0\u00a0s"
    assert "start reported by the engine" in bar.title


def test_bounded_times_are_pale_and_the_duration_says_at_most() -> None:
    noop = Step("wait", "noop", StepState.COMPLETED, StepSource.OBSERVED,
                start=Moment.exact(Basis.INFERRED, START), end=Moment(Basis.INFERRED, START, START + 2000),
                note="a step that depends on it started")
    (bar,) = timeline(workflow(noop, end=START + 2000), now_ms=START + 9000).bars
    assert bar.solid is None and bar.pale == ((0.0, WIDTH),)
    assert bar.took == "≤\u00a02.0\u00a0s"  # never broken across lines
    assert "a step that depends on it started" in bar.title


def test_a_running_step_reaches_now_and_pending_or_unknown_steps_have_no_bar() -> None:
    running = Step("idx", "create_index", StepState.RUNNING, StepSource.OBSERVED, start=Moment.exact(Basis.INFERRED, START))
    pending = Step("later", "create_index", StepState.PENDING, StepSource.OBSERVED)
    unknown = Step("other", "noop", StepState.UNKNOWN, StepSource.UNKNOWN)
    drawn = timeline(workflow(running, pending, unknown), now_ms=START + 1500)
    assert drawn is not None and drawn.label == "0 – 1.5 s"
    assert drawn.bars[0].solid == (0.0, WIDTH) and drawn.bars[0].took == "1.5\u00a0s so far"
    assert [(b.solid, b.pale) for b in drawn.bars[1:]] == [(None, ()), (None, ())]


def test_no_timeline_before_any_step_started() -> None:
    assert timeline(workflow(Step("a", "noop", StepState.PENDING, StepSource.OBSERVED)), now_ms=START) is None
