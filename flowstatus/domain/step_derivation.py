"""From a workflow's documents to its steps: which ran, which runs, when, and how well that is known.

:func:`derive` is pure: the same state, template graph and records always
give the same steps (no clock is read), so an answer built from them can
carry an ETag of their versions.

What each piece of evidence means (the plugin's behaviour, 2.12 on):

* the plugin runs a step once every step it depends on has ended, and ends
  provisioning when all have (COMPLETED) or when one failed (FAILED, with an
  error ``… during step <id>, …``);
* a step that creates a resource appends it to ``resources_created`` as it
  ends; a ``noop`` step (or any step that creates nothing) leaves no trace, so
  its end is known only from a step that depends on it, or the workflow's end;
* after a failure, steps on other branches may go on and append resources.

Steps reported by an engine keep their reported state and times; what is not
reported is filled in from the documents, and every time says how it is known
(:class:`~flowstatus.domain.steps.Basis`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flowstatus.domain.model import ResourceCreated, State, WorkflowState
from flowstatus.domain.step_graph import descendants, followers_of, ordered
from flowstatus.domain.steps import (
    Basis,
    Moment,
    Outcome,
    ReportedStep,
    Sighting,
    Step,
    StepGraph,
    StepRecords,
    StepSource,
    StepState,
    WorkflowSteps,
)

QUIET = "creates no resource: its end shows only once a step that depends on it is seen started or done, " \
        "or the workflow ends"


def failed_step(error: str | None, step_ids: Iterable[str]) -> str | None:
    """The step the plugin's error names (``… during step <id>, …``), among ``step_ids``; the longest match wins."""
    if not error:
        return None
    named = [step_id for step_id in step_ids if f" during step {step_id}," in error]
    return max(named, key=len) if named else None


@dataclass
class _Judged:
    state: StepState
    source: StepSource
    note: str | None = None


class _Derivation:
    """The evidence of one workflow, and the steps it supports."""

    def __init__(self, state: WorkflowState, graph: StepGraph | None, records: StepRecords) -> None:
        self.state = state
        self.graph = graph
        self.records = records
        self.nodes = {n.id: n for n in graph.nodes} if graph else {}
        self.reported = {r.step_id: r for r in records.reported}
        self.resources: dict[str, list[ResourceCreated]] = {}
        for resource in state.resources_created:
            self.resources.setdefault(resource.workflow_step_id, []).append(resource)
        order = [n.id for n in ordered(graph)] if graph else []
        extra = [r.step_id for r in records.reported if r.step_id not in self.nodes]
        extra += [sid for sid in self.resources if sid not in self.nodes and sid not in self.reported]
        self.order = order + extra
        self.start_time = state.provision_start_time if state.state in _RAN else None
        self.end_time = state.provision_end_time if state.state in _ENDED else None
        self.failed_id = failed_step(state.error, self.order) if state.state == State.FAILED.value else None
        self.followers = followers_of(graph) if graph else {}
        self.started = {sid for sid in self.order if self._evidently_started(sid)}
        self.blocked = self._blocked()

    # -- evidence ---------------------------------------------------------------

    def _creates(self, step_id: str) -> tuple[str, ...]:
        node = self.nodes.get(step_id)
        return node.creates if node else ()

    def resources_done(self, step_id: str) -> bool:
        """Every resource the step creates is recorded (any, for a step the template does not describe)."""
        names = {r.workflow_step_name for r in self.resources.get(step_id, ())}
        creates = self._creates(step_id)
        return bool(names) and (not creates or set(creates) <= names)

    def _evidently_started(self, step_id: str) -> bool:
        report = self.reported.get(step_id)
        reported = report is not None and (report.started is not None or report.outcome is not None)
        return reported or self.resources_done(step_id) or step_id == self.failed_id

    def _blocked(self) -> dict[str, str]:
        """Steps that can never start because a step they depend on failed, and which one."""
        if self.graph is None:
            return {}
        failed = [sid for sid in self.order if sid == self.failed_id or _outcome(self.reported.get(sid)) is Outcome.FAILED]
        return {d: sid for sid in reversed(failed) for d in descendants(self.followers, sid)}

    # -- states -------------------------------------------------------------------

    def judge(self, step_id: str, judged: dict[str, _Judged]) -> _Judged:
        report = self.reported.get(step_id)
        source = StepSource.REPORTED if report else StepSource.OBSERVED
        node = self.nodes.get(step_id)
        workflow = self.state.state
        if report is not None and report.outcome is not None:
            failed = report.outcome is Outcome.FAILED
            return _Judged(StepState.FAILED if failed else StepState.COMPLETED, source)
        if step_id == self.failed_id:
            return _Judged(StepState.FAILED, source, "named by the workflow's error")
        if self.resources_done(step_id):
            return _Judged(StepState.COMPLETED, source)
        if node is not None and descendants(self.followers, step_id) & self.started:
            return _Judged(StepState.COMPLETED, source, "a step that depends on it started")
        if node is not None and workflow == State.COMPLETED.value:
            return _Judged(StepState.COMPLETED, source, "the workflow completed, so every step of its template did")
        if workflow == State.PROVISIONING.value:
            if report is not None and report.started is not None:
                return _Judged(StepState.RUNNING, source)
            if node is not None and all(judged.get(a, _PENDING).state is StepState.COMPLETED
                                       for a in node.after if a in self.nodes):
                return _Judged(StepState.RUNNING, source, None if node.creates else QUIET)
            return _Judged(StepState.PENDING, source)
        if workflow == State.NOT_STARTED.value:
            return _Judged(StepState.PENDING, source)
        if step_id in self.blocked:
            return _Judged(StepState.PENDING, source, f"never started: {self.blocked[step_id]} failed")
        if report is None:
            return _Judged(StepState.UNKNOWN, StepSource.UNKNOWN, _UNSEEN.get(str(workflow)))
        return _Judged(StepState.UNKNOWN, source, "its end was not reported")

    # -- times ----------------------------------------------------------------------

    def start_of(self, step_id: str, judged: _Judged, ends: dict[str, Moment]) -> Moment | None:
        report = self.reported.get(step_id)
        if report is not None and report.started is not None:
            return Moment.exact(Basis.REPORTED, report.started)
        if judged.state not in _BEGUN or self.start_time is None:
            return None
        node = self.nodes.get(step_id)
        if node is None:
            return Moment(Basis.INFERRED, self.start_time)
        before = [ends.get(a) for a in node.after if a in self.nodes]
        if not before:
            return Moment.exact(Basis.INFERRED, self.start_time)  # the plugin starts it as provisioning starts
        if any(m is None for m in before):
            return Moment(Basis.INFERRED, self.start_time)
        return Moment(Basis.INFERRED, _latest_of(m.earliest for m in before if m) or self.start_time,
                      _latest_of((m.latest for m in before if m), strict=True))

    def end_of(self, step_id: str, judged: _Judged, start: Moment | None) -> Moment | None:
        if judged.state not in (StepState.COMPLETED, StepState.FAILED):
            return None
        report = self.reported.get(step_id)
        if report is not None and report.ended is not None:
            return Moment.exact(Basis.REPORTED, report.ended)
        floor = start.earliest if start else self.start_time
        if judged.state is StepState.COMPLETED and self.resources_done(step_id):
            seen = self._last_sighting(step_id)
            if seen is not None:
                earliest = floor if seen.last_not_seen is None else max(seen.last_not_seen, floor or seen.last_not_seen)
                moment = Moment(Basis.FIRST_SEEN, earliest, seen.first_seen)
                return moment.at_most(self.end_time if self.state.state == State.COMPLETED.value else None)
        return Moment(Basis.INFERRED, floor, self.end_time)

    def _last_sighting(self, step_id: str) -> Sighting | None:
        """The sighting of the step's last resource entry, if every entry was sighted."""
        names = {r.workflow_step_name for r in self.resources.get(step_id, ())}
        seen = [s for s in self.records.sightings if s.step_id == step_id and s.step_name in names]
        if len({s.step_name for s in seen}) < len(names):
            return None
        return max(seen, key=lambda s: s.first_seen)

    def tightened(self, ends: dict[str, Moment], starts: dict[str, Moment | None]) -> None:
        """Lower each inferred end to the earliest time a step that depends on it is known to have started or ended."""
        for step_id in reversed(self.order):
            end = ends.get(step_id)
            if end is None or end.basis is not Basis.INFERRED:
                continue
            bounds: list[int] = []
            for follower in self.followers.get(step_id, ()):
                for moment in (starts.get(follower), ends.get(follower)):  # a step starts before it ends
                    if moment is not None and moment.latest is not None:
                        bounds.append(moment.latest)
            if bounds:
                ends[step_id] = end.at_most(min(bounds))

    def steps(self) -> tuple[Step, ...]:
        judged: dict[str, _Judged] = {}
        for step_id in self.order:
            judged[step_id] = self.judge(step_id, judged)
        starts: dict[str, Moment | None] = {}
        ends: dict[str, Moment] = {}
        for step_id in self.order:
            starts[step_id] = self.start_of(step_id, judged[step_id], ends)
            end = self.end_of(step_id, judged[step_id], starts[step_id])
            if end is not None:
                ends[step_id] = end
        self.tightened(ends, starts)
        for step_id in self.order:  # starts again, from the tightened ends; never after the step's own end
            start = self.start_of(step_id, judged[step_id], ends)
            end = ends.get(step_id)
            if start is not None and start.basis is Basis.INFERRED and end is not None:
                start = start.at_most(end.latest)
            starts[step_id] = start
        return tuple(self._step(step_id, judged[step_id], starts[step_id], ends.get(step_id)) for step_id in self.order)

    def _step(self, step_id: str, judged: _Judged, start: Moment | None, end: Moment | None) -> Step:
        node = self.nodes.get(step_id)
        report = self.reported.get(step_id)
        resources = tuple(self.resources.get(step_id, ()))
        kind = node.type if node else (report.step_type if report and report.step_type else None)
        if kind is None and resources:
            kind = resources[0].workflow_step_name
        error = None
        if judged.state is StepState.FAILED:
            error = report.error if report is not None and report.outcome is Outcome.FAILED else self.state.error
        return Step(
            id=step_id, type=kind, state=judged.state, source=judged.source,
            depends_on=tuple(a for a in node.after if a in self.nodes) if node else None,
            start=start, end=end, resources=resources, error=error, note=judged.note,
        )


_RAN = frozenset({State.PROVISIONING.value, State.COMPLETED.value, State.FAILED.value})
_ENDED = frozenset({State.COMPLETED.value, State.FAILED.value})
_BEGUN = frozenset({StepState.RUNNING, StepState.COMPLETED, StepState.FAILED})
_PENDING = _Judged(StepState.PENDING, StepSource.OBSERVED)
_UNSEEN = {
    State.FAILED.value: "the workflow failed before this step was seen to end",
    State.COMPLETED.value: "nothing shows this step ended",
}


def _outcome(report: ReportedStep | None) -> Outcome | None:
    return report.outcome if report else None


def _latest_of(values: Iterable[int | None], *, strict: bool = False) -> int | None:
    """The largest value; ``None`` if there is none, or, with ``strict``, if any is ``None``."""
    found = list(values)
    if strict and any(v is None for v in found):
        return None
    present = [v for v in found if v is not None]
    return max(present) if present else None


def derive(state: WorkflowState, graph: StepGraph | None, records: StepRecords | None,
           workflow_id: str | None = None) -> WorkflowSteps:
    """Every step of the workflow: the template's in dependency order, then steps known only from
    reports or resources.  ``records`` of another run than the state's are ignored."""
    wid = workflow_id or state.workflow_id or ""
    run = state.provision_start_time
    current = (records or StepRecords(wid, run)).for_run(run)
    derivation = _Derivation(state, graph, current)
    return WorkflowSteps(
        workflow_id=wid,
        state=state.state,
        provision_start_time=state.provision_start_time,
        provision_end_time=state.provision_end_time,
        listed_from="template" if graph is not None else "events",
        steps=derivation.steps(),
        error=state.error,
    )

