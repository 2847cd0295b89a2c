"""The status indexer: records provisioning events into the state index.

The write side's service layer.  Concurrent callers in one process are
combined (group commit): while one round is being written, new calls queue,
and the next round takes all of them at once.  For a round it reads every
workflow concerned in one round trip, folds that workflow's events onto its
state in order (:func:`flowstatus.transitions.decide`), and writes each
changed state back in one round trip, guarded by the ``seq_no`` /
``primary_term`` it read.  A workflow whose write lost the race is re-read
and re-folded, with a bounded, jittered exponential backoff.  So no update is
ever lost, a refused event writes nothing, and a batch of appends to one hot
workflow costs one write instead of one per event.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flowstatus.domain.access import ANONYMOUS, OPEN, AccessPolicy, Caller
from flowstatus.domain.events import STEP_KINDS, Event, EventKind
from flowstatus.domain.model import WorkflowState
from flowstatus.domain.outcomes import EventResult, Rejection, Result
from flowstatus.domain.transitions import Applied, Refused, decide
from flowstatus.repository import (
    Create,
    Delete,
    Lookup,
    Outcome,
    Replace,
    StateRepository,
    Versioned,
    WriteOp,
    WriteResult,
)
from flowstatus.repository.errors import CorruptDocument, StoreUnavailable
from flowstatus.repository.rounds import Rounds
from flowstatus.services.step_events import Backoff, StepRecorder, in_phases, positions, read_states

log = logging.getLogger(__name__)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class EventRefused(Exception):
    """Raised by :meth:`StatusIndexer.record` when an event was not applied."""

    def __init__(self, result: EventResult) -> None:
        super().__init__(result.reason)
        self.result = result


@dataclass
class _Fold:
    """One workflow's events folded onto the state read at ``read``."""

    read: Versioned | None
    final: WorkflowState | None
    applied: list[tuple[int, Result]]


def _write_op(workflow_id: str, read: Versioned | None, final: WorkflowState | None) -> WriteOp | None:
    if read is None:
        return None if final is None else Create(workflow_id, final)
    if final is None:
        return Delete(workflow_id, read.seq_no, read.primary_term)
    if final == read.state:
        return None
    return Replace(workflow_id, final, read.seq_no, read.primary_term)


def _gave_up(event: Event, attempts: int) -> str:
    if event.resource is not None and event.kind in (EventKind.RESOURCE_CREATED, EventKind.RESOURCE_DELETED):
        verb = "add" if event.kind is EventKind.RESOURCE_CREATED else "delete"
        r = event.resource
        return (
            f"Failed to update workflow state for {event.workflow_id} on step {r.workflow_step_id} "
            f"to {verb} resource {r.resource_type} {r.resource_id}"
        )
    return f"Failed to update workflow state for {event.workflow_id}: still conflicting after {attempts} attempts"


def _too_many_nested(event: Event, state: WorkflowState, limit: int) -> str:
    return (
        f"The number of nested documents has exceeded the allowed limit of [{limit}] for workflow "
        f"[{event.workflow_id}]: this {event.kind.value} event would make it {state.nested_objects}. This limit "
        "can be set by changing the [index.mapping.nested_objects.limit] index level setting."
    )


class StatusIndexer:
    """Applies events to the state index.

    ``retries`` bounds the re-reads after a version conflict; the wait before
    retry *n* is uniform in ``[0, min(backoff_cap, backoff_base * 2**n)]``
    seconds.  ``on_retry`` is called once per conflicting workflow per retry
    (for metrics), ``on_results`` once per :meth:`apply` with its results
    (for metrics).  ``policy`` holds the plugin's per-workflow access rules:
    an event on a workflow its caller may not touch is refused with 403.
    ``steps`` records step events (in flowstatus's companion index).
    """

    def __init__(
        self,
        repository: StateRepository,
        *,
        retries: int = 8,
        backoff_base: float = 0.01,
        backoff_cap: float = 0.25,
        clock: Callable[[], int] = now_ms,
        sleep: Callable[[float], None] | None = None,
        on_retry: Callable[[int], None] | None = None,
        on_results: Callable[[Sequence[EventResult]], None] | None = None,
        policy: AccessPolicy = OPEN,
        steps: StepRecorder | None = None,
    ) -> None:
        self.repository = repository
        self.steps = steps
        self.retries = retries
        self.backoff = Backoff(retries, backoff_base, backoff_cap)
        self.clock = clock
        # Looked up at each call, not bound here: this module is imported before
        # `flowstatus serve` patches with gevent, and a bound time.sleep would
        # then block the whole worker during a backoff.
        self.sleep = sleep or (lambda seconds: time.sleep(seconds))
        self.on_retry = on_retry
        self.on_results = on_results
        self.policy = policy
        self._rounds: Rounds[tuple[Sequence[Event], Caller], list[EventResult]] = Rounds(self._round)

    def record(self, event: Event, caller: Caller = ANONYMOUS) -> EventResult:
        """Apply one event; raises :class:`EventRefused` unless it applied (or was a no-op)."""
        (result,) = self.apply([event], caller)
        if not result.ok:
            raise EventRefused(result)
        return result

    def apply(self, events: Sequence[Event], caller: Caller = ANONYMOUS) -> list[EventResult]:
        """Apply ``events`` in order per workflow; one result per event, in input order.

        Step events (``step_started``, ``step_completed``, ``step_failed``)
        go to the step recorder given as ``steps`` (ValueError without one),
        in order with the state events of their workflow
        (:func:`~flowstatus.services.step_events.in_phases`); the rest is
        written as described here.

        Never raises for one event's failure: refusals, exhausted retries and
        unavailable shards are per-event results (see :class:`Rejection`).
        Raises :class:`flowstatus.repository.errors.StoreUnavailable` if OpenSearch
        cannot be reached at all; then nothing of the batch may be assumed
        written or unwritten, and re-sending it is safe (events are idempotent).
        Thread-safe; concurrent calls are combined into shared rounds, in
        arrival order, so events of one workflow never overtake each other.
        A create by an authenticated ``caller`` stores that caller as the
        workflow's ``user`` (and, with multi-tenancy, its tenant), as the
        plugin does.
        """
        recorder = self.steps
        if not any(e.kind in STEP_KINDS for e in events):
            results = self._apply_states(events, caller)
        elif recorder is None:
            raise ValueError("step events need a step recorder: StatusIndexer(..., steps=StepRecorder(...))")
        else:
            results = in_phases(events, lambda some: self._apply_states(some, caller),
                                lambda some: recorder.apply(some, caller))
        if self.on_results is not None:
            self.on_results(results)
        return results

    def _apply_states(self, events: Sequence[Event], caller: Caller) -> list[EventResult]:
        """Apply state events as :meth:`apply` describes (rounds shared with concurrent callers)."""
        return self._rounds.submit(([self._stamped(e, caller) for e in events], caller))

    def _stamped(self, event: Event, caller: Caller) -> Event:
        if event.kind is not EventKind.CREATE:
            return event
        if caller.user is not None:
            event = dataclasses.replace(event, user=caller.user)
        if self.policy.multi_tenancy:
            event = dataclasses.replace(event, tenant_id=caller.tenant_id)
        return event

    def _round(self, submissions: Sequence[tuple[Sequence[Event], Caller]]) -> list[list[EventResult]]:
        """Write one round for every submission, in arrival order; one result list per submission."""
        combined = [event for events, _ in submissions for event in events]
        callers = [caller for events, caller in submissions for _ in events]
        results = iter(self._apply_round(combined, callers))
        return [[next(results) for _ in events] for events, _ in submissions]

    def _apply_round(self, events: Sequence[Event], callers: Sequence[Caller]) -> list[EventResult]:
        now = self.clock()
        results: list[EventResult | None] = [None] * len(events)
        by_workflow = positions(events)
        pending = list(by_workflow)
        attempt = 0
        while pending:
            # A write of unknown outcome that is found not applied is tried again on the
            # round's first attempt only: a write OpenSearch cannot complete in time then
            # answers 503 after at most two timeouts, not 409 after ``retries`` + 1 of them.
            conflicted = self._attempt(events, callers, pending, by_workflow, results, now, retry_unknown=attempt == 0)
            if not conflicted:
                break
            if attempt >= self.retries:
                for wid in conflicted:
                    for i in by_workflow[wid]:
                        if results[i] is None:
                            reason = _gave_up(events[i], attempt + 1)
                            results[i] = EventResult(events[i], rejection=Rejection.CONFLICT, reason=reason)
                break
            if self.on_retry:
                self.on_retry(len(conflicted))
            self.sleep(self.backoff.delay(attempt))
            attempt += 1
            pending = conflicted
        assert all(r is not None for r in results), "every event gets a result"
        return results  # type: ignore[return-value]

    def _read(self, workflow_ids: list[str]) -> dict[str, Lookup]:
        return read_states(self.repository, workflow_ids)

    def _attempt(
        self,
        events: Sequence[Event],
        callers: Sequence[Caller],
        pending: list[str],
        by_workflow: dict[str, list[int]],
        results: list[EventResult | None],
        now: int,
        retry_unknown: bool = True,
    ) -> list[str]:
        """Read, fold and write the ``pending`` workflows once; return those that conflicted."""
        lookups = self._read(pending)
        folds: dict[str, _Fold] = {}
        ops: list[WriteOp] = []
        for wid in pending:
            found = lookups.get(wid)
            if isinstance(found, CorruptDocument):
                for i in by_workflow[wid]:
                    reason = f"Failed to parse workflowState: {wid}"
                    results[i] = EventResult(events[i], rejection=Rejection.CORRUPT, reason=reason)
                continue
            fold = self._fold(events, callers, by_workflow[wid], found, results, now)
            op = _write_op(wid, found, fold.final)
            if op is None:
                self._settle(events, fold, results, None, None)
            else:
                folds[wid] = fold
                ops.append(op)
        conflicted: list[str] = []
        for op, written in zip(ops, self._write(ops, folds, retry_unknown)):
            fold = folds[op.workflow_id]
            if written.outcome is Outcome.DONE:
                self._settle(events, fold, results, written.seq_no, written.primary_term)
            elif written.outcome is Outcome.CONFLICT:
                conflicted.append(op.workflow_id)
            else:
                rejection = Rejection.UNAVAILABLE if written.outcome is Outcome.UNAVAILABLE else Rejection.STORE_FAILED
                for i, _ in fold.applied:
                    results[i] = EventResult(events[i], rejection=rejection, reason=written.error)
        return conflicted

    def _write(self, ops: list[WriteOp], folds: dict[str, _Fold], retry_unknown: bool = True) -> list[WriteResult]:
        """Write ``ops``; if the outcome is unknown (the store failed mid-write), read it back.

        A write that is found applied counts as DONE; one that is not is
        reported as a CONFLICT, so the retry loop re-reads and re-folds it
        rather than repeating it blindly, or, without ``retry_unknown``, as
        UNAVAILABLE (503: not acknowledged, re-send later).  If even the
        read-back fails, :class:`StoreUnavailable` propagates.
        """
        if not ops:
            return []
        try:
            return self.repository.write_many(ops)
        except StoreUnavailable:
            log.warning("outcome of %d writes unknown; reading them back", len(ops))
            found = self.repository.get_many([op.workflow_id for op in ops])
        results = []
        for op in ops:
            now = found.get(op.workflow_id)
            intended = folds[op.workflow_id].final
            if intended is None and now is None:
                results.append(WriteResult(Outcome.DONE))
            elif isinstance(now, Versioned) and intended is not None and now.state == intended:
                results.append(WriteResult(Outcome.DONE, now.seq_no, now.primary_term))
            elif retry_unknown:
                results.append(WriteResult(Outcome.CONFLICT, error="not applied; will re-read and retry"))
            else:
                results.append(WriteResult(Outcome.UNAVAILABLE, error="OpenSearch did not confirm the write in time; not applied"))
        return results

    def _fold(
        self,
        events: Sequence[Event],
        callers: Sequence[Caller],
        indices: list[int],
        read: Versioned | None,
        results: list[EventResult | None],
        now: int,
    ) -> _Fold:
        state = read.state if read else None
        applied: list[tuple[int, Result]] = []
        limit = self.repository.nested_objects_limit() if indices else 0
        for i in indices:
            refusal = state and self.policy.refusal(callers[i], state, events[i].workflow_id)
            if refusal:
                results[i] = EventResult(events[i], rejection=Rejection.FORBIDDEN, reason=refusal.message)
                continue
            decision = decide(state, events[i], now)
            if isinstance(decision, Refused):
                results[i] = EventResult(events[i], rejection=decision.rejection, reason=decision.reason)
            elif decision.state is not None and decision.state.nested_objects > limit:
                # Refused alone: the write of everything else in the round still fits.
                results[i] = EventResult(events[i], rejection=Rejection.TOO_MANY_NESTED,
                                         reason=_too_many_nested(events[i], decision.state, limit))
            else:
                assert isinstance(decision, Applied)
                state = decision.state
                applied.append((i, decision.result))
                results[i] = None  # decided only once the write is known
        return _Fold(read, state, applied)

    @staticmethod
    def _settle(
        events: Sequence[Event],
        fold: _Fold,
        results: list[EventResult | None],
        seq_no: int | None,
        primary_term: int | None,
    ) -> None:
        if seq_no is None and fold.read is not None:
            seq_no, primary_term = fold.read.seq_no, fold.read.primary_term
        for i, result in fold.applied:
            results[i] = EventResult(events[i], result, seq_no, primary_term)
