"""Reading one workflow's status as a caller may, now or once it changes (long poll).

The read side of the status route: a realtime read by id, the plugin's
per-workflow access rules, and a wait on the shared watcher.  Every state it
returns has passed the access check for the caller, including a state that
arrives at the end of a long poll.
"""

from __future__ import annotations

from collections.abc import Callable

from flowstatus.domain.access import AccessPolicy, Caller
from flowstatus.repository.errors import CorruptDocument, DocumentMissing, IndexMissing
from flowstatus.repository.port import Lookup, StateRepository, Versioned
from flowstatus.services.long_poll import TIMED_OUT, StatusWatcher, TooManyWaiters


class WorkflowNotFound(Exception):
    """No state for the workflow.

    ``index_missing``: the state index itself is missing.  ``filtered``: the
    read took the plugin's access-filtered path, whose wording differs.
    """

    def __init__(self, workflow_id: str, *, index_missing: bool, filtered: bool) -> None:
        super().__init__(workflow_id)
        self.workflow_id = workflow_id
        self.index_missing = index_missing
        self.filtered = filtered


class AccessDenied(Exception):
    """The caller may not see this workflow; the message is the plugin's."""


class StatusReads:
    """Status reads on ``repository`` under ``policy``; long polls wait on ``watcher``."""

    def __init__(self, repository: StateRepository, policy: AccessPolicy, watcher: StatusWatcher) -> None:
        self.repository = repository
        self.policy = policy
        self.watcher = watcher

    def read(self, workflow_id: str, caller: Caller) -> Versioned:
        """The workflow's state now (a realtime read).

        Raises :class:`WorkflowNotFound`, :class:`AccessDenied`,
        :class:`~flowstatus.repository.errors.CorruptDocument` and the
        store's :class:`~flowstatus.repository.errors.StoreUnavailable`.
        """
        try:
            versioned = self.repository.get(workflow_id)
        except (DocumentMissing, IndexMissing) as exc:
            raise WorkflowNotFound(
                workflow_id, index_missing=isinstance(exc, IndexMissing), filtered=self.policy.filtered(caller)
            ) from None
        self._check(caller, versioned, workflow_id)
        return versioned

    def wait(
        self,
        workflow_id: str,
        caller: Caller,
        current: Versioned,
        settled: Callable[[Lookup], bool],
        timeout: float,
    ) -> Versioned:
        """Wait up to ``timeout`` seconds for ``settled(lookup)`` to hold, then return the state.

        ``current`` is returned when it already holds, when time runs out, or
        when the process is at its waiter cap (a long poll degrades to a plain
        poll, never to an error).  Raises as :meth:`read` does; a workflow that
        disappears while waited for is :class:`WorkflowNotFound`, and a state
        the caller may no longer see (deleted and created again by someone
        else, or moved to another tenant meanwhile) is :class:`AccessDenied`:
        the state returned is checked again, as a new read would be.
        """
        if settled(current) or timeout <= 0:
            return current
        try:
            found = self.watcher.wait(workflow_id, settled, timeout)
        except TooManyWaiters:
            return current
        if found is TIMED_OUT:
            return current
        if isinstance(found, CorruptDocument):
            raise found
        if found is None:
            raise WorkflowNotFound(workflow_id, index_missing=False, filtered=self.policy.filtered(caller))
        assert isinstance(found, Versioned)
        self._check(caller, found, workflow_id)
        return found

    def _check(self, caller: Caller, versioned: Versioned, workflow_id: str) -> None:
        refusal = self.policy.refusal(caller, versioned.state, workflow_id)
        if refusal:
            raise AccessDenied(refusal.message)
