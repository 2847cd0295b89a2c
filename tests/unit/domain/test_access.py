"""The plugin's access rules: roles, backend-role filtering, tenants."""

from __future__ import annotations

import pytest

from flowstatus.domain.access import ANONYMOUS, AccessPolicy, Caller, Permission
from flowstatus.domain.model import User, WorkflowState

ALICE = User("alice", ("team-a",), ("flow_framework_read_access",))
WRITER = User("writer", ("team-a", "team-c"), ("flow_framework_full_access",))
ADMIN = User("admin", (), ("all_access",))
STRANGER = User("stranger", ("team-a",), ("unrelated",))


def state(user: User | None = ALICE, tenant: str | None = "t1") -> WorkflowState:
    return WorkflowState.fresh("wf", user=user, tenant_id=tenant)


@pytest.mark.parametrize(("user", "read", "write"), [
    (ALICE, True, False), (WRITER, True, True), (ADMIN, True, True), (STRANGER, False, False), (None, True, True),
])
def test_roles_grant_permissions(user: User | None, read: bool, write: bool) -> None:
    caller = Caller(user)
    assert caller.may(Permission.PUBLIC)
    assert (caller.may(Permission.READ), caller.may(Permission.WRITE)) == (read, write)


def test_with_no_rule_on_everyone_may_touch_everything() -> None:
    policy = AccessPolicy()
    assert policy.refusal(Caller(STRANGER), state(ADMIN), "wf") is None
    assert not policy.filtered(Caller(ALICE))


def test_backend_roles_must_intersect_unless_all_access() -> None:
    policy = AccessPolicy(filter_by_backend_roles=True)
    assert policy.refusal(Caller(WRITER), state(ALICE), "wf") is None
    refusal = policy.refusal(Caller(User("bob", ("team-b",))), state(ALICE), "wf")
    assert refusal is not None and refusal.message == "User does not have permissions to access workflow: wf"
    assert policy.refusal(Caller(ADMIN), state(ALICE), "wf") is None
    assert policy.refusal(ANONYMOUS, state(ALICE), "wf") is None


def test_a_state_without_a_stored_user_is_refused_to_filtered_callers() -> None:
    policy = AccessPolicy(filter_by_backend_roles=True)
    assert policy.refusal(Caller(ALICE), state(user=None), "wf") is not None
    assert policy.refusal(Caller(ADMIN), state(user=None), "wf") is None


def test_tenants_must_match_for_everyone() -> None:
    policy = AccessPolicy(multi_tenancy=True)
    assert policy.refusal(Caller(ALICE, "t1"), state(), "wf") is None
    for caller in (Caller(ALICE, "t2"), Caller(ADMIN, "t2"), Caller(ALICE, None)):
        refusal = policy.refusal(caller, state(), "wf")
        assert refusal is not None and refusal.message == "No permission to access this resource"


def test_the_tenant_is_checked_before_backend_roles() -> None:
    policy = AccessPolicy(filter_by_backend_roles=True, multi_tenancy=True)
    refusal = policy.refusal(Caller(User("bob", ("team-b",)), "t2"), state(), "wf")
    assert refusal is not None and refusal.message == "No permission to access this resource"


@pytest.mark.parametrize(("policy", "caller", "filtered"), [
    (AccessPolicy(multi_tenancy=True), ANONYMOUS, True),
    (AccessPolicy(filter_by_backend_roles=True), Caller(ALICE), True),
    (AccessPolicy(filter_by_backend_roles=True), ANONYMOUS, False),
    (AccessPolicy(), Caller(ALICE), False),
])
def test_which_reads_take_the_plugins_filtered_path(policy: AccessPolicy, caller: Caller, filtered: bool) -> None:
    assert policy.filtered(caller) is filtered
