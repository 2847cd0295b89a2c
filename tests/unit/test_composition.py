"""The composition root's own wiring: the long-poll gauge counts both watchers' waiters."""

from __future__ import annotations

from prometheus_client import REGISTRY

from flowstatus.composition import Components
from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.settings import Settings


def waiting() -> float | None:
    return REGISTRY.get_sample_value("flowstatus_long_poll_waiters")


def test_the_gauge_is_the_sum_of_the_last_count_each_watcher_reported() -> None:
    built = Components(Settings(), repository=InMemoryStateRepository())
    status, steps = built.watcher.on_waiters, built.steps_watcher.on_waiters
    status(3)
    steps(2)
    assert waiting() == 5
    status(1)
    assert waiting() == 3
    steps(0)
    status(0)
    assert waiting() == 0
