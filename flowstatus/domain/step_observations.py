"""What the step observer notes between two looks at a workflow, as pure functions.

The observer looks at every PROVISIONING workflow once per interval.  Each
resource entry it sees for the first time in a run becomes a
:class:`~flowstatus.domain.steps.Sighting`: first seen now, not seen at the
previous look (if there was one in this run).  A step's end therefore lies
between the two looks; that window is its precision.

Which process observes is decided by a lease (:func:`lease_decision`): one
document every process may take over once it expires, written with
optimistic concurrency, so one deployment has one observer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flowstatus.domain.model import WorkflowState
from flowstatus.domain.steps import Sighting


@dataclass(frozen=True)
class Look:
    """What one look at a workflow showed: its run, when, and the resource entries present."""

    run_start: int | None
    at: int
    entries: frozenset[tuple[str, str]]  # (workflow_step_id, workflow_step_name)


def look(state: WorkflowState, previous: Look | None, now: int) -> tuple[Look, tuple[Sighting, ...]]:
    """This look at ``state`` and the entries it shows that ``previous`` (of the same run) did not.

    A look of another run counts as no previous look: its entries were
    cleared when the run started.
    """
    run = state.provision_start_time
    entries = [(r.workflow_step_id, r.workflow_step_name) for r in state.resources_created]
    before = previous if previous is not None and previous.run_start == run else None
    known = before.entries if before else frozenset()
    fresh: list[Sighting] = []
    for entry in dict.fromkeys(entries):
        if entry not in known:
            fresh.append(Sighting(entry[0], entry[1], now, before.at if before else None))
    return Look(run, now, frozenset(entries)), tuple(fresh)


@dataclass(frozen=True)
class Lease:
    """Who observes, until when (epoch ms, the holder's clock)."""

    holder: str
    expires: int


class LeaseMove(enum.Enum):
    KEEP = "keep"  # held by this process, far from expiry: nothing to write
    RENEW = "renew"  # held by this process, write a later expiry
    TAKE = "take"  # free or expired: try to take it
    WAIT = "wait"  # another process holds it


def lease_decision(current: Lease | None, holder: str, now: int, ttl: int) -> LeaseMove:
    """What ``holder`` should do about the lease at ``now``; a lease is renewed once half its ``ttl`` has passed."""
    if current is None or current.expires <= now:
        return LeaseMove.TAKE
    if current.holder != holder:
        return LeaseMove.WAIT
    return LeaseMove.RENEW if current.expires - now < ttl // 2 else LeaseMove.KEEP
