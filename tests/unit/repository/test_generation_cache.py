"""The cluster's generation is read once and kept: until it is too old, or forgotten after an outage."""

from __future__ import annotations

import threading
import time

import pytest

from flowstatus.domain.generation import Generation
from flowstatus.repository.opensearch_generation import GenerationCache


class Cluster:
    """Answers the generation it runs now, counting how often it was asked."""

    def __init__(self) -> None:
        self.runs = Generation(2, 19, "2.19.6.0")
        self.reads = 0

    def read(self) -> Generation:
        self.reads += 1
        return self.runs


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_generation_is_read_once_and_kept_for_its_time() -> None:
    cluster, clock = Cluster(), Clock()
    cache = GenerationCache(cluster.read, ttl=300, clock=clock)
    assert [cache.get() for _ in range(5)] == [Generation(2, 19, "2.19.6.0")] * 5
    assert cluster.reads == 1
    cluster.runs = Generation(3, 6, "3.6.0.0")  # upgraded, no outage seen
    clock.now += 299.9
    assert cache.get() == Generation(2, 19, "2.19.6.0")
    clock.now += 0.1
    assert cache.get() == Generation(3, 6, "3.6.0.0") and cluster.reads == 2


def test_a_forgotten_generation_is_read_again() -> None:
    cluster = Cluster()
    cache = GenerationCache(cluster.read, ttl=300, clock=Clock())
    cache.get()
    cluster.runs = Generation(3, 6, "3.6.0.0")
    cache.forget()
    assert cache.get() == Generation(3, 6, "3.6.0.0") and cluster.reads == 2


def test_a_failed_read_is_not_kept() -> None:
    calls: list[int] = []

    def read() -> Generation:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("down")
        return Generation(3, 6)

    cache = GenerationCache(read, ttl=300, clock=Clock())
    with pytest.raises(ConnectionError):
        cache.get()
    assert cache.get() == Generation(3, 6) and len(calls) == 2


def test_concurrent_callers_share_one_read() -> None:
    started, release = threading.Event(), threading.Event()
    reads: list[int] = []

    def slow_read() -> Generation:
        reads.append(1)
        started.set()
        release.wait(10)
        return Generation(3, 6)

    cache = GenerationCache(slow_read, ttl=300)
    results: list[Generation] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get())) for _ in range(4)]
    threads[0].start()
    assert started.wait(10)
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.05)  # the others are waiting on the read in flight (a miss here only weakens the test)
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == [Generation(3, 6)] * 4 and len(reads) == 1
