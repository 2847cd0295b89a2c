"""The census cache asks for a census at most once per interval, however many callers and processes ask."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from flowstatus.domain.census import WorkflowCensus
from flowstatus.observability.census_cache import FILE_NAME, CensusCache


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Census:
    """A census source that counts its calls; ``fail`` makes it report failure, ``pause`` makes it slow."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.calls = 0
        self.fail = False
        self.pause = 0.0
        self.clock = clock
        self._lock = threading.Lock()

    def __call__(self) -> WorkflowCensus | None:
        with self._lock:
            self.calls += 1
        time.sleep(self.pause)
        return None if self.fail else WorkflowCensus.empty(self.clock())


@pytest.fixture(params=["process", "file"])
def directory(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    return None if request.param == "process" else str(tmp_path)


def test_one_census_per_interval_whatever_the_scrape_rate(directory: str | None) -> None:
    clock = Clock()
    census = Census(clock)
    cache = CensusCache(census, interval=15, directory=directory, clock=clock)
    first = cache.current()
    for _ in range(50):
        assert cache.current() == first
    clock.now += 14.9
    cache.current()
    assert census.calls == 1
    clock.now += 0.2
    assert cache.current() != first
    assert census.calls == 2


def test_concurrent_callers_share_one_census(directory: str | None) -> None:
    census = Census()
    census.pause = 0.3
    cache = CensusCache(census, interval=60, directory=directory)
    with ThreadPoolExecutor(16) as pool:
        records = list(pool.map(lambda _: cache.current(), range(64)))
    assert census.calls == 1
    assert all(r == records[0] and r is not None and not r.stale for r in records)


def test_workers_sharing_a_directory_share_one_census(tmp_path: Path) -> None:
    census = Census()
    census.pause = 0.3
    workers = [CensusCache(census, interval=60, directory=str(tmp_path)) for _ in range(4)]
    with ThreadPoolExecutor(16) as pool:
        records = list(pool.map(lambda i: workers[i % 4].current(), range(64)))
    assert census.calls == 1
    assert {r.attempted_at for r in records if r is not None} == {records[0].attempted_at}  # type: ignore[union-attr]
    assert (tmp_path / FILE_NAME).exists()


def test_a_failed_census_keeps_the_last_values_marked_stale_and_waits_for_the_interval(directory: str | None) -> None:
    clock = Clock()
    census = Census(clock)
    cache = CensusCache(census, interval=10, directory=directory, clock=clock)
    good = cache.current()
    assert good is not None and not good.stale
    census.fail = True
    clock.now += 10
    failed = cache.current()
    assert failed is not None and failed.stale and failed.census == good.census
    for _ in range(20):
        cache.current()
    assert census.calls == 2, "an unreachable OpenSearch is not asked on every scrape"
    census.fail = False
    clock.now += 10
    recovered = cache.current()
    assert recovered is not None and not recovered.stale and recovered.census != good.census


def test_a_census_that_raises_is_a_stale_record_not_an_error(
    directory: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> WorkflowCensus | None:
        raise KeyError("aggregations")

    record = CensusCache(broken, interval=10, directory=directory).current()
    assert record is not None and record.stale and record.census is None
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)


def test_an_unreadable_record_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text('{"attempted_at": 1e300, "stale": false, "census": {"torn')
    census = Census()
    record = CensusCache(census, interval=10, directory=str(tmp_path)).current()
    assert census.calls == 1 and record is not None and not record.stale


def test_a_record_from_the_future_is_refreshed(directory: str | None) -> None:
    clock = Clock(5000.0)
    census = Census(clock)
    cache = CensusCache(census, interval=10, directory=directory, clock=clock)
    cache.current()
    clock.now = 1000.0  # the clock was set back
    cache.current()
    assert census.calls == 2


def test_a_caller_waits_at_most_wait_for_another_census(tmp_path: Path) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow() -> WorkflowCensus | None:
        entered.set()
        release.wait(10)
        return WorkflowCensus.empty(time.time())

    holder = CensusCache(slow, interval=10, directory=str(tmp_path))
    waiter = CensusCache(Census(), interval=10, directory=str(tmp_path), wait=0.2)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(holder.current)
        assert entered.wait(10), "the holder is taking its census, holding the lock"
        started = time.monotonic()
        assert waiter.current() is None, "nothing recorded yet: served as it is"
        assert time.monotonic() - started < 2
        release.set()
        assert held.result(timeout=10) is not None
    assert waiter.current() is not None


GREENLETS = """
import sys, tempfile, time
from flowstatus.domain.census import WorkflowCensus
from flowstatus.observability.census_cache import CensusCache
from gevent import monkey
monkey.patch_all()  # after the import, as when a module was imported before the worker patched
import gevent

def slow():
    time.sleep(0.5)  # a search: yields to the other greenlets
    return WorkflowCensus.empty(time.time())

directory = tempfile.mkdtemp()
holder, waiter = (CensusCache(slow, interval=60, directory=directory, wait=20) for _ in range(2))
started = time.monotonic()
first = gevent.spawn(holder.current)
gevent.sleep(0.1)
second = gevent.spawn(waiter.current)
gevent.joinall([first, second], timeout=30)
print(second.value is not None and second.value == first.value, round(time.monotonic() - started, 1))
"""


def test_a_greenlet_waiting_for_the_lock_lets_the_holder_finish() -> None:
    """In a gevent worker, the waiter and the census holder are greenlets of one process."""
    result = subprocess.run([sys.executable, "-c", GREENLETS], capture_output=True, text=True, timeout=60, check=True)
    shared, seconds = result.stdout.split()
    assert shared == "True", result.stderr
    assert float(seconds) < 5, "the waiter stopped the holder until its wait ran out"
