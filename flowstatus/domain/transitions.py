"""The plugin's state transitions, as a pure function.

:func:`decide` takes the current state (``None`` if there is no document)
and one event, and says what the state becomes.  It never does I/O, so the
indexer can fold many events onto one read and retry the whole fold when a
concurrent writer got there first.

Every event is idempotent: applying it to the state it produced changes
nothing (``Result.NOOP``), so re-delivered events are harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import ProvisioningProgress as Progress
from flowstatus.domain.model import State, WorkflowState
from flowstatus.domain.outcomes import Rejection, Result


@dataclass(frozen=True)
class Applied:
    """The event applies: the state becomes ``state`` (``None``: the document is deleted)."""

    state: WorkflowState | None
    result: Result


@dataclass(frozen=True)
class Refused:
    """The event does not apply to the current state; nothing may be written for it."""

    rejection: Rejection  # NOT_FOUND (no state) or ILLEGAL_TRANSITION
    reason: str


Decision = Applied | Refused


def _missing(event: Event) -> Refused:
    return Refused(Rejection.NOT_FOUND, f"Workflow state not found for {event.workflow_id}")


def _not_from(current: WorkflowState, event: Event, allowed: str) -> Refused:
    return Refused(
        Rejection.ILLEGAL_TRANSITION,
        f"Cannot apply {event.kind.value} to workflow {event.workflow_id}: its state is "
        f"{current.state} (provisioning_progress {current.provisioning_progress}); {allowed}",
    )


def _same_time(event: Event, stored: int | None) -> bool:
    return event.time is None or event.time == stored


def _create(current: WorkflowState | None, event: Event, now: int) -> Decision:
    fresh = WorkflowState.fresh(event.workflow_id, user=event.user, tenant_id=event.tenant_id)
    if current is None:
        return Applied(fresh, Result.CREATED)
    # Creating means "this workflow exists, owned by this creator": true of
    # any later state too, so a replayed create is a no-op, not an error.
    if (current.user, current.tenant_id) == (fresh.user, fresh.tenant_id):
        return Applied(current, Result.NOOP)
    return _not_from(current, event, "it was created by another user or tenant")


def _provision_started(current: WorkflowState, event: Event, now: int) -> Decision:
    start = event.time if event.time is not None else now
    if current.state == State.PROVISIONING and _same_time(event, current.provision_start_time):
        return Applied(current, Result.NOOP)
    if event.time is not None and event.time == current.provision_start_time:
        return Applied(current, Result.NOOP)  # the start of the run already recorded
    if event.reprovision:
        if current.state not in (State.COMPLETED, State.FAILED):
            return Refused(
                Rejection.ILLEGAL_TRANSITION,
                "The template can not be reprovisioned unless its provisioning state is DONE or "
                f"FAILED: {event.workflow_id}",
            )
        # The plugin means to clear the old error on reprovision (its write is
        # a partial merge that cannot remove a key); a rewrite really clears it.
        started = current.evolve(error=None)
    elif current.provisioning_progress == Progress.NOT_STARTED:
        started = current.evolve(resources_created=())
    else:
        return Refused(
            Rejection.ILLEGAL_TRANSITION,
            f"The workflow provisioning state is {current.provisioning_progress} and can not be "
            f"provisioned unless its state is NOT_STARTED: {event.workflow_id}. "
            "Deprovision the workflow to reset the state.",
        )
    return Applied(
        started.evolve(
            state=State.PROVISIONING.value,
            provisioning_progress=Progress.IN_PROGRESS.value,
            provision_start_time=start,
        ),
        Result.UPDATED,
    )


def _resource_created(current: WorkflowState, event: Event, now: int) -> Decision:
    assert event.resource is not None
    if event.resource in current.resources_created:
        return Applied(current, Result.NOOP)
    if current.state != State.PROVISIONING:
        return _not_from(current, event, "resources are recorded while PROVISIONING")
    return Applied(
        current.evolve(resources_created=(*current.resources_created, event.resource)), Result.UPDATED
    )


def _resource_deleted(current: WorkflowState, event: Event, now: int) -> Decision:
    if event.resource not in current.resources_created:
        return Applied(current, Result.NOOP)
    remaining = tuple(r for r in current.resources_created if r != event.resource)
    return Applied(current.evolve(resources_created=remaining), Result.UPDATED)


def _finished(state: State, progress: Progress) -> Callable[[WorkflowState, Event, int], Decision]:
    def finish(current: WorkflowState, event: Event, now: int) -> Decision:
        if (
            current.state == state
            and current.error == event.error
            and _same_time(event, current.provision_end_time)
        ):
            return Applied(current, Result.NOOP)
        if current.state != State.PROVISIONING:
            return _not_from(current, event, "provisioning ends only while PROVISIONING")
        end = event.time if event.time is not None else now
        return Applied(
            current.evolve(
                state=state.value, provisioning_progress=progress.value, provision_end_time=end, error=event.error
            ),
            Result.UPDATED,
        )

    return finish


def _deprovisioned(current: WorkflowState, event: Event, now: int) -> Decision:
    fresh = WorkflowState.fresh(
        event.workflow_id,
        user=current.user,
        tenant_id=current.tenant_id,
        all_shared_principals=current.all_shared_principals,
    )
    return Applied(fresh, Result.NOOP if current == fresh else Result.UPDATED)


def _deleted(current: WorkflowState, event: Event, now: int) -> Decision:
    if current.provisioning_progress == Progress.IN_PROGRESS:
        return _not_from(current, event, "a state is never deleted while provisioning is IN_PROGRESS")
    if current.resources_created and not event.clear_status:
        return _not_from(
            current,
            event,
            f"{len(current.resources_created)} resources remain: deprovision first or pass clear_status",
        )
    return Applied(None, Result.DELETED)


_ON_EXISTING = {
    EventKind.PROVISION_STARTED: _provision_started,
    EventKind.RESOURCE_CREATED: _resource_created,
    EventKind.RESOURCE_DELETED: _resource_deleted,
    EventKind.PROVISION_COMPLETED: _finished(State.COMPLETED, Progress.DONE),
    EventKind.PROVISION_FAILED: _finished(State.FAILED, Progress.FAILED),
    EventKind.DEPROVISIONED: _deprovisioned,
    EventKind.DELETED: _deleted,
}


def decide(current: WorkflowState | None, event: Event, now: int) -> Decision:
    """What ``event`` does to ``current``; ``now`` (epoch ms) stands in for an absent event time."""
    if event.kind is EventKind.CREATE:
        return _create(current, event, now)
    if current is None:
        if event.kind is EventKind.DELETED:
            return Applied(None, Result.NOOP)
        return _missing(event)
    return _ON_EXISTING[event.kind](current, event, now)
