"""What became of an event: applied with a :class:`Result`, or not applied for a :class:`Rejection`.

Plain values.  How a rejection reads on the wire (the bulk response's status
and error type) is decided by :mod:`flowstatus.schemas.bulk`, not here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flowstatus.domain.events import Event


class Result(str, enum.Enum):
    """An applied event's effect on the stored document."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    NOOP = "noop"  # already recorded: nothing was written


class Rejection(str, enum.Enum):
    """Why an event was not applied; nothing was written for it."""

    NOT_FOUND = "not_found"  # no state for the workflow
    ILLEGAL_TRANSITION = "illegal_transition"  # the current state does not allow it
    FORBIDDEN = "forbidden"  # the caller may not touch this workflow
    CONFLICT = "conflict"  # other writers kept winning until the retries ran out
    CORRUPT = "corrupt"  # the stored document is not in the plugin's format
    UNAVAILABLE = "unavailable"  # the store could not take the write now: re-send later
    STORE_FAILED = "store_failed"  # the store refused the write for another reason
    TOO_MANY_NESTED = "too_many_nested"  # the document would pass the index's nested-objects limit
    TOO_MANY_STEPS = "too_many_steps"  # a workflow's run would hold more reported steps than flowstatus keeps


@dataclass(frozen=True)
class EventResult:
    """The outcome of one event: applied (``result``, and the document's version
    after it) or not applied (``rejection`` and the ``reason`` in words)."""

    event: Event
    result: Result | None = None
    seq_no: int | None = None
    primary_term: int | None = None
    rejection: Rejection | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.rejection is None


@dataclass(frozen=True)
class LineOutcome:
    """What became of one line: ``result`` if it parsed, else ``parse_error``."""

    line: int
    result: EventResult | None = None
    parse_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok
