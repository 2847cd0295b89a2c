"""Readiness verdicts: reused for a second, shared by callers that ask together, errors told as reasons."""

from __future__ import annotations

import threading

from flowstatus.repository.errors import StoreAccessRefused, StoreUnavailable
from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.repository.port import Readiness
from flowstatus.services.readiness import UNAVAILABLE, ReadinessCheck


class Counted(InMemoryStateRepository):
    """The in-memory repository, counting verdicts and failing with ``error`` when one is set."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0
        self.error: Exception | None = None
        self.release = threading.Event()
        self.release.set()

    def readiness(self) -> Readiness:
        self.asked += 1
        self.release.wait(5)
        if self.error is not None:
            raise self.error
        return super().readiness()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_verdict_is_reused_until_the_recheck_time_then_asked_again() -> None:
    repository, clock = Counted(), Clock()
    check = ReadinessCheck(repository, recheck_after=1.0, clock=clock)
    assert [check.reason() for _ in range(50)] == ["the state index does not exist"] * 50
    assert repository.asked == 1
    repository.ensure_index()
    clock.now += 0.9
    assert check.reason() == "the state index does not exist"
    clock.now += 0.2
    assert check.reason() is None and repository.asked == 2


def test_callers_asking_together_share_one_verdict() -> None:
    repository = Counted()
    repository.ensure_index()
    repository.release.clear()
    check = ReadinessCheck(repository)
    answers: list[str | None] = []
    callers = [threading.Thread(target=lambda: answers.append(check.reason())) for _ in range(8)]
    for caller in callers:
        caller.start()
    repository.release.set()
    for caller in callers:
        caller.join(10)
    assert answers == [None] * 8 and repository.asked == 1


def test_opensearch_errors_are_reasons_naming_what_to_fix_or_unavailability() -> None:
    repository, clock = Counted(), Clock()
    check = ReadinessCheck(repository, clock=clock)
    repository.error = StoreAccessRefused("OpenSearch refuses flowstatus's credentials (401)")
    assert check.reason() == "OpenSearch refuses flowstatus's credentials (401)"
    clock.now += 2
    repository.error = StoreUnavailable("connection refused to 10.0.0.7:9200")
    assert check.reason() == UNAVAILABLE
