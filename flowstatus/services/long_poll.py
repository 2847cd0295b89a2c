"""Long polling: many waiters, one multi-GET per tick.

Each waiting request registers a predicate on one workflow's state and
sleeps on an event.  A single watcher thread (a greenlet under gunicorn's
gevent workers, where waiting costs no OS thread) reads every watched
workflow with one ``get_many`` per tick and wakes the waiters whose
predicate holds.  So N concurrent waiters cost N sleeping greenlets and
``1 / interval`` OpenSearch requests per second, whatever N is.  The thread
runs only while somebody waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from flowstatus.repository.errors import IndexMissing, StoreError

log = logging.getLogger(__name__)


class TooManyWaiters(Exception):
    """The process already holds its maximum number of waiters."""


class _TimedOut:
    def __repr__(self) -> str:
        return "TIMED_OUT"


TIMED_OUT = _TimedOut()
L = TypeVar("L")
L_co = TypeVar("L_co", covariant=True)


class ManyReader(Protocol[L_co]):
    """What the watcher reads: by default a :class:`~flowstatus.repository.StateRepository`."""

    def get_many(self, workflow_ids: Iterable[str]) -> Mapping[str, L_co]: ...


@dataclass(eq=False)
class _Waiter(Generic[L]):
    done: Callable[[L | None], bool]
    event: threading.Event = field(default_factory=threading.Event)
    result: L | None = None


class StatusWatcher(Generic[L]):
    """Wakes waiters when the state they wait for appears.

    ``interval`` is the seconds between multi-GETs; ``max_waiters`` caps
    concurrent waiters per process; ``on_waiters(n)`` reports the current
    count (for a metrics gauge).
    """

    def __init__(
        self,
        repository: ManyReader[L],
        *,
        interval: float = 0.25,
        max_waiters: int = 1000,
        on_waiters: Callable[[int], None] | None = None,
    ) -> None:
        self.repository = repository
        self.interval = interval
        self.max_waiters = max_waiters
        self.on_waiters = on_waiters or (lambda n: None)
        self._lock = threading.Lock()
        self._waiters: dict[str, list[_Waiter[L]]] = {}
        self._count = 0
        self._running = False

    @property
    def waiting(self) -> int:
        return self._count

    def wait(self, workflow_id: str, done: Callable[[L | None], bool], timeout: float) -> L | None | _TimedOut:
        """Block until ``done(lookup)`` holds for the workflow, or ``timeout`` seconds pass.

        Returns the lookup that satisfied ``done`` (a ``Versioned``, ``None``
        if the document is gone, or a ``CorruptDocument``), else
        :data:`TIMED_OUT`.  Raises :class:`TooManyWaiters` at the cap.
        Store errors during the wait are retried on the next tick; they never
        reach the waiter.
        """
        waiter: _Waiter[L] = _Waiter(done)
        with self._lock:
            if self._count >= self.max_waiters:
                raise TooManyWaiters(f"{self._count} waiters already")
            self._waiters.setdefault(workflow_id, []).append(waiter)
            self._count += 1
            self.on_waiters(self._count)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="status-watcher", daemon=True).start()
        try:
            return waiter.result if waiter.event.wait(timeout) else TIMED_OUT
        finally:
            with self._lock:
                waiters = self._waiters[workflow_id]
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[workflow_id]
                self._count -= 1
                self.on_waiters(self._count)

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    ids = list(self._waiters)
                    if not ids:
                        self._running = False
                        return
                self._tick(ids)
                time.sleep(self.interval)
        except BaseException:
            # Let the next waiter start a fresh watcher rather than wait in vain.
            log.exception("long-poll watcher stopped")
            with self._lock:
                self._running = False
            raise

    def _tick(self, ids: list[str]) -> None:
        lookups: Mapping[str, L | None]
        try:
            lookups = self.repository.get_many(ids)
        except IndexMissing:
            lookups = dict.fromkeys(ids)
        except StoreError as exc:
            log.warning("long-poll watcher could not read states: %s", exc)
            return
        with self._lock:
            for workflow_id, lookup in lookups.items():
                for waiter in self._waiters.get(workflow_id, ()):
                    if not waiter.event.is_set() and waiter.done(lookup):
                        waiter.result = lookup
                        waiter.event.set()
