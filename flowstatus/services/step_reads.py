"""Reading a workflow's steps as a caller may, now or once they change (long poll).

A read is the status read (the same realtime read, access rules and
not-found answers as ``_status``), then the workflow's step records and its
template graph, one realtime multi-get each, and the pure derivation of
:mod:`flowstatus.domain.step_derivation`.  Its versions (state, records,
template) say whether two reads can differ: the API's ETag is made of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass

from flowstatus.domain.access import Caller
from flowstatus.domain.model import WorkflowState
from flowstatus.domain.step_derivation import derive
from flowstatus.domain.steps import WorkflowSteps
from flowstatus.repository.port import Lookup, StateRepository, Versioned
from flowstatus.repository.step_port import StepStore, TemplateStore, Version
from flowstatus.services.long_poll import TIMED_OUT, StatusWatcher, TooManyWaiters
from flowstatus.services.status_reads import StatusReads
from flowstatus.services.step_events import read_states


@dataclass(frozen=True)
class StepsRead:
    """A workflow's steps and the versions of the documents they come from (``None``: no such document)."""

    state: Versioned
    records: Version | None
    template: Version | None
    steps: WorkflowSteps


@dataclass(frozen=True)
class Probe:
    """What a long poll on steps watches: the state and the step records' version."""

    state: Lookup
    records: Version | None


class ProbeReader:
    """Reads :class:`Probe` values for the long-poll watcher: two multi-gets per tick for all waiters."""

    def __init__(self, states: StateRepository, steps: StepStore) -> None:
        self.states = states
        self.steps = steps

    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, Probe]:
        ids = list(workflow_ids)
        states, records = read_states(self.states, ids), self.steps.get_many(ids)
        return {i: Probe(states.get(i), (r.version if (r := records.get(i)) else None)) for i in ids}


class StepReads:
    """Step reads through ``status_reads`` (access, not-found), from ``steps`` and ``templates``."""

    def __init__(self, status_reads: StatusReads, steps: StepStore, templates: TemplateStore,
                 watcher: StatusWatcher[Probe]) -> None:
        self.status_reads = status_reads
        self.steps = steps
        self.templates = templates
        self.watcher = watcher

    def read(self, workflow_id: str, caller: Caller) -> StepsRead:
        """The workflow's steps now.

        Raises what :meth:`StatusReads.read <flowstatus.services.status_reads.StatusReads.read>`
        raises (the workflow unknown or not the caller's, its state corrupt,
        OpenSearch unavailable).
        """
        state = self.status_reads.read(workflow_id, caller)
        stored = self.steps.get_many([workflow_id]).get(workflow_id)
        template = self.templates.get_many([workflow_id]).get(workflow_id)
        return StepsRead(
            state=state,
            records=stored.version if stored else None,
            template=template.version if template else None,
            steps=derive(state.state, template.graph if template else None, stored.records if stored else None,
                         workflow_id=workflow_id),
        )

    def wait(self, workflow_id: str, caller: Caller, current: StepsRead, settled: Callable[[Probe | None], bool],
             timeout: float) -> StepsRead:
        """Wait up to ``timeout`` seconds for ``settled(probe)`` to hold, then read the steps again.

        ``current`` is returned when it already holds, when time runs out, or
        when the process is at its waiter cap.  Raises as :meth:`read` does.
        """
        if not settled(Probe(current.state, current.records)) and timeout > 0:
            with suppress(TooManyWaiters):
                if self.watcher.wait(workflow_id, settled, timeout) is not TIMED_OUT:
                    return self.read(workflow_id, caller)
        return current

    def overview(self, states: Mapping[str, WorkflowState]) -> dict[str, WorkflowSteps]:
        """The steps of several workflows the caller may already see (the status page's rows): two multi-gets."""
        if not states:
            return {}
        stored = self.steps.get_many(states)
        templates = self.templates.get_many(states)
        out = {}
        for workflow_id, state in states.items():
            records, template = stored.get(workflow_id), templates.get(workflow_id)
            out[workflow_id] = derive(state, template.graph if template else None,
                                      records.records if records else None, workflow_id=workflow_id)
        return out
