"""Status reads: a long poll checks access again on the state it is about to return."""

from __future__ import annotations

import threading
import time

import pytest

from flowstatus.domain.access import AccessPolicy, Caller
from flowstatus.domain.model import User, WorkflowState
from flowstatus.repository import Create, Delete, Lookup, Versioned
from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.services.long_poll import StatusWatcher
from flowstatus.services.status_reads import AccessDenied, StatusReads, WorkflowNotFound

BOB = User("bob", backend_roles=("team-b",), roles=("flow_framework_full_access",))
ADMIN = User("root", roles=("all_access",))
WID = "wf-swapped"


def reads(policy: AccessPolicy) -> tuple[InMemoryStateRepository, StatusReads]:
    repository = InMemoryStateRepository()
    repository.ensure_index()
    return repository, StatusReads(repository, policy, StatusWatcher(repository, interval=0.01))


def changed_from(current: Versioned):  # type: ignore[no-untyped-def]
    return lambda lookup: not isinstance(lookup, Versioned) or lookup.seq_no != current.seq_no


def wait_while(repository: InMemoryStateRepository, reads: StatusReads, caller: Caller, swap) -> object:  # type: ignore[no-untyped-def]
    """Long-poll as ``caller`` while ``swap(current)`` rewrites the workflow; what the poll returned or raised."""
    current = reads.read(WID, caller)
    outcome: dict[str, object] = {}

    def poll() -> None:
        try:
            outcome["result"] = reads.wait(WID, caller, current, changed_from(current), timeout=10)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcome["result"] = exc

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.05)
    swap(current)
    thread.join(timeout=10)
    return outcome["result"]


def recreate(repository: InMemoryStateRepository, current: Versioned, state: WorkflowState) -> None:
    """Delete and create again in one step (one lock), so no tick of the watcher sees the gap."""
    repository.write_many([Delete(WID, current.seq_no, current.primary_term), Create(WID, state)])


def test_a_workflow_recreated_by_another_owner_is_refused_to_the_waiting_poller() -> None:
    repository, status = reads(AccessPolicy(filter_by_backend_roles=True))
    repository.write(Create(WID, WorkflowState.fresh(WID, user=BOB)))
    admins = WorkflowState.fresh(WID, user=ADMIN)
    result = wait_while(repository, status, Caller(BOB), lambda current: recreate(repository, current, admins))
    assert isinstance(result, AccessDenied)
    assert str(result) == f"User does not have permissions to access workflow: {WID}"


def test_a_workflow_moved_to_another_tenant_is_refused_to_the_waiting_poller() -> None:
    repository, status = reads(AccessPolicy(multi_tenancy=True))
    repository.write(Create(WID, WorkflowState.fresh(WID, user=BOB, tenant_id="t1")))
    elsewhere = WorkflowState.fresh(WID, user=BOB, tenant_id="t2")
    result = wait_while(repository, status, Caller(BOB, "t1"), lambda current: recreate(repository, current, elsewhere))
    assert isinstance(result, AccessDenied)
    assert str(result) == "No permission to access this resource"


def test_a_change_the_caller_may_see_is_returned() -> None:
    repository, status = reads(AccessPolicy(filter_by_backend_roles=True))
    repository.write(Create(WID, WorkflowState.fresh(WID, user=BOB)))
    teammate = WorkflowState.fresh(WID, user=User("carol", backend_roles=("team-b",)))
    result = wait_while(repository, status, Caller(BOB), lambda current: recreate(repository, current, teammate))
    assert isinstance(result, Versioned) and result.state.user == teammate.user


@pytest.mark.parametrize(("policy", "filtered"), [(AccessPolicy(multi_tenancy=True), True), (AccessPolicy(), False)])
def test_a_workflow_deleted_while_waited_for_is_not_found_in_the_policys_words(
    policy: AccessPolicy, filtered: bool
) -> None:
    repository, status = reads(policy)
    repository.write(Create(WID, WorkflowState.fresh(WID, user=BOB, tenant_id="t1")))

    def delete(current: Lookup) -> None:
        assert isinstance(current, Versioned)
        repository.write(Delete(WID, current.seq_no, current.primary_term))

    result = wait_while(repository, status, Caller(BOB, "t1"), delete)
    assert isinstance(result, WorkflowNotFound)
    assert result.filtered is filtered
