"""Concurrent calls combined into rounds: one caller works for everybody who arrived meanwhile.

The first caller leads a round: it yields once (``gather``), so that
callers already able to run (under gevent: requests already received) join
it, then works with whatever is queued.  Callers that arrive while a round
is in flight queue; when it ends, one of them leads the next round with
everything queued by then.  A lone caller pays one yield; many concurrent
callers share one trip to the store per round.
The indexer writes events this way (group commit) and status reads share
multi-gets this way.  Works under threads and under gevent (whose patching
makes the condition cooperative).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False)
class _Ticket(Generic[T, R]):
    item: T
    result: R | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class Rounds(Generic[T, R]):
    """Runs ``process(items) -> results`` (one result per item, in order) in shared rounds.

    ``max_items`` bounds a round; the rest waits for the next one, in order
    of arrival.  If ``process`` raises, every caller of that round gets the
    exception.  ``gather`` is what a leader does before it takes the queue:
    ``time.sleep(0)``, which under gevent runs every greenlet ready to run.
    """

    process: Callable[[Sequence[T]], Sequence[R]]
    max_items: int = 10_000
    gather: Callable[[], None] = field(default=lambda: time.sleep(0), repr=False)
    _condition: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)
    _queued: list[_Ticket[T, R]] = field(default_factory=list, init=False, repr=False)
    _leading: bool = field(default=False, init=False, repr=False)

    def submit(self, item: T) -> R:
        """``item``'s result, from the round that carried it (re-raises that round's error)."""
        ticket: _Ticket[T, R] = _Ticket(item)
        with self._condition:
            self._queued.append(ticket)
        while True:  # more than max_items ahead of it: it may lead rounds without it first
            with self._condition:
                while not ticket.done and self._leading:
                    self._condition.wait()
                if ticket.done:
                    break
                self._leading = True
            self.gather()
            with self._condition:
                tickets, self._queued = self._queued[: self.max_items], self._queued[self.max_items :]
            self._lead(tickets)
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]

    def _lead(self, tickets: list[_Ticket[T, R]]) -> None:
        try:
            results = self.process([t.item for t in tickets])
            for ticket, result in zip(tickets, results, strict=True):
                ticket.result = result
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the round, re-raised there
            for ticket in tickets:
                ticket.error = exc
        finally:
            with self._condition:
                for ticket in tickets:
                    ticket.done = True
                self._leading = False
                self._condition.notify_all()
