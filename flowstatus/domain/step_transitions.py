"""What a reported step event does to a workflow's step records, as a pure function.

:func:`decide_step` takes the workflow's state (``None``: no state
document), its step records (``None``: none yet) and one step event.  The
rules:

* the workflow must exist (404) and be PROVISIONING (409): a step starts or
  ends only within a provisioning run, never after it completed or failed;
* each event is idempotent: one already recorded is a no-op, before any other
  check, so a re-delivery after the workflow ended is still harmless;
* a step starts once and ends once per run (a different second start or end is
  refused, 409), and never ends before it started;
* records of an earlier run are replaced by those of the current one (a run is
  known by the state's ``provision_start_time``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import State, WorkflowState
from flowstatus.domain.outcomes import Rejection, Result
from flowstatus.domain.steps import Outcome, ReportedStep, StepRecords
from flowstatus.domain.transitions import Refused

# Reported steps kept per run: far above any template (the plugin allows 50
# nodes by default), low enough that one document stays small.
MAX_REPORTED_STEPS = 1000

_OUTCOMES = {EventKind.STEP_COMPLETED: Outcome.COMPLETED, EventKind.STEP_FAILED: Outcome.FAILED}


@dataclass(frozen=True)
class StepApplied:
    """The event applies: the workflow's step records become ``records``."""

    records: StepRecords
    result: Result


StepDecision = StepApplied | Refused


def _same_time(event: Event, stored: int | None) -> bool:
    return event.time is None or event.time == stored


def _recorded(event: Event, step: ReportedStep | None) -> bool:
    """Whether ``event`` says nothing ``step`` does not already hold."""
    if step is None:
        return False
    if event.step_type is not None and step.step_type not in (None, event.step_type):
        return False
    if event.kind is EventKind.STEP_STARTED:
        return step.started is not None and _same_time(event, step.started)
    return (step.outcome is _OUTCOMES[event.kind] and step.error == event.error
            and _same_time(event, step.ended))


def _illegal(event: Event, why: str) -> Refused:
    return Refused(Rejection.ILLEGAL_TRANSITION, f"Cannot apply {event.kind.value} to step {event.step_id} of "
                                                 f"workflow {event.workflow_id}: {why}")


def decide_step(current: WorkflowState | None, records: StepRecords | None, event: Event, now: int) -> StepDecision:
    """What step ``event`` does; ``now`` (epoch ms) stands in for an absent event time."""
    assert event.step_id is not None, "step events name their step"
    if current is None:
        return Refused(Rejection.NOT_FOUND, f"Workflow state not found for {event.workflow_id}")
    run = current.provision_start_time
    held = (records or StepRecords(event.workflow_id, run)).for_run(run)
    step = held.reported_step(event.step_id)
    if _recorded(event, step):
        return StepApplied(held, Result.NOOP)
    if current.state != State.PROVISIONING.value:
        return Refused(
            Rejection.ILLEGAL_TRANSITION,
            f"Cannot apply {event.kind.value} to workflow {event.workflow_id}: its state is {current.state} "
            f"(provisioning_progress {current.provisioning_progress}); steps are recorded while PROVISIONING",
        )
    if step is None and len(held.reported) >= MAX_REPORTED_STEPS:
        return Refused(Rejection.TOO_MANY_STEPS, f"Workflow {event.workflow_id} already has {MAX_REPORTED_STEPS} "
                                                 "reported steps in this run, the most flowstatus keeps")
    step = step or ReportedStep(event.step_id)
    if event.step_type is not None and step.step_type not in (None, event.step_type):
        return _illegal(event, f"it was reported as a {step.step_type} step")
    time = event.time if event.time is not None else now
    if step.outcome is not None:
        return _illegal(event, f"it already {step.outcome.value} at {step.ended}")
    if event.kind is EventKind.STEP_STARTED:
        if step.started is not None:
            return _illegal(event, f"it already started at {step.started}")
        changed = replace(step, started=time)
    else:
        if step.started is not None and time < step.started:
            return _illegal(event, f"it would end at {time}, before it started at {step.started}")
        changed = replace(step, ended=time, outcome=_OUTCOMES[event.kind], error=event.error)
    changed = replace(changed, step_type=step.step_type or event.step_type)
    return StepApplied(held.with_reported(changed), Result.CREATED if records is None else Result.UPDATED)
