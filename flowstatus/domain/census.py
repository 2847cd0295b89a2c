"""A census of the state index: how many workflows are where, how long provisioning took, why it failed.

Plain values, no I/O.  :mod:`flowstatus.services.workflow_census` takes a
census with one bounded search; :mod:`flowstatus.observability.workflow_collector`
turns it into Prometheus metrics.  Every mapping is keyed by a bounded set of
label values (see the constants below), never by a workflow id.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flowstatus.domain.model import ProvisioningProgress, State

# Upper bounds of the provisioning-duration buckets, in seconds (the last bucket, +Inf, is implicit):
# from a one-step workflow to a day-long reindex.
DURATION_BUCKETS: tuple[float, ...] = (
    1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400,
)
STATES = tuple(s.value for s in State)
PROGRESSES = tuple(p.value for p in ProvisioningProgress)
FINISHED = (State.COMPLETED.value, State.FAILED.value)
# The label of whatever is not counted under a label of its own (the rest of a top N, unknown values).
OTHER = "other"
# The error label of a FAILED workflow that stored no error.
NO_ERROR = "none"
# Longest label value taken from stored text (unknown states, error lines, tenant ids).
MAX_LABEL = 100


@dataclass(frozen=True)
class DurationHistogram:
    """Provisioning durations counted per bucket of :data:`DURATION_BUCKETS`.

    ``counts`` is per bucket, not cumulative: ``counts[i]`` holds durations
    in ``(DURATION_BUCKETS[i-1], DURATION_BUCKETS[i]]``; the last entry holds
    those above the last bound.
    """

    counts: tuple[int, ...] = (0,) * (len(DURATION_BUCKETS) + 1)
    total_seconds: float = 0.0

    @classmethod
    def of(cls, durations: Iterable[float]) -> DurationHistogram:
        """The histogram of ``durations`` (seconds, none negative)."""
        counts = [0] * (len(DURATION_BUCKETS) + 1)
        total = 0.0
        for seconds in durations:
            counts[bisect.bisect_left(DURATION_BUCKETS, seconds)] += 1
            total += seconds
        return cls(tuple(counts), total)

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper bound, durations at or below it)`` per bucket, ending with ``(inf, count)``."""
        running, rows = 0, []
        for bound, count in zip((*DURATION_BUCKETS, float("inf")), self.counts):
            running += count
            rows.append((float(bound), running))
        return rows


@dataclass(frozen=True)
class WorkflowCensus:
    """What the state index held at ``taken_at`` (epoch seconds).

    * ``by_state`` / ``by_progress``: workflows per ``state`` / ``provisioning_progress``;
      every known value is present (0 when none), plus at most a few unknown
      stored values, plus :data:`OTHER` for the rest (missing values included).
    * ``finished_last_hour``: workflows now COMPLETED or FAILED whose
      ``provision_end_time`` falls in the hour before ``taken_at``.
    * ``oldest_provisioning_start``: the earliest ``provision_start_time``
      (epoch seconds) of a workflow still PROVISIONING, ``None`` if there is none.
    * ``durations``: per finished state, the provisioning durations of the
      most recently finished workflows (a bounded sample; see the census service).
    * ``failed_by_error``: FAILED workflows per first line of their error, top
      N and :data:`OTHER`; sums to ``by_state["FAILED"]``.
    * ``by_tenant``: per tenant (top N and :data:`OTHER`), workflows per state;
      empty unless the breakdown is on.
    """

    taken_at: float
    by_state: Mapping[str, int] = field(default_factory=dict)
    by_progress: Mapping[str, int] = field(default_factory=dict)
    finished_last_hour: Mapping[str, int] = field(default_factory=dict)
    oldest_provisioning_start: float | None = None
    durations: Mapping[str, DurationHistogram] = field(default_factory=dict)
    failed_by_error: Mapping[str, int] = field(default_factory=dict)
    by_tenant: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @classmethod
    def empty(cls, taken_at: float) -> WorkflowCensus:
        """The census of an index that holds no workflow (or does not exist yet)."""
        return cls(
            taken_at,
            by_state=dict.fromkeys((*STATES, OTHER), 0),
            by_progress=dict.fromkeys((*PROGRESSES, OTHER), 0),
            finished_last_hour=dict.fromkeys(FINISHED, 0),
            durations={state: DurationHistogram() for state in FINISHED},
            failed_by_error={OTHER: 0},
        )

    def oldest_provisioning_age(self, now: float) -> float:
        """Seconds the oldest PROVISIONING workflow has been provisioning at ``now`` (0 if none)."""
        if self.oldest_provisioning_start is None:
            return 0.0
        return max(0.0, now - self.oldest_provisioning_start)
