"""Recording reported step events (``step_started``, ``step_completed``, ``step_failed``) in the companion index.

The write side of the step feature.  For a batch it reads every workflow
concerned (its state, for the rules and the run; its step records) in two
round trips, folds that workflow's step events onto its records in order
(:func:`flowstatus.domain.step_transitions.decide_step`), and writes each
changed document back in one round trip, guarded by the version it read.  A
workflow whose write lost the race is re-read and re-folded after a jittered
exponential backoff, so no step update is lost and a refused event writes
nothing.  The plugin's state document is never written here.

Step events arrive mixed with state events (the bulk endpoint, ``flowstatus
ingest``, :meth:`StatusIndexer.apply <flowstatus.services.indexer.StatusIndexer.apply>`);
:func:`in_phases` keeps each workflow's events in their order across the two.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flowstatus.domain.access import ANONYMOUS, OPEN, AccessPolicy, Caller
from flowstatus.domain.events import STEP_KINDS, Event
from flowstatus.domain.outcomes import EventResult, Rejection, Result
from flowstatus.domain.step_transitions import StepApplied, decide_step
from flowstatus.domain.steps import StepRecords
from flowstatus.repository.errors import CorruptDocument, IndexMissing
from flowstatus.repository.port import Lookup, Outcome, StateRepository, Versioned
from flowstatus.repository.step_port import PutRecords, StepStore, StoredRecords

Apply = Callable[[Sequence[Event]], list[EventResult]]


def in_phases(events: Sequence[Event], states: Apply, steps: Apply) -> list[EventResult]:
    """Apply ``events`` with ``states`` (state events) and ``steps`` (step events), one result per event in order.

    A workflow's events are cut into phases where they switch between the
    two kinds; phase *n* of every workflow is applied before phase *n + 1*,
    so ``step_completed`` then ``provision_completed`` of one workflow are
    decided in that order, in as few round trips as the switches allow.
    """
    phase: list[int] = []
    last: dict[str, tuple[int, bool]] = {}
    for event in events:
        is_step = event.kind in STEP_KINDS
        number, was_step = last.get(event.workflow_id, (0, is_step))
        number += was_step != is_step
        last[event.workflow_id] = (number, is_step)
        phase.append(number)
    results: list[EventResult | None] = [None] * len(events)
    for number in range(max(phase, default=-1) + 1):
        for is_step, apply in ((False, states), (True, steps)):
            chosen = [i for i, e in enumerate(events) if phase[i] == number and (e.kind in STEP_KINDS) == is_step]
            if chosen:
                for i, result in zip(chosen, apply([events[i] for i in chosen]), strict=True):
                    results[i] = result
    assert all(r is not None for r in results), "every event gets a result"
    return results  # type: ignore[return-value]


def positions(events: Sequence[Event]) -> dict[str, list[int]]:
    """Where each workflow's events are in ``events``, in order."""
    found: defaultdict[str, list[int]] = defaultdict(list)
    for i, event in enumerate(events):
        found[event.workflow_id].append(i)
    return found


def read_states(states: StateRepository, workflow_ids: list[str]) -> dict[str, Lookup]:
    """Realtime reads of ``workflow_ids``; a missing state index holds no state (each is ``None``)."""
    try:
        return states.get_many(workflow_ids)
    except IndexMissing:
        return dict.fromkeys(workflow_ids)


@dataclass(frozen=True)
class Backoff:
    """Re-reads after a version conflict: at most ``retries``, the wait before retry *n* uniform in
    ``[0, min(cap, base * 2**n)]`` seconds."""

    retries: int = 8
    base: float = 0.01
    cap: float = 0.25

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


class StepRecorder:
    """Applies step events to the companion index ``steps``, reading states from ``states``.

    ``policy`` holds the plugin's access rules, as for state events;
    ``backoff`` paces the retries after a conflict; ``on_retry`` is called
    once per conflicting workflow per retry (for metrics), as the indexer's.
    """

    def __init__(self, states: StateRepository, steps: StepStore, *, policy: AccessPolicy = OPEN,
                 backoff: Backoff = Backoff(), clock: Callable[[], int] | None = None,
                 sleep: Callable[[float], None] | None = None,
                 on_retry: Callable[[int], None] | None = None) -> None:
        self.states, self.steps, self.policy, self.backoff = states, steps, policy, backoff
        self.on_retry = on_retry
        self.clock = clock or (lambda: time.time_ns() // 1_000_000)
        self.sleep = sleep or (lambda seconds: time.sleep(seconds))  # looked up per call: gevent patches it later

    def apply(self, events: Sequence[Event], caller: Caller = ANONYMOUS) -> list[EventResult]:
        """Apply step ``events`` in order per workflow; one result per event, in input order.

        Never raises for one event's failure (see :class:`~flowstatus.domain.outcomes.Rejection`);
        raises :class:`~flowstatus.repository.errors.StoreUnavailable` when
        OpenSearch cannot be reached at all (re-sending the batch is then safe).
        """
        by_workflow = positions(events)
        results: list[EventResult | None] = [None] * len(events)
        now, pending, retries = self.clock(), list(by_workflow), self.backoff.retries
        for attempt in range(retries + 1):
            pending = self._attempt(events, caller, pending, by_workflow, results, now)
            if not pending:
                break
            if attempt < retries:
                if self.on_retry:
                    self.on_retry(len(pending))
                self.sleep(self.backoff.delay(attempt))
        for workflow_id in pending:  # still conflicting after every retry
            for i in by_workflow[workflow_id]:
                reason = f"Failed to record step {events[i].step_id} of {workflow_id}: still conflicting after " \
                         f"{retries + 1} attempts"
                results[i] = EventResult(events[i], rejection=Rejection.CONFLICT, reason=reason)
        return results  # type: ignore[return-value]

    def _attempt(self, events: Sequence[Event], caller: Caller, pending: list[str], by_workflow: dict[str, list[int]],
                 results: list[EventResult | None], now: int) -> list[str]:
        """Read, fold and write the ``pending`` workflows once; return those that conflicted."""
        states, stored = read_states(self.states, pending), self.steps.get_many(pending)
        puts: list[PutRecords] = []
        applied: dict[str, list[tuple[int, Result]]] = {}
        for workflow_id in pending:
            state = states.get(workflow_id)
            found = stored.get(workflow_id)
            if isinstance(state, CorruptDocument):
                for i in by_workflow[workflow_id]:
                    results[i] = EventResult(events[i], rejection=Rejection.CORRUPT,
                                             reason=f"Failed to parse workflowState: {workflow_id}")
                continue
            records, done = self._fold(events, caller, by_workflow[workflow_id], state, found, results, now)
            if done and records is not None and (found is None or records != found.records):
                puts.append(PutRecords(records, found.version if found else None))
                applied[workflow_id] = done
            else:
                seq_no, term = (found.version.seq_no, found.version.primary_term) if found else (None, None)
                for i, result in done:
                    results[i] = EventResult(events[i], result, seq_no, term)
        conflicted = []
        for put, written in zip(puts, self.steps.write_many(puts), strict=True):
            workflow_id = put.records.workflow_id
            if written.outcome is Outcome.CONFLICT:
                conflicted.append(workflow_id)
                continue
            for i, result in applied[workflow_id]:
                if written.outcome is Outcome.DONE:
                    results[i] = EventResult(events[i], result, written.seq_no, written.primary_term)
                else:
                    rejection = Rejection.UNAVAILABLE if written.outcome is Outcome.UNAVAILABLE else Rejection.STORE_FAILED
                    results[i] = EventResult(events[i], rejection=rejection, reason=written.error)
        return conflicted

    def _fold(self, events: Sequence[Event], caller: Caller, indices: list[int], state: Versioned | None,
              found: StoredRecords | None, results: list[EventResult | None],
              now: int) -> tuple[StepRecords | None, list[tuple[int, Result]]]:
        """The workflow's records after its events, and the applied ones (refusals go to ``results``)."""
        records = found.records if found else None
        current = state.state if state else None
        done: list[tuple[int, Result]] = []
        for i in indices:
            refusal = current and self.policy.refusal(caller, current, events[i].workflow_id)
            if refusal:
                results[i] = EventResult(events[i], rejection=Rejection.FORBIDDEN, reason=refusal.message)
                continue
            decision = decide_step(current, records, events[i], now)
            if isinstance(decision, StepApplied):
                records = decision.records
                done.append((i, decision.result))
            else:
                results[i] = EventResult(events[i], rejection=decision.rejection, reason=decision.reason)
        return records, done
