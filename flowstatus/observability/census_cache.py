"""The last workflow census, taken at most once per interval by all the worker processes of a server.

A scrape asks :meth:`CensusCache.current`.  When the last attempt is older
than the interval, one caller takes the lock, checks again (another worker
may just have refreshed), takes a census and records it; everyone else
serves the recorded one.  So the state index is searched at most once per
interval, whatever the scrape rate and the number of workers.

With a directory (``PROMETHEUS_MULTIPROC_DIR`` under ``flowstatus serve``)
the record is a small JSON file there, replaced atomically, and the lock an
``fcntl`` lock on a file beside it, which the kernel releases if its holder
dies.  Without one, both live in the process.

A failed census keeps the last good one and marks the record stale; the
next attempt waits for the interval like any other, so an unreachable
OpenSearch is not asked once per scrape either.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson
from marshmallow import ValidationError

from flowstatus.domain.census import WorkflowCensus
from flowstatus.schemas.census import CENSUS_RECORD

log = logging.getLogger(__name__)

FILE_NAME = "workflow-metrics.json"
LOCK_NAME = "workflow-metrics.lock"
LOCK_POLL_SECONDS = 0.05


def _pause(seconds: float) -> None:
    # time.sleep looked up at each call, not bound at import: gevent may patch it after this
    # module is imported, and an unpatched sleep would stop the very greenlet holding the lock.
    time.sleep(seconds)


@dataclass(frozen=True)
class CensusRecord:
    """When a census was last attempted (epoch seconds), whether that failed, and the last census taken."""

    attempted_at: float
    stale: bool
    census: WorkflowCensus | None


class _Slot(Protocol):
    def read(self) -> CensusRecord | None: ...

    def write(self, record: CensusRecord) -> None: ...

    def locked(self, timeout: float) -> contextlib.AbstractContextManager[bool]: ...


class _ProcessSlot:
    """The record and the lock of one process."""

    def __init__(self) -> None:
        self._record: CensusRecord | None = None
        self._lock = threading.Lock()

    def read(self) -> CensusRecord | None:
        return self._record

    def write(self, record: CensusRecord) -> None:
        self._record = record

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[bool]:
        acquired = self._lock.acquire(timeout=timeout)
        try:
            yield acquired
        finally:
            if acquired:
                self._lock.release()


class _FileSlot:
    """The record and the lock shared by the processes that share ``directory``."""

    def __init__(self, directory: str, sleep: Callable[[float], None]) -> None:
        self.path = Path(directory) / FILE_NAME
        self.lock_path = Path(directory) / LOCK_NAME
        self._sleep = sleep

    def read(self) -> CensusRecord | None:
        """The record, or ``None`` when there is none or it does not load (never trusted half-read)."""
        try:
            loaded = CENSUS_RECORD.load(orjson.loads(self.path.read_bytes()))
        except (OSError, orjson.JSONDecodeError, ValidationError):
            return None
        return CensusRecord(**loaded)

    def write(self, record: CensusRecord) -> None:
        """Replace the record atomically: readers see the old one or the new one, never a mix."""
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_bytes(orjson.dumps(CENSUS_RECORD.dump(record)))
        os.replace(temporary, self.path)

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[bool]:
        # Polled, not a blocking flock: under gevent a blocking call would stall every
        # request of the worker, where this sleep yields to them.
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            acquired = self._acquire(fd, timeout)
            try:
                yield acquired
            finally:
                if acquired:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _acquire(self, fd: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                self._sleep(LOCK_POLL_SECONDS)


class CensusCache:
    """Serves the last census, taking a new one with ``take`` at most once per ``interval`` seconds.

    ``take`` returns ``None`` when the census failed (and may raise: that
    counts as a failure too, logged with its traceback).  ``directory``
    shares the record between processes; ``None`` keeps it in this process.
    ``wait`` bounds how long a caller waits for another one's census before
    serving the record as it is.  :meth:`current` never raises.
    """

    def __init__(
        self,
        take: Callable[[], WorkflowCensus | None],
        *,
        interval: float,
        directory: str | None = None,
        wait: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = _pause,
    ) -> None:
        self._take = take
        self.interval = interval
        self.wait = wait
        self._clock = clock
        self._slot: _Slot = _ProcessSlot() if directory is None else _FileSlot(directory, sleep)

    def current(self) -> CensusRecord | None:
        """The record to serve now (``None`` only if no census was ever attempted in time)."""
        record = self._slot.read()
        if not self._due(record):
            return record
        with self._slot.locked(self.wait) as acquired:
            record = self._slot.read()
            if not acquired or not self._due(record):
                return record
            record = self._refresh(record)
            try:
                self._slot.write(record)
            except OSError as exc:
                log.warning("workflow metrics not recorded for the other workers: %s", exc)
            return record

    def _due(self, record: CensusRecord | None) -> bool:
        if record is None:
            return True
        now = self._clock()
        # A record from the future (the clock was set back) is due too, or it would never be.
        return not record.attempted_at <= now < record.attempted_at + self.interval

    def _refresh(self, previous: CensusRecord | None) -> CensusRecord:
        try:
            census = self._take()
        except Exception:
            log.exception("workflow metrics not refreshed")
            census = None
        # The interval runs from the end of the attempt: a slow one does not shorten the next pause.
        now = self._clock()
        if census is None:
            return CensusRecord(now, True, previous.census if previous else None)
        return CensusRecord(now, False, census)
