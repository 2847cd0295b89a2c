"""Step events through the indexer's Python API: order with state events, idempotence, refusals, access, races."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from flowstatus.domain.access import OPEN, AccessPolicy, Caller
from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import User
from flowstatus.domain.outcomes import EventResult, Rejection, Result
from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.repository.memory_steps import InMemoryStepStore
from flowstatus.repository.port import WriteResult
from flowstatus.repository.step_port import PutRecords
from flowstatus.schemas.steps import dump_records
from flowstatus.services.indexer import StatusIndexer
from flowstatus.services.step_events import Backoff, StepRecorder, in_phases

ALICE = Caller(User("alice", ("team-a",)))
MALLORY = Caller(User("mallory", ("team-b",)))


Stores = tuple[InMemoryStateRepository, InMemoryStepStore]


@pytest.fixture
def stores() -> Stores:
    return InMemoryStateRepository(), InMemoryStepStore()


def indexer(stores: Stores, policy: AccessPolicy = OPEN,
            **options: object) -> StatusIndexer:
    states, steps = stores
    return StatusIndexer(states, policy=policy, steps=StepRecorder(states, steps, policy=policy, **options))


def step(kind: EventKind, step_id: str = "s1", workflow: str = "wf", **fields: object) -> Event:
    return Event(kind, workflow, step_id=step_id, **fields)


def started(workflow: str = "wf") -> list[Event]:
    return [Event(EventKind.CREATE, workflow), Event(EventKind.PROVISION_STARTED, workflow, time=1000)]


def test_events_of_one_workflow_are_decided_in_their_order_across_both_kinds(stores: Stores) -> None:
    events = [*started(), step(EventKind.STEP_STARTED, time=1100), step(EventKind.STEP_COMPLETED, time=1500),
              Event(EventKind.PROVISION_COMPLETED, "wf", time=1600), step(EventKind.STEP_STARTED, "late")]
    results = indexer(stores).apply(events)
    assert [r.result for r in results[:5]] == [Result.CREATED, Result.UPDATED, Result.CREATED, Result.UPDATED,
                                               Result.UPDATED]
    assert results[5].rejection is Rejection.ILLEGAL_TRANSITION  # after the completion, in order
    stored = stores[1].get_many(["wf"])["wf"]
    assert stored is not None and stored.records is not None
    assert [(r.step_id, r.started, r.ended) for r in stored.records.reported] == [("s1", 1100, 1500)]
    assert "steps" not in str(stores[0].raw("wf")), "the plugin's state document never holds steps"


def test_a_resent_batch_is_a_noop_with_the_documents_version(stores: Stores) -> None:
    writer = indexer(stores)
    writer.apply(started())
    batch = [step(EventKind.STEP_STARTED, time=1100), step(EventKind.STEP_FAILED, time=1200, error="boom")]
    first = writer.apply(batch)
    again = writer.apply(batch)
    assert [r.result for r in again] == [Result.NOOP, Result.NOOP]
    assert again[1].seq_no == first[1].seq_no and again[1].seq_no is not None


def test_a_step_of_an_unknown_workflow_is_refused_and_writes_nothing(stores: Stores) -> None:
    (result,) = indexer(stores).apply([step(EventKind.STEP_STARTED, workflow="nobody")])
    assert result.rejection is Rejection.NOT_FOUND and result.reason == "Workflow state not found for nobody"
    assert not stores[1].index_exists()


def test_steps_follow_the_plugins_access_rules(stores: Stores) -> None:
    policy = AccessPolicy(filter_by_backend_roles=True)
    writer = indexer(stores, policy)
    writer.apply(started(), ALICE)
    (refused,) = writer.apply([step(EventKind.STEP_STARTED)], MALLORY)
    assert refused.rejection is Rejection.FORBIDDEN
    assert refused.reason == "User does not have permissions to access workflow: wf"
    (accepted,) = writer.apply([step(EventKind.STEP_STARTED)], ALICE)
    assert accepted.ok


def test_concurrent_writers_of_one_workflow_lose_no_step(stores: Stores) -> None:
    writer = indexer(stores, backoff=Backoff(retries=50, base=0.001, cap=0.01))
    writer.apply(started())
    failures: list[object] = []

    def report(n: int) -> None:
        for i in range(10):
            (result,) = writer.apply([step(EventKind.STEP_STARTED, f"w{n}-s{i}")])
            if not result.ok:
                failures.append(result)

    threads = [threading.Thread(target=report, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    stored = stores[1].get_many(["wf"])["wf"]
    assert stored is not None and stored.records is not None and len(stored.records.reported) == 60


def test_an_indexer_without_a_step_recorder_says_so() -> None:
    with pytest.raises(ValueError, match="step recorder"):
        StatusIndexer(InMemoryStateRepository()).apply([step(EventKind.STEP_STARTED)])


def test_phases_keep_each_workflows_order_in_as_few_batches_as_its_switches_allow() -> None:
    batches: list[tuple[str, list[str]]] = []

    def apply(kind: str) -> Callable[[Sequence[Event]], list[EventResult]]:
        def run(events: Sequence[Event]) -> list[EventResult]:
            batches.append((kind, [f"{e.workflow_id}:{e.kind.value}" for e in events]))
            return [EventResult(e, Result.NOOP) for e in events]
        return run

    events = [Event(EventKind.CREATE, "a"), step(EventKind.STEP_STARTED, workflow="b"),
              step(EventKind.STEP_STARTED, workflow="a"), Event(EventKind.PROVISION_COMPLETED, "b"),
              Event(EventKind.PROVISION_COMPLETED, "a"), step(EventKind.STEP_COMPLETED, workflow="c")]
    results = in_phases(events, apply("states"), apply("steps"))
    assert [r.event for r in results] == events  # one result per event, in input order
    assert batches == [
        ("states", ["a:create"]), ("steps", ["b:step_started", "c:step_completed"]),
        ("states", ["b:provision_completed"]), ("steps", ["a:step_started"]),
        ("states", ["a:provision_completed"]),
    ]


class RacedSteps(InMemoryStepStore):
    """Another writer changes the step records between the recorder's read and its first write."""

    raced = False

    def write_many(self, puts: Sequence[PutRecords]) -> list[WriteResult]:
        if puts and not self.raced:
            self.raced = True
            self.put_raw(puts[0].records.workflow_id, dump_records(puts[0].records))
        return super().write_many(puts)


def test_a_step_conflict_is_retried_and_counted_as_a_state_conflict_is() -> None:
    states, steps = InMemoryStateRepository(), RacedSteps()
    retried: list[int] = []
    recorder = StepRecorder(states, steps, backoff=Backoff(retries=3, base=0.0, cap=0.0), on_retry=retried.append)
    StatusIndexer(states).apply(started())
    (result,) = recorder.apply([step(EventKind.STEP_STARTED)])
    assert result.ok and retried == [1]
