"""Searching workflow states as a caller may: the one way flowstatus searches on someone's behalf.

The search API and the status page both go through :class:`ScopedSearch`, so
both show a caller exactly the same workflows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowstatus.domain.access import AccessPolicy, Caller
from flowstatus.domain.search_scope import restrict, scope_for
from flowstatus.repository.port import StateSearch


class ScopedSearch:
    """Runs a caller's search body, restricted by ``policy``, on ``search``."""

    def __init__(self, search: StateSearch, policy: AccessPolicy) -> None:
        self.search = search
        self.policy = policy

    def run(self, body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
        """The search response to ``body`` as ``caller`` may see it.

        Raises :class:`~flowstatus.domain.search_scope.MissingTenant` (multi-tenancy
        on, no tenant) and :class:`~flowstatus.domain.search_scope.SearchRefused`
        (a part the access filters cannot bound) before anything is sent; then
        whatever :meth:`StateSearch.search` raises.
        """
        scope = scope_for(
            caller,
            filter_by_backend_roles=self.policy.filter_by_backend_roles,
            multi_tenancy=self.policy.multi_tenancy,
        )
        return self.search.search(restrict(body, scope))
