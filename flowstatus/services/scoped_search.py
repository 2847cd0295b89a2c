"""Searching workflow states as a caller may: the one way flowstatus searches on someone's behalf.

The search API and the status page both go through :class:`ScopedSearch`, so
both show a caller exactly the same workflows, and every body they send is
loaded through the closed search schema, bounded in cost and restricted by
the access filters before OpenSearch sees it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flowstatus.domain.access import AccessPolicy, Caller
from flowstatus.domain.search_cost import check_cost
from flowstatus.domain.search_scope import restrict, scope_for
from flowstatus.repository.port import StateSearch
from flowstatus.schemas.search import load_search_body


class ScopedSearch:
    """Runs a caller's search body, restricted by ``policy``, on ``search``."""

    def __init__(self, search: StateSearch, policy: AccessPolicy) -> None:
        self.search = search
        self.policy = policy

    def prepare(self, body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
        """The body OpenSearch would receive for ``caller``'s ``body``: checked, rebuilt and restricted.

        Raises :class:`~flowstatus.domain.search_scope.MissingTenant` (multi-tenancy
        on, no tenant) and :class:`~flowstatus.domain.search_scope.SearchRefused`
        (a part the schema does not allow, or a cost over the ceilings).
        """
        scope = scope_for(
            caller,
            filter_by_backend_roles=self.policy.filter_by_backend_roles,
            multi_tenancy=self.policy.multi_tenancy,
        )
        loaded = load_search_body(body, hide_user=scope.hide_user)
        check_cost(loaded, now_ms=int(time.time() * 1000))
        return restrict(loaded, scope)

    def run(self, body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
        """The search response to ``body`` as ``caller`` may see it.

        Raises what :meth:`prepare` raises before anything is sent; then
        whatever :meth:`StateSearch.search` raises.
        """
        return self.search.search(self.prepare(body, caller))
