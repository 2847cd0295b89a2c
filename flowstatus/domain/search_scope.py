"""Bound a caller's search of the state index to what the plugin lets them see.

Pure functions, no I/O.  :func:`restrict` takes a search body that has
already been loaded through the closed search schema
(:mod:`flowstatus.schemas.search`, which refuses everything it does not
describe) and whose cost has been checked (:mod:`flowstatus.domain.search_cost`),
and returns the body to run: the plugin's access filters added (backend
roles, tenant), the plugin's ``_source`` rule applied to the hits and to
every ``top_hits`` aggregation, ``version`` and ``seq_no_primary_term``
forced on.

The filters are added to ``query``, so aggregations (which run on the
query's result) and ``post_filter`` (which only narrows the hits) stay
inside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowstatus.domain.access import Caller

USER_FIELD = "user"
UI_METADATA_FIELD = "ui_metadata"
# The plugin shares its search handler with template search, hence this path.
CREDENTIAL_FIELD = "workflows.provision.nodes.user_inputs.credential"
BACKEND_ROLES_FIELD = "user.backend_roles.keyword"
TENANT_FIELD = "tenant_id"
AGG_CONTAINERS = ("aggs", "aggregations")

_ABSENT: Any = object()


class SearchRefused(ValueError):
    """The search asks for something flowstatus does not run; ``path`` names the part, ``why`` the reason.

    The message is ``[<path>] <why>``; neither part repeats a value the
    caller sent, only the keys of the body.
    """

    def __init__(self, why: str, path: str = "") -> None:
        super().__init__(f"[{path}] {why}" if path else why)
        self.why = why
        self.path = path


class MissingTenant(ValueError):
    """Multi-tenancy is on and the caller has no tenant."""


@dataclass(frozen=True)
class Scope:
    """What one caller may see.

    ``hide_user``: ``user`` cannot be searched, sorted or aggregated.
    ``user_out_of_source``: ``user`` is left out of ``_source`` when the
    request does not choose its own (``None``: as ``hide_user``).
    ``backend_roles``: only documents whose ``user`` shares one of these
    roles (``None``: no such filter).  ``tenant_id``: only this tenant's
    documents (``None``: no such filter).
    """

    hide_user: bool
    backend_roles: tuple[str, ...] | None = None
    tenant_id: str | None = None
    user_out_of_source: bool | None = None

    @property
    def source_hides_user(self) -> bool:
        return self.hide_user if self.user_out_of_source is None else self.user_out_of_source


def scope_for(caller: Caller, *, filter_by_backend_roles: bool, multi_tenancy: bool) -> Scope:
    """The plugin's rules for ``caller``.

    ``all_access`` callers, and every caller while access control is off,
    may search ``user`` and skip backend-role filtering; the tenant filter
    applies to everyone.  ``user`` is shown in a ``_source`` the request did
    not choose only to an authenticated ``all_access`` caller: as in the
    plugin, which counts a caller without a user (no security plugin) as no
    admin there.  Raises :class:`MissingTenant` with multi-tenancy on and no
    tenant (an empty tenant id is a tenant, as in the plugin).
    """
    if multi_tenancy and caller.tenant_id is None:
        raise MissingTenant("Tenant ID header is missing or has no value")
    return Scope(
        hide_user=not caller.is_admin,
        backend_roles=tuple(caller.backend_roles) if filter_by_backend_roles and not caller.is_admin else None,
        tenant_id=caller.tenant_id if multi_tenancy else None,
        user_out_of_source=caller.user is None or not caller.is_admin,
    )


def restrict(body: Mapping[str, Any], scope: Scope) -> dict[str, Any]:
    """The search to run for a caller whose validated body is ``body``; ``body`` is not modified.

    Adds the scope's filters to ``query``, applies the ``_source`` rule to
    the hits and to every ``top_hits``, and forces ``version`` and
    ``seq_no_primary_term`` as the plugin does.  Raises nothing: every
    refusal happened when the body was loaded.
    """
    restricted = dict(body)
    restricted["_source"] = source_filter(restricted.get("_source", _ABSENT), hide_user=scope.source_hides_user)
    for container in AGG_CONTAINERS:
        if container in restricted:
            restricted[container] = _with_top_hits_rule(restricted[container], scope.source_hides_user)
    query = restricted.get("query")
    if scope.backend_roles is not None:
        query = with_filter(query, backend_roles_clause(scope.backend_roles))
    if scope.tenant_id is not None:
        query = with_filter(query, {"term": {TENANT_FIELD: scope.tenant_id}})
    if query is not None:
        restricted["query"] = query
    restricted["version"] = True
    restricted["seq_no_primary_term"] = True
    return restricted


def source_filter(requested: Any = _ABSENT, *, hide_user: bool) -> bool | dict[str, list[str]]:
    """The plugin's ``_source`` rule, on a ``_source`` the search schema loaded.

    No ``_source`` in the request: exclude ``user`` when ``hide_user`` (and
    the credential path always).  A requested ``_source`` (``true``, a
    pattern, a list of patterns, or ``{"includes": [...], "excludes": [...]}``):
    its includes are kept and ``user``, ``ui_metadata`` and the credential
    path are added to its excludes, for every caller.  ``false`` stays
    ``false``.
    """
    if requested is _ABSENT:
        return {"includes": [], "excludes": [USER_FIELD, CREDENTIAL_FIELD] if hide_user else [CREDENTIAL_FIELD]}
    if requested is False:
        return False
    includes: list[str] = []
    excludes: list[str] = []
    if isinstance(requested, str):
        includes = [requested]
    elif isinstance(requested, list):
        includes = list(requested)
    elif isinstance(requested, Mapping):
        includes, excludes = list(requested.get("includes", [])), list(requested.get("excludes", []))
    added = [p for p in (USER_FIELD, UI_METADATA_FIELD, CREDENTIAL_FIELD) if p not in excludes]
    return {"includes": includes, "excludes": excludes + added}


def backend_roles_clause(roles: tuple[str, ...]) -> dict[str, Any]:
    """The plugin's filter: ``user`` shares one of ``roles`` (no roles: matches nothing)."""
    return {
        "nested": {
            "path": USER_FIELD,
            "query": {"terms": {BACKEND_ROLES_FIELD: list(roles)}},
            "score_mode": "none",
        }
    }


def with_filter(query: Any, clause: dict[str, Any]) -> dict[str, Any]:
    """``query`` restricted by ``clause``, wrapped as the plugin wraps it.

    No query: ``bool.must: [clause]``.  A ``bool``: ``clause`` appended to its
    ``filter``.  Anything else: ``bool{must: [query], filter: [clause]}``.
    One fix over the plugin: a ``bool`` of only ``should`` clauses gets
    ``minimum_should_match: 1``, because adding a filter would otherwise make
    its ``should`` clauses optional and change what the caller asked for.
    """
    if query is None:
        return {"bool": {"must": [clause]}}
    if isinstance(query, dict) and list(query) == ["bool"] and isinstance(query["bool"], dict):
        bool_query = dict(query["bool"])
        only_should = bool_query.get("should") and not bool_query.get("must") and not bool_query.get("filter")
        if only_should and "minimum_should_match" not in bool_query:
            bool_query["minimum_should_match"] = 1
        existing = bool_query.get("filter", [])
        bool_query["filter"] = [*(existing if isinstance(existing, list) else [existing]), clause]
        return {"bool": bool_query}
    return {"bool": {"must": [query], "filter": [clause]}}


def _with_top_hits_rule(container: Mapping[str, Any], hide_user: bool) -> dict[str, Any]:
    """A copy of ``container`` whose ``top_hits`` carry the hits' ``_source`` rule."""
    rebuilt: dict[str, Any] = {}
    for name, definition in container.items():
        copied = dict(definition)
        if "top_hits" in copied:
            top_hits = dict(copied["top_hits"])
            top_hits["_source"] = source_filter(top_hits.get("_source", _ABSENT), hide_user=hide_user)
            copied["top_hits"] = top_hits
        for key in AGG_CONTAINERS:
            if key in copied:
                copied[key] = _with_top_hits_rule(copied[key], hide_user)
        rebuilt[name] = copied
    return rebuilt
