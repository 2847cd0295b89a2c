"""The step observer on the in-memory twins, with a clock the test moves: one observer, sightings and their windows."""

from __future__ import annotations

import time
from typing import Any

import pytest

from flowstatus.domain.steps import Sighting
from flowstatus.repository.errors import StoreUnavailable
from flowstatus.repository.memory import InMemoryStateRepository, InMemoryStateSearch
from flowstatus.repository.memory_steps import InMemoryStepStore
from flowstatus.services.step_observer import StepObserver

START = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def states() -> InMemoryStateRepository:
    repository = InMemoryStateRepository()
    repository.ensure_index()
    return repository


@pytest.fixture
def steps() -> InMemoryStepStore:
    return InMemoryStepStore()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def observer(states: InMemoryStateRepository, steps: Any, clock: Clock, name: str) -> StepObserver:
    return StepObserver(states, InMemoryStateSearch(states), steps, interval=1.0, holder=name, clock=clock)


def provisioning(states: InMemoryStateRepository, workflow_id: str, *steps: str, state: str = "PROVISIONING") -> None:
    resources = [{"workflow_step_name": "create_index", "workflow_step_id": s, "resource_type": "index_name",
                  "resource_id": f"i-{s}"} for s in steps]
    states.put_raw(workflow_id, {"workflow_id": workflow_id, "state": state, "provisioning_progress": "IN_PROGRESS",
                                 "provision_start_time": START - 500, "resources_created": resources})


def sightings(steps: InMemoryStepStore, workflow_id: str) -> tuple[Sighting, ...]:
    stored = steps.get_many([workflow_id])[workflow_id]
    assert stored is not None and stored.records is not None
    return stored.records.sightings


def test_one_process_observes_and_the_others_wait_until_its_lease_expires(states: InMemoryStateRepository, steps: InMemoryStepStore, clock: Clock) -> None:
    one, two = observer(states, steps, clock, "one"), observer(states, steps, clock, "two")
    assert one.tick().observing and not two.tick().observing
    clock.now += 9_000
    assert one.tick().observing  # renewed half-way through
    clock.now += 9_000
    assert not two.tick().observing, "the lease was renewed"
    clock.now += 11_000  # "one" stopped looking: its lease expires
    assert two.tick().observing and not one.tick().observing


def test_a_stopped_observer_hands_over_at_once(states: InMemoryStateRepository, steps: InMemoryStepStore, clock: Clock) -> None:
    one, two = observer(states, steps, clock, "one"), observer(states, steps, clock, "two")
    assert one.tick().observing
    one.stop()
    clock.now += 2_600  # the next time "two" reads the lease
    assert two.tick().observing


def test_a_resource_is_sighted_between_two_looks_and_the_last_look_of_a_finished_workflow_counts(
        states: InMemoryStateRepository, steps: InMemoryStepStore, clock: Clock) -> None:
    watcher = observer(states, steps, clock, "one")
    provisioning(states, "wf", "first")
    report = watcher.tick()
    assert (report.workflows, report.sightings) == (1, 1)
    assert sightings(steps, "wf") == (Sighting("first", "create_index", START, None),)  # present at the first look
    clock.now += 1_000
    provisioning(states, "wf", "first", "second")
    watcher.tick()
    clock.now += 1_000
    provisioning(states, "wf", "first", "second", "third", state="COMPLETED")
    watcher.tick()
    assert sightings(steps, "wf")[1:] == (Sighting("second", "create_index", START + 1000, START),
                                          Sighting("third", "create_index", START + 2000, START + 1000))
    clock.now += 1_000
    assert watcher.tick().workflows == 0, "a finished workflow is no longer read"


def test_a_new_holder_keeps_what_an_earlier_one_saw(states: InMemoryStateRepository, steps: InMemoryStepStore, clock: Clock) -> None:
    provisioning(states, "wf", "first")
    observer(states, steps, clock, "one").tick()
    clock.now += 20_000
    provisioning(states, "wf", "first", "second")
    assert observer(states, steps, clock, "two").tick().observing
    assert sightings(steps, "wf") == (Sighting("first", "create_index", START, None),
                                      Sighting("second", "create_index", START + 20_000, None))


class FailingOnce(InMemoryStepStore):
    """A step store whose first write of records finds OpenSearch unavailable."""

    failed = False

    def write_many(self, puts: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise StoreUnavailable("OpenSearch is unreachable")
        return super().write_many(puts)


def test_sightings_that_could_not_be_written_are_written_at_the_next_tick(states: InMemoryStateRepository, clock: Clock) -> None:
    steps = FailingOnce()
    watcher = observer(states, steps, clock, "one")
    provisioning(states, "wf", "first")
    with pytest.raises(StoreUnavailable):
        watcher.tick()
    clock.now += 1_000
    watcher.tick()
    assert sightings(steps, "wf") == (Sighting("first", "create_index", START, None),)


def test_without_a_state_index_there_is_nothing_to_observe(steps: InMemoryStepStore, clock: Clock) -> None:
    report = observer(InMemoryStateRepository(), steps, clock, "one").tick()
    assert report.observing and report.workflows == 0


def test_the_loop_runs_in_the_background_until_stopped(states: InMemoryStateRepository, steps: InMemoryStepStore) -> None:
    provisioning(states, "wf", "first")
    watcher = StepObserver(states, InMemoryStateSearch(states), steps, interval=0.1, holder="bg")
    watcher.start()
    watcher.start()  # idempotent
    try:
        for _ in range(100):
            if steps.index_exists() and steps.get_many(["wf"])["wf"] is not None:
                break
            time.sleep(0.05)
        assert sightings(steps, "wf")[0].step_id == "first"
    finally:
        watcher.stop()
    assert steps.read_lease().lease.expires <= watcher.clock(), "stopping gives the lease up"


def test_it_never_writes_the_state_and_writes_records_only_for_what_it_saw(states: InMemoryStateRepository, steps: InMemoryStepStore, clock: Clock) -> None:
    provisioning(states, "wf")
    before = states.raw("wf")
    observer(states, steps, clock, "one").tick()
    assert states.raw("wf") == before
    assert steps.get_many(["wf"])["wf"] is None, "nothing seen, nothing written"


def test_a_look_reads_its_workflows_a_chunk_at_a_time_and_misses_none(
        states: InMemoryStateRepository, steps: InMemoryStepStore, clock: Clock) -> None:
    for n in range(250):
        provisioning(states, f"wf-{n}")
    reads: list[int] = []
    get_many = states.get_many
    states.get_many = lambda ids: reads.append(len(list(ids := list(ids)))) or get_many(ids)  # type: ignore[method-assign]
    one = observer(states, steps, clock, "one")
    assert one.tick().workflows == 250
    assert reads == [100, 100, 50]
    for n in range(250):
        provisioning(states, f"wf-{n}", f"s-{n}")
    clock.now += 1000
    assert one.tick().sightings == 250
    assert all(sightings(steps, f"wf-{n}")[0].step_id == f"s-{n}" for n in (0, 120, 249))


def test_a_look_reads_only_what_changed_and_still_narrows_the_window_of_what_did_not(
        states: InMemoryStateRepository, steps: InMemoryStepStore, clock: Clock) -> None:
    for n in range(150):
        provisioning(states, f"wf-{n}")
    one = observer(states, steps, clock, "one")
    assert (one.tick().workflows, one.tick().read) == (150, 0), "the second look, at once: nothing changed"
    clock.now += 1_000
    assert one.tick().read == 0
    provisioning(states, "wf-7", "s-7")
    clock.now += 1_000
    report = one.tick()
    assert (report.workflows, report.read, report.sightings) == (150, 1, 1)
    # Not seen at the look before, which found wf-7 unchanged without reading it.
    assert sightings(steps, "wf-7") == (Sighting("s-7", "create_index", START + 2_000, START + 1_000),)


def test_workflows_one_multi_get_reads_whole_are_read_without_asking_their_versions(
        states: InMemoryStateRepository, steps: InMemoryStepStore, clock: Clock) -> None:
    for n in range(100):
        provisioning(states, f"wf-{n}")
    states.versions = lambda ids: pytest.fail("a second request where one does")  # type: ignore[method-assign]
    one = observer(states, steps, clock, "one")
    assert [one.tick().read for _ in range(2)] == [100, 100]
