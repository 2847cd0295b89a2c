"""Reported step events folded onto step records: idempotence and the refusal rules."""

from __future__ import annotations

import pytest

from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import WorkflowState
from flowstatus.domain.outcomes import Rejection, Result
from flowstatus.domain.step_transitions import MAX_REPORTED_STEPS, StepApplied, decide_step
from flowstatus.domain.steps import Outcome, ReportedStep, StepRecords
from flowstatus.domain.transitions import Refused

RUN = 1_000
NOW = 99_000
PROVISIONING = WorkflowState("wf", state="PROVISIONING", provisioning_progress="IN_PROGRESS", provision_start_time=RUN)


def event(kind: EventKind, step: str = "s1", time: int | None = None, **fields: object) -> Event:
    return Event(kind, "wf", time=time, step_id=step, **fields)


def applied(decision: object) -> StepApplied:
    assert isinstance(decision, StepApplied), decision
    return decision


def refused(decision: object) -> Refused:
    assert isinstance(decision, Refused), decision
    return decision


def test_a_start_then_an_end_are_recorded_for_the_current_run() -> None:
    first = applied(decide_step(PROVISIONING, None, event(EventKind.STEP_STARTED, time=1100, step_type="noop"), NOW))
    assert first.result is Result.CREATED
    assert first.records == StepRecords("wf", RUN, (ReportedStep("s1", "noop", started=1100),))
    done = applied(decide_step(PROVISIONING, first.records, event(EventKind.STEP_COMPLETED), NOW))
    assert done.result is Result.UPDATED
    assert done.records.reported == (ReportedStep("s1", "noop", 1100, NOW, Outcome.COMPLETED),)


@pytest.mark.parametrize("kind", [EventKind.STEP_STARTED, EventKind.STEP_COMPLETED, EventKind.STEP_FAILED])
def test_every_step_event_is_idempotent_even_after_the_workflow_ended(kind: EventKind) -> None:
    extra = {"error": "boom"} if kind is EventKind.STEP_FAILED else {}
    once = applied(decide_step(PROVISIONING, None, event(kind, time=1200, **extra), NOW)).records
    again = applied(decide_step(PROVISIONING, once, event(kind, time=1200, **extra), NOW))
    assert again.result is Result.NOOP and again.records == once
    finished = PROVISIONING.evolve(state="COMPLETED", provisioning_progress="DONE")
    assert applied(decide_step(finished, once, event(kind, time=1200, **extra), NOW)).result is Result.NOOP
    assert applied(decide_step(finished, once, event(kind, **extra), NOW)).result is Result.NOOP  # no time: any


def test_an_unknown_workflow_is_refused() -> None:
    result = refused(decide_step(None, None, event(EventKind.STEP_STARTED), NOW))
    assert result.rejection is Rejection.NOT_FOUND and result.reason == "Workflow state not found for wf"


@pytest.mark.parametrize("workflow", ["NOT_STARTED", "COMPLETED", "FAILED"])
def test_a_new_step_event_outside_provisioning_is_refused(workflow: str) -> None:
    current = PROVISIONING.evolve(state=workflow)
    result = refused(decide_step(current, None, event(EventKind.STEP_COMPLETED), NOW))
    assert result.rejection is Rejection.ILLEGAL_TRANSITION
    assert f"its state is {workflow}" in result.reason and "steps are recorded while PROVISIONING" in result.reason


def test_a_step_starts_once_and_ends_once() -> None:
    started = applied(decide_step(PROVISIONING, None, event(EventKind.STEP_STARTED, time=1100), NOW)).records
    assert "already started at 1100" in refused(
        decide_step(PROVISIONING, started, event(EventKind.STEP_STARTED, time=1300), NOW)).reason
    ended = applied(decide_step(PROVISIONING, started, event(EventKind.STEP_COMPLETED, time=1500), NOW)).records
    for later in (event(EventKind.STEP_COMPLETED, time=1600), event(EventKind.STEP_FAILED, error="x"),
                  event(EventKind.STEP_STARTED, time=1700)):
        assert "already completed at 1500" in refused(decide_step(PROVISIONING, ended, later, NOW)).reason


def test_a_step_never_ends_before_it_started() -> None:
    started = applied(decide_step(PROVISIONING, None, event(EventKind.STEP_STARTED, time=1100), NOW)).records
    result = refused(decide_step(PROVISIONING, started, event(EventKind.STEP_COMPLETED, time=1000), NOW))
    assert "before it started at 1100" in result.reason


def test_a_failure_with_another_error_is_not_the_same_event() -> None:
    failed = applied(decide_step(PROVISIONING, None, event(EventKind.STEP_FAILED, time=5, error="a"), NOW)).records
    assert refused(decide_step(PROVISIONING, failed, event(EventKind.STEP_FAILED, time=5, error="b"), NOW))


def test_a_step_keeps_the_type_it_was_reported_with() -> None:
    typed = applied(decide_step(PROVISIONING, None, event(EventKind.STEP_STARTED, step_type="noop"), NOW)).records
    result = refused(decide_step(PROVISIONING, typed, event(EventKind.STEP_COMPLETED, step_type="create_index"), NOW))
    assert "reported as a noop step" in result.reason
    later = applied(decide_step(PROVISIONING, typed, event(EventKind.STEP_COMPLETED), NOW)).records
    assert later.reported[0].step_type == "noop"


def test_records_of_an_earlier_run_are_replaced() -> None:
    old = StepRecords("wf", RUN - 500, (ReportedStep("s1", None, 1, 2, Outcome.COMPLETED),))
    fresh = applied(decide_step(PROVISIONING, old, event(EventKind.STEP_STARTED, time=1100), NOW))
    assert fresh.records == StepRecords("wf", RUN, (ReportedStep("s1", started=1100),))
    assert fresh.result is Result.UPDATED  # the document existed


def test_a_run_holds_a_bounded_number_of_reported_steps() -> None:
    full = StepRecords("wf", RUN, tuple(ReportedStep(f"s{i}") for i in range(MAX_REPORTED_STEPS)))
    result = refused(decide_step(PROVISIONING, full, event(EventKind.STEP_STARTED, step="one-more"), NOW))
    assert result.rejection is Rejection.TOO_MANY_STEPS
    assert applied(decide_step(PROVISIONING, full, event(EventKind.STEP_STARTED, step="s7"), NOW))  # known step
