"""Rounds: concurrent callers share one call of ``process``; each gets its own result or its round's error."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from flowstatus.repository.rounds import Rounds


def test_a_lone_caller_gets_its_result_from_a_round_of_its_own() -> None:
    seen: list[list[int]] = []

    def process(items: Sequence[int]) -> list[int]:
        seen.append(list(items))
        return [i * 10 for i in items]

    rounds = Rounds(process)
    assert (rounds.submit(1), rounds.submit(2), seen) == (10, 20, [[1], [2]])


def run_together(rounds: Rounds[int, int], items: range) -> dict[int, int | BaseException]:
    """Each item submitted from a thread of its own, all at once; what each got."""
    got: dict[int, int | BaseException] = {}
    start = threading.Barrier(len(items))

    def call(item: int) -> None:
        start.wait()
        try:
            got[item] = rounds.submit(item)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion
            got[item] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return got


def test_callers_ready_when_a_round_leads_join_it() -> None:
    arrived = threading.Event()
    calls: list[list[int]] = []
    waiting: list[int] = []

    def process(items: Sequence[int]) -> list[int]:
        calls.append(list(items))
        return [i + 1 for i in items]

    def gather() -> None:  # the leader waits until the other caller has queued
        arrived.wait(timeout=10)

    rounds: Rounds[int, int] = Rounds(process, gather=gather)
    leader = threading.Thread(target=lambda: waiting.append(rounds.submit(1)))
    leader.start()
    while not rounds._leading:  # the first caller leads, now in gather
        threading.Event().wait(0.001)
    other = threading.Thread(target=lambda: waiting.append(rounds.submit(2)))
    other.start()
    while len(rounds._queued) < 2:
        threading.Event().wait(0.001)
    arrived.set()
    leader.join(timeout=10)
    other.join(timeout=10)
    assert calls == [[1, 2]] and sorted(waiting) == [2, 3]


def test_with_more_queued_than_a_round_takes_every_caller_gets_its_own_result() -> None:
    sizes: list[int] = []

    def process(items: Sequence[int]) -> list[int]:
        sizes.append(len(items))
        return [-i for i in items]

    got = run_together(Rounds(process, max_items=3), range(40))
    assert got == {i: -i for i in range(40)} and max(sizes) <= 3


def test_a_rounds_error_reaches_each_of_its_callers() -> None:
    def process(items: Sequence[int]) -> list[int]:
        raise RuntimeError(f"store down for {len(items)}")

    got = run_together(Rounds(process), range(8))
    assert set(got) == set(range(8))
    assert all(isinstance(error, RuntimeError) for error in got.values())
    with pytest.raises(RuntimeError):
        Rounds(process).submit(1)
