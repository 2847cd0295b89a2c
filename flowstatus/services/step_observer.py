"""The step observer: notes when each step of a PROVISIONING workflow is first seen to end.

The plugin records no step times.  Once per ``interval`` the observer finds
the PROVISIONING workflows (one search of the state index, at most
``max_tracked`` of them, newest first), asks for their versions, together
with those it followed at its previous look (one realtime multi-get without
content), reads those that changed since it last read them (realtime
multi-gets of ``READ_CHUNK``) and, for every resource entry that appeared
since, writes a sighting into the workflow's step records in the companion
index (only then, and with optimistic concurrency).  A step's end is thus
known to lie between two looks.

One deployment runs one observer: every flowstatus process runs this loop,
but only the holder of a lease document in the companion index looks; the
others read the lease every quarter of its lifetime and take it over once it
expires (a write guarded by ``if_seq_no``).  The lease saves work, it does
not guard correctness: two processes that both believed they held it would
write the same sightings, and the first one written wins.

Steady cost for the holder, per interval: one search, one multi-get of
versions, and a multi-get per hundred workflows that changed, plus
one write per interval in which something was seen, plus a lease renewal
every half lifetime; for every other process, one lease read per quarter
lifetime.  ``make bench`` measures it (bench/steps.py).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from flowstatus.domain.model import State
from flowstatus.domain.step_observations import Lease, LeaseMove, Look, lease_decision, look
from flowstatus.domain.steps import Sighting, StepRecords
from flowstatus.repository.errors import IndexMissing, SearchIndexMissing, StoreError
from flowstatus.repository.port import Outcome, StateRepository, StateSearch, Versioned
from flowstatus.repository.step_port import PutRecords, StepStore
from flowstatus.services.step_events import read_states

log = logging.getLogger(__name__)

MAX_TRACKED = 1000
# Workflows read per multi-get: a look holds this many documents at a time, not all it tracks
# (a thousand workflows of a few dozen resources each are tens of MiB once loaded).
READ_CHUNK = 100
WRITE_ATTEMPTS = 3


def holder_name() -> str:
    """This process's name in the lease: host, pid and a random part (pids repeat across hosts and restarts)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class TickReport:
    """What one tick did: whether this process observes, how many workflows it followed and read, what it saw."""

    observing: bool
    workflows: int = 0  # followed
    read: int = 0  # of those, read in full: new to this process, or changed since its last look
    sightings: int = 0


class StepObserver:
    """Runs the loop of one process (see the module's description).

    ``interval`` is in seconds; the lease lives ``max(10 s, 5 intervals)``.
    ``clock`` gives epoch ms; :meth:`tick` may be called directly (tests do).
    """

    def __init__(self, states: StateRepository, search: StateSearch, steps: StepStore, *, interval: float = 1.0,
                 holder: str | None = None, max_tracked: int = MAX_TRACKED,
                 clock: Callable[[], int] | None = None) -> None:
        self.states = states
        self.search = search
        self.steps = steps
        self.interval = interval
        self.holder = holder or holder_name()
        self.max_tracked = max_tracked
        self.ttl = int(max(10.0, 5 * interval) * 1000)
        self.clock = clock or (lambda: time.time_ns() // 1_000_000)
        self._looks: dict[str, Look] = {}
        self._versions: dict[str, tuple[int, int]] = {}  # (primary term, seq_no) each look was read at
        self._unwritten: dict[str, tuple[int | None, tuple[Sighting, ...]]] = {}
        self._held_until = 0  # this process holds the lease until then (its own clock)
        self._next_check = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the loop ---------------------------------------------------------------

    def start(self) -> None:
        """Run the loop in a daemon thread (a greenlet under gevent); idempotent."""
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="step-observer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and give up the lease, so another process takes over at once."""
        with self._lock:
            thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout)
        if self._held_until > self.clock():
            try:
                self._release()
            except StoreError as exc:
                log.warning("the step observer could not give up its lease: %s", exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except StoreError as exc:
                log.warning("step observer: %s; trying again in %.1f s", exc, self.interval)
            except Exception:  # the loop must outlive any one failure; it is logged
                log.exception("step observer tick failed")
            self._stop.wait(self.interval)

    def tick(self) -> TickReport:
        """One look, if this process holds (or takes) the lease.

        Raises :class:`~flowstatus.repository.errors.StoreError` when
        OpenSearch fails; sightings not yet written are kept for the next tick.
        """
        now = self.clock()
        if not self._observing(now):
            self._looks.clear()
            self._versions.clear()
            return TickReport(observing=False)
        ids = list(dict.fromkeys([*self._provisioning(), *self._looks]))
        changed = self._changed(ids, now)
        seen = 0
        for start in range(0, len(changed), READ_CHUNK):
            seen += self._look_at(changed[start:start + READ_CHUNK], now)
        self._write()
        return TickReport(observing=True, workflows=len(ids), read=len(changed), sightings=seen)

    def _changed(self, ids: list[str], now: int) -> list[str]:
        """Those of ``ids`` this process never looked at or whose state changed since it last read them.

        One realtime multi-get of versions only: a state whose version is the
        one read at the previous look is unchanged, so its look moves to
        ``now`` without reading it (the entries it lacked, it still lacked).
        Ids that one multi-get reads whole are all read: one request either way.
        """
        if len(ids) <= READ_CHUNK:
            return ids
        try:
            versions = self.states.versions(ids)
        except IndexMissing:
            return ids
        changed = []
        for workflow_id in ids:
            last, version = self._looks.get(workflow_id), versions.get(workflow_id)
            if last is not None and version is not None and version == self._versions.get(workflow_id):
                self._looks[workflow_id] = replace(last, at=now)
            else:
                changed.append(workflow_id)
        return changed

    def _look_at(self, ids: list[str], now: int) -> int:
        """Read ``ids`` (one multi-get) and note what appeared since the last look; how many sightings."""
        lookups = read_states(self.states, ids)
        seen = 0
        for workflow_id in ids:
            found = lookups.get(workflow_id)
            if not isinstance(found, Versioned):
                self._forget(workflow_id)
                continue
            current, fresh = look(found.state, self._looks.get(workflow_id), now)
            if found.state.state == State.PROVISIONING.value:
                self._looks[workflow_id] = current
                self._versions[workflow_id] = (found.primary_term, found.seq_no)
            else:
                self._forget(workflow_id)  # its last look: it ended
            if fresh:
                run, earlier = self._unwritten.get(workflow_id, (current.run_start, ()))
                self._unwritten[workflow_id] = (current.run_start, (*earlier, *fresh) if run == current.run_start
                                                else fresh)
                seen += len(fresh)
        return seen

    def _forget(self, workflow_id: str) -> None:
        self._looks.pop(workflow_id, None)
        self._versions.pop(workflow_id, None)

    # -- the lease --------------------------------------------------------------

    def _observing(self, now: int) -> bool:
        if now < self._held_until - self.ttl // 2:
            return True  # held, and far from expiry: nothing to read or write
        if now < self._next_check and now >= self._held_until:
            return False  # another process holds it; look again later
        stored = self.steps.read_lease()
        current = stored.lease if stored else None
        move = lease_decision(current, self.holder, now, self.ttl)
        if move is LeaseMove.WAIT:
            self._held_until = 0
            self._next_check = now + self.ttl // 4
            return False
        if move is LeaseMove.KEEP:
            assert current is not None
            self._held_until = current.expires
            return True
        lease = Lease(self.holder, now + self.ttl)
        if not self.steps.write_lease(lease, stored.version if stored else None):
            self._held_until, self._next_check = 0, now + self.ttl // 4
            return False
        if move is LeaseMove.TAKE:
            log.info("step observer: %s observes (lease until %d)", self.holder, lease.expires)
        self._held_until = lease.expires
        return True

    def _release(self) -> None:
        stored = self.steps.read_lease()
        if stored is not None and stored.lease is not None and stored.lease.holder == self.holder:
            self.steps.write_lease(Lease(self.holder, self.clock()), stored.version)
        self._held_until = 0

    # -- looking and writing ---------------------------------------------------------

    def _provisioning(self) -> list[str]:
        """The ids of PROVISIONING workflows, newest first, at most ``max_tracked``."""
        body = {"size": self.max_tracked, "_source": False, "query": {"term": {"state": State.PROVISIONING.value}},
                "sort": [{"provision_start_time": {"order": "desc", "missing": "_first"}}]}
        try:
            response = self.search.search(body)
        except SearchIndexMissing:
            return []
        return [str(hit["_id"]) for hit in response.get("hits", {}).get("hits", [])]

    def _write(self) -> None:
        """Merge the sightings not yet written into the workflows' records (CAS, a few attempts)."""
        for _ in range(WRITE_ATTEMPTS):
            if not self._unwritten:
                return
            pending = dict(self._unwritten)
            stored = self.steps.get_many(pending)
            puts = []
            for workflow_id, (run, sightings) in pending.items():
                found = stored.get(workflow_id)
                held = (found.records if found and found.records else StepRecords(workflow_id, run)).for_run(run)
                merged = held.with_sightings(sightings)
                if found is not None and merged == found.records:
                    del self._unwritten[workflow_id]  # already known (written by an earlier holder)
                else:
                    puts.append(PutRecords(merged, found.version if found else None))
            for put, written in zip(puts, self.steps.write_many(puts), strict=True):
                if written.outcome is Outcome.DONE:
                    del self._unwritten[put.records.workflow_id]
                elif written.outcome is not Outcome.CONFLICT:
                    log.warning("step observer could not write the sightings of %s: %s",
                                put.records.workflow_id, written.error)
