"""The long-poll watcher: many waiters, one multi-GET per tick."""

from __future__ import annotations

import threading
import time

import pytest

from flowstatus.domain.model import WorkflowState
from flowstatus.repository import Create, Replace, Versioned
from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.services.long_poll import TIMED_OUT, StatusWatcher, TooManyWaiters


class CountingRepository(InMemoryStateRepository):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_many(self, workflow_ids):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().get_many(workflow_ids)


def finished(lookup: object) -> bool:
    return isinstance(lookup, Versioned) and lookup.state.state == "COMPLETED"


def test_two_hundred_waiters_cost_one_read_per_tick() -> None:
    repo = CountingRepository()
    ids = [f"wf-{i}" for i in range(200)]
    repo.write_many([Create(i, WorkflowState.fresh(i)) for i in ids])
    watcher = StatusWatcher(repo, interval=0.05)
    results: dict[str, object] = {}

    def wait(wid: str) -> None:
        results[wid] = watcher.wait(wid, finished, timeout=30)

    threads = [threading.Thread(target=wait, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    while watcher.waiting < len(ids):
        time.sleep(0.01)
    reads_before, started = repo.reads, time.monotonic()
    for wid in ids:  # finish them all
        current = repo.get(wid)
        repo.write(Replace(wid, current.state.evolve(state="COMPLETED"), current.seq_no, current.primary_term))
    for t in threads:
        t.join(30)
    ticks = (time.monotonic() - started) / 0.05 + 2
    assert all(finished(results[i]) for i in ids)
    assert repo.reads - reads_before <= ticks, "reads grew with the number of waiters"
    assert watcher.waiting == 0


def test_a_wait_times_out_and_the_watcher_stops_when_idle() -> None:
    repo = CountingRepository()
    repo.write(Create("wf", WorkflowState.fresh("wf")))
    watcher = StatusWatcher(repo, interval=0.01)
    assert watcher.wait("wf", finished, timeout=0.2) is TIMED_OUT
    time.sleep(0.1)
    idle_reads = repo.reads
    time.sleep(0.2)
    assert repo.reads == idle_reads, "the watcher kept polling with nobody waiting"


def test_the_cap_refuses_extra_waiters() -> None:
    repo = CountingRepository()
    repo.write(Create("wf", WorkflowState.fresh("wf")))
    watcher = StatusWatcher(repo, interval=0.01, max_waiters=1)
    holder = threading.Thread(target=watcher.wait, args=("wf", finished, 1.0))
    holder.start()
    while watcher.waiting < 1:
        time.sleep(0.01)
    with pytest.raises(TooManyWaiters):
        watcher.wait("wf", finished, 1.0)
    holder.join()


def test_a_deleted_document_wakes_its_waiters_with_none() -> None:
    repo = CountingRepository()
    repo.ensure_index()
    watcher = StatusWatcher(repo, interval=0.01)
    assert watcher.wait("never-created", lambda lookup: lookup is None, timeout=5) is None
