"""Who is asking, and the plugin's rules for what they may see.

A :class:`Caller` is built per request by the authentication layer.  With
access control off there is no user, and the caller is treated as the
plugin treats a request when the security plugin is disabled: allowed
everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowstatus.model import User

ADMIN_ROLE = "all_access"


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


ANONYMOUS = Caller()
