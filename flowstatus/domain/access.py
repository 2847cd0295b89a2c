"""Who is asking, and the plugin's rules for what they may see and do.

A :class:`Caller` is built per request by the authentication layer.  With
access control off there is no user, and the caller is treated as the plugin
treats a request when the security plugin is disabled: allowed everything.
The rules (:class:`AccessPolicy`) are the Flow Framework plugin's
``filter_by_backend_roles`` and multi-tenancy checks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flowstatus.domain.model import User, WorkflowState

ADMIN_ROLE = "all_access"
READ_ROLE = "flow_framework_read_access"
FULL_ROLE = "flow_framework_full_access"


class Permission(str, enum.Enum):
    PUBLIC = "public"  # no authentication (health probes, the API description)
    READ = "read"  # status, search, the status page, metrics
    WRITE = "write"  # recording events


ROLE_PERMISSIONS = {
    ADMIN_ROLE: {Permission.READ, Permission.WRITE},
    FULL_ROLE: {Permission.READ, Permission.WRITE},
    READ_ROLE: {Permission.READ},
}


@dataclass(frozen=True)
class Caller:
    """The requester: ``user`` is ``None`` when access control is off."""

    user: User | None = None
    tenant_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """``all_access`` bypasses backend-role filtering, as in the plugin; so does having no user."""
        return self.user is None or ADMIN_ROLE in self.user.roles

    @property
    def backend_roles(self) -> tuple[str, ...]:
        return self.user.backend_roles if self.user else ()

    def may(self, permission: Permission) -> bool:
        """Whether one of the caller's roles grants ``permission``."""
        if permission is Permission.PUBLIC or self.user is None:
            return True
        return any(permission in ROLE_PERMISSIONS.get(role, ()) for role in self.user.roles)


ANONYMOUS = Caller()


@dataclass(frozen=True)
class Refusal:
    """The caller may not touch the workflow; ``message`` is the plugin's wording."""

    message: str


@dataclass(frozen=True)
class AccessPolicy:
    """The plugin's per-workflow rules, switched by the two settings of the same names."""

    filter_by_backend_roles: bool = False
    multi_tenancy: bool = False

    def filtered(self, caller: Caller) -> bool:
        """Whether reads for ``caller`` take the plugin's "filtered" path (read the state, then check)."""
        return self.multi_tenancy or (self.filter_by_backend_roles and caller.user is not None)

    def refusal(self, caller: Caller, state: WorkflowState, workflow_id: str) -> Refusal | None:
        """Why ``caller`` may not touch this workflow, or ``None`` if they may.

        Tenant first, then backend roles; ``all_access`` (and no user at
        all) bypasses the backend-role check; a state with no stored user is
        refused to everyone else, as the plugin does since 3.5.
        """
        if self.multi_tenancy and state.tenant_id != caller.tenant_id:
            return Refusal("No permission to access this resource")
        if self.filter_by_backend_roles and not caller.is_admin:
            stored = set(state.user.backend_roles) if state.user else set()
            if not stored & set(caller.backend_roles):
                return Refusal(f"User does not have permissions to access workflow: {workflow_id}")
        return None


OPEN = AccessPolicy()  # neither backend-role filtering nor multi-tenancy
