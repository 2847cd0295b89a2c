"""Workflow steps: what a template says will run, what is known of each step, and how well.

Plain values, no I/O.  A workflow's steps come from two sources:

* **reported**: a provisioning engine sent step events (``step_started``,
  ``step_completed``, ``step_failed``), kept as :class:`ReportedStep`;
* **observed**: flowstatus read the plugin's documents, the template's
  ``provision`` graph (:class:`StepGraph`) and the state's
  ``resources_created``, and its observer noted when each resource was first
  seen (:class:`Sighting`).

Both are kept per run (:class:`StepRecords`, keyed by the run's
``provision_start_time``) in flowstatus's companion index, never in the
plugin's state document.  :mod:`flowstatus.domain.step_derivation` turns them
into :class:`Step` values.  Times are epoch milliseconds; a :class:`Moment`
says how a time is known and how precisely.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from flowstatus.domain.model import ResourceCreated


class StepState(str, enum.Enum):
    """What is known of a step (see docs/steps.md for each state's meaning)."""

    PENDING = "pending"  # not started, as far as anything shows
    RUNNING = "running"  # started, its end not known yet
    COMPLETED = "completed"  # ended well
    FAILED = "failed"  # ended in failure
    UNKNOWN = "unknown"  # nothing shows whether it ran or ended


class StepSource(str, enum.Enum):
    """Where a step's state comes from."""

    REPORTED = "reported"  # an engine's step events
    OBSERVED = "observed"  # the plugin's documents, as flowstatus read them
    UNKNOWN = "unknown"  # nothing


class Basis(str, enum.Enum):
    """How a time is known."""

    REPORTED = "reported"  # sent in a step event: exact, on the engine's clock
    FIRST_SEEN = "first_seen"  # flowstatus's observer first saw its effect: within its polling interval
    INFERRED = "inferred"  # bounded by other times (the graph, other steps, the workflow's start and end)


class Outcome(str, enum.Enum):
    """How a reported step ended."""

    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class Moment:
    """A time known to lie in ``[earliest, latest]`` (``None``: unbounded on that side)."""

    basis: Basis
    earliest: int | None = None
    latest: int | None = None

    @classmethod
    def exact(cls, basis: Basis, time: int) -> Moment:
        return cls(basis, time, time)

    @property
    def time(self) -> int | None:
        """The time itself when it is known exactly, else ``None``."""
        return self.earliest if self.earliest is not None and self.earliest == self.latest else None

    def at_most(self, bound: int | None) -> Moment:
        """This moment with ``latest`` lowered to ``bound`` (never below ``earliest``: clocks differ)."""
        if bound is None or (self.latest is not None and self.latest <= bound):
            return self
        latest = bound if self.earliest is None else max(bound, self.earliest)
        return replace(self, latest=latest)


@dataclass(frozen=True)
class StepNode:
    """One node of a template's ``provision`` graph.

    ``after`` names the nodes it waits for (edges and ``previous_node_inputs``);
    ``creates`` the ``workflow_step_name`` of each resource entry the plugin
    appends when it ends (empty for steps that create nothing, such as ``noop``).
    """

    id: str
    type: str
    after: tuple[str, ...] = ()
    creates: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepGraph:
    """A template's ``provision`` workflow: its nodes in template order."""

    nodes: tuple[StepNode, ...]


@dataclass(frozen=True)
class ReportedStep:
    """What an engine reported of one step in one run."""

    step_id: str
    step_type: str | None = None
    started: int | None = None
    ended: int | None = None
    outcome: Outcome | None = None
    error: str | None = None


@dataclass(frozen=True)
class Sighting:
    """The observer first saw a resource entry of a step at ``first_seen``;
    ``last_not_seen`` is its previous look that did not show it (``None``: no earlier look in this run)."""

    step_id: str
    step_name: str
    first_seen: int
    last_not_seen: int | None = None


@dataclass(frozen=True)
class StepRecords:
    """flowstatus's own records of one workflow's steps for the run started at ``run_start``."""

    workflow_id: str
    run_start: int | None = None
    reported: tuple[ReportedStep, ...] = ()
    sightings: tuple[Sighting, ...] = field(default=())

    def reported_step(self, step_id: str) -> ReportedStep | None:
        return next((r for r in self.reported if r.step_id == step_id), None)

    def with_reported(self, step: ReportedStep) -> StepRecords:
        """A copy with ``step`` replacing the report of the same step id, or appended."""
        if self.reported_step(step.step_id) is None:
            return replace(self, reported=(*self.reported, step))
        return replace(self, reported=tuple(step if r.step_id == step.step_id else r for r in self.reported))

    def with_sightings(self, new: tuple[Sighting, ...]) -> StepRecords:
        """A copy with the sightings of entries not sighted yet appended; earlier sightings win."""
        known = {(s.step_id, s.step_name) for s in self.sightings}
        fresh = tuple(s for s in new if (s.step_id, s.step_name) not in known)
        return replace(self, sightings=(*self.sightings, *fresh)) if fresh else self

    def for_run(self, run_start: int | None) -> StepRecords:
        """These records if they belong to the run started at ``run_start``, else empty ones for it."""
        return self if self.run_start == run_start else StepRecords(self.workflow_id, run_start)


@dataclass(frozen=True)
class Step:
    """One step as ``GET …/_steps`` shows it."""

    id: str
    type: str | None
    state: StepState
    source: StepSource
    depends_on: tuple[str, ...] | None = None  # None: no template says
    start: Moment | None = None
    end: Moment | None = None
    resources: tuple[ResourceCreated, ...] = ()
    error: str | None = None
    note: str | None = None

    def duration(self) -> tuple[int, int] | None:
        """The shortest and longest duration (ms) the start and end allow; ``None`` unless both are bounded."""
        if self.start is None or self.end is None:
            return None
        if None in (self.start.earliest, self.start.latest, self.end.earliest, self.end.latest):
            return None
        assert self.start.earliest is not None and self.start.latest is not None
        assert self.end.earliest is not None and self.end.latest is not None
        longest = max(0, self.end.latest - self.start.earliest)
        return min(longest, max(0, self.end.earliest - self.start.latest)), longest


@dataclass(frozen=True)
class WorkflowSteps:
    """Every step of one workflow, in order (``listed_from``: ``template`` or ``events``)."""

    workflow_id: str
    state: str | None
    provision_start_time: int | None
    provision_end_time: int | None
    listed_from: str
    steps: tuple[Step, ...]
    error: str | None = None

    @property
    def running(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.state is StepState.RUNNING)
