"""Bound a caller's search of the state index to what the plugin lets them see.

Pure functions, no I/O.  :func:`restrict` takes the search body a caller
sent and returns the body to run: the plugin's access filters added
(backend roles, tenant), the plugin's ``_source`` rule applied, and every
part of the search DSL that could reach past those filters refused.

The filters are added to ``query``, so aggregations (which run on the
query's result) and ``post_filter`` (which only narrows the hits) stay
inside them.  What is refused, and why:

* top-level keys other than :data:`ALLOWED_KEYS`: ``stored_fields``,
  ``docvalue_fields``, ``fields``, ``script_fields`` and ``highlight`` read
  values outside the ``_source`` filter; ``suggest`` reads the whole index's
  terms; ``collapse`` returns inner hits with their own ``_source``; ``pit``
  and ``slice`` search a point in time that may be of another index; the
  rest (``rescore``, ``explain``, ``profile``, ``ext``, ...) are not needed
  to read workflow states and are refused rather than reviewed;
* ``global``, ``significant_terms`` and ``significant_text`` aggregations,
  which look at the whole index; ``terms``/``multi_terms`` with
  ``min_doc_count: 0``, which list values of documents outside the query;
* scripts on documents (``script``, ``script_score``, ``_script`` sorts,
  ``scripted_metric``, ...), which can read ``params._source``;
  ``bucket_script``, ``bucket_selector`` and ``moving_fn`` stay allowed:
  their scripts see only bucket values;
* ``wrapper`` (a query hidden in base64), terms lookups, ``more_like_this``,
  ``percolate`` and ``indexed_shape``, which read other documents by id;
* ``inner_hits``, which returns nested objects past the ``_source`` filter;
* for callers from whom ``user`` is hidden: any ``nested`` path, sort or
  field naming ``user``, which would reveal it through matches, sort
  values or aggregations.

``top_hits`` aggregations are neutralised instead: they get the same
``_source`` rule as the hits, and only ``from``, ``size``, ``sort``,
``_source`` and ``track_scores``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flowstatus.domain.access import Caller

USER_FIELD = "user"
UI_METADATA_FIELD = "ui_metadata"
# The plugin shares its search handler with template search, hence this path.
CREDENTIAL_FIELD = "workflows.provision.nodes.user_inputs.credential"
BACKEND_ROLES_FIELD = "user.backend_roles.keyword"
TENANT_FIELD = "tenant_id"

# Deeper bodies are refused before any walk: OpenSearch caps bool nesting at
# 20, and orjson cannot re-encode past 255 levels.
MAX_DEPTH = 64

ALLOWED_KEYS = frozenset(
    {
        "query", "post_filter", "aggs", "aggregations", "sort", "from", "size", "search_after",
        "track_total_hits", "track_scores", "_source", "timeout", "terminate_after", "min_score",
        "version", "seq_no_primary_term",
    }
)

_OUTSIDE_SOURCE = "returns field values outside the _source filter"
TOP_LEVEL_REASONS = {
    "stored_fields": _OUTSIDE_SOURCE,
    "docvalue_fields": _OUTSIDE_SOURCE,
    "fields": _OUTSIDE_SOURCE,
    "script_fields": _OUTSIDE_SOURCE,
    "highlight": _OUTSIDE_SOURCE,
    "suggest": "suggesters read the terms of the whole index, not only the workflows you may see",
    "collapse": "collapsed inner hits bypass the _source filter",
    "pit": "a point in time may be of another index",
    "slice": "slices belong to point-in-time and scroll searches, which this API does not serve",
}

REFUSED_ANYWHERE = {
    "global": "global aggregations escape the query and would count workflows you may not see",
    "significant_terms": "significant_terms compares against the whole index",
    "significant_text": "significant_text compares against the whole index",
    "wrapper": "wrapper queries hide their content from the access checks",
    "more_like_this": "more_like_this reads documents by id, including ones you may not see",
    "percolate": "percolate reads documents by id",
    "indexed_shape": "indexed shapes read documents of other indices",
    "inner_hits": "inner hits bypass the _source filter",
}

AGG_CONTAINERS = ("aggs", "aggregations")
# Pipeline aggregations whose scripts see bucket values only, never documents.
BUCKET_SCRIPT_AGGS = frozenset({"bucket_script", "bucket_selector", "moving_fn"})
# With min_doc_count 0 these list terms of every document of the shard.
TERMS_AGGS = frozenset({"terms", "multi_terms"})
TOP_HITS_KEYS = frozenset({"from", "size", "sort", "_source", "track_scores"})
FIELD_KEYS = frozenset({"field", "fields", "path", "nested_path", "default_field"})

_ABSENT: Any = object()


class SearchRefused(ValueError):
    """The search asks for something the access filters cannot bound; the message says what."""


class MissingTenant(ValueError):
    """Multi-tenancy is on and the caller has no tenant."""


@dataclass(frozen=True)
class Scope:
    """What one caller may see.

    ``hide_user``: leave ``user`` out of ``_source`` when the request does not
    choose its own ``_source``.  ``backend_roles``: only documents whose
    ``user`` shares one of these roles (``None``: no such filter).
    ``tenant_id``: only this tenant's documents (``None``: no such filter).
    """

    hide_user: bool
    backend_roles: tuple[str, ...] | None = None
    tenant_id: str | None = None


def scope_for(caller: Caller, *, filter_by_backend_roles: bool, multi_tenancy: bool) -> Scope:
    """The plugin's rules for ``caller``.

    ``all_access`` callers, and every caller while access control is off,
    see ``user`` and skip backend-role filtering; the tenant filter applies to
    everyone.  Raises :class:`MissingTenant` with multi-tenancy on and no
    tenant (an empty tenant id is a tenant, as in the plugin).
    """
    if multi_tenancy and caller.tenant_id is None:
        raise MissingTenant("Tenant ID header is missing or has no value")
    return Scope(
        hide_user=not caller.is_admin,
        backend_roles=tuple(caller.backend_roles) if filter_by_backend_roles and not caller.is_admin else None,
        tenant_id=caller.tenant_id if multi_tenancy else None,
    )


def restrict(body: Mapping[str, Any], scope: Scope) -> dict[str, Any]:
    """The search to run for a caller who sent ``body``; ``body`` is not modified.

    Adds the scope's filters to ``query``, applies the ``_source`` rule (also
    to ``top_hits``), and forces ``version`` and ``seq_no_primary_term`` as
    the plugin does.  Raises :class:`SearchRefused` for anything the module
    docstring lists.  Anything else malformed is left for OpenSearch to
    refuse with its own error.
    """
    _check_depth(body)
    for key in body:
        if key not in ALLOWED_KEYS:
            reason = TOP_LEVEL_REASONS.get(key, "it is not needed to read workflow states")
            raise SearchRefused(
                f"[{key}] is not allowed in a workflow state search: {reason}. "
                f"Allowed: {', '.join(sorted(ALLOWED_KEYS))}"
            )
    restricted = copy.deepcopy(dict(body))
    checker = _Checker(scope.hide_user)
    for key in ("query", "post_filter"):
        if key in restricted:
            checker.walk(restricted[key])
    if "sort" in restricted:
        checker.sort(restricted["sort"])
    for key in AGG_CONTAINERS:
        if key in restricted:
            checker.aggs(restricted[key])
    restricted["_source"] = source_filter(restricted.get("_source", _ABSENT), hide_user=scope.hide_user)
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
    """The plugin's ``_source`` rule.

    No ``_source`` in the request: exclude ``user`` when ``hide_user`` (and
    the credential path always).  A requested ``_source``: its includes are
    kept and ``user``, ``ui_metadata`` and the credential path are added to its
    excludes, for every caller.  ``false`` stays ``false``.  Raises
    :class:`SearchRefused` for a value OpenSearch would not read as a
    ``_source`` filter, so none can slip past the rule.
    """
    if requested is _ABSENT:
        return {"includes": [], "excludes": [USER_FIELD, CREDENTIAL_FIELD] if hide_user else [CREDENTIAL_FIELD]}
    if requested is False:
        return False
    includes: list[str] = []
    excludes: list[str] = []
    if requested is True:
        pass
    elif isinstance(requested, (str, list)):
        includes = _patterns(requested)
    elif isinstance(requested, dict) and set(requested) <= {"includes", "include", "excludes", "exclude"}:
        for key, value in requested.items():
            (includes if key.startswith("include") else excludes).extend(_patterns(value))
    else:
        raise SearchRefused(_SOURCE_SHAPE)
    added = [p for p in (USER_FIELD, UI_METADATA_FIELD, CREDENTIAL_FIELD) if p not in excludes]
    return {"includes": includes, "excludes": excludes + added}


_SOURCE_SHAPE = (
    "[_source] must be a boolean, a string, an array of strings, or an object of [includes] and [excludes]"
)


def _patterns(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SearchRefused(_SOURCE_SHAPE)
    return list(values)


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


def _check_depth(body: Any) -> None:
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SearchRefused(f"the search body is nested deeper than {MAX_DEPTH} levels")
        children = node.values() if isinstance(node, Mapping) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)


def _names_user(name: Any) -> bool:
    return isinstance(name, str) and (name == USER_FIELD or name.startswith(USER_FIELD + "."))


class _Checker:
    """Walks the parts of a body and raises :class:`SearchRefused` at the first thing refused."""

    def __init__(self, hide_user: bool) -> None:
        self.hide_user = hide_user

    def walk(self, node: Any) -> None:
        """Any query-like part: every key of every object is checked."""
        for key, value in _items(node):
            self.key(key, value)

    def key(self, key: str, value: Any, *, query: bool = True) -> None:
        """Check one key; ``query`` is false for an aggregation type, whose ``terms`` is no lookup."""
        if "script" in key.lower():
            raise SearchRefused(f"[{key}]: scripts on documents are not allowed in a workflow state search")
        if key in REFUSED_ANYWHERE:
            raise SearchRefused(f"[{key}] is not allowed in a workflow state search: {REFUSED_ANYWHERE[key]}")
        if query and key == "terms" and isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            raise SearchRefused("[terms] lookups read other documents and are not allowed in a workflow state search")
        if self.hide_user:
            names = value if key in FIELD_KEYS and isinstance(value, list) else [value] if key in FIELD_KEYS else []
            if _names_user(key) or any(_names_user(n) for n in names):
                raise SearchRefused(
                    "the [user] field is hidden from callers without all_access and cannot be searched, "
                    "sorted or aggregated"
                )

    def sort(self, sort: Any) -> None:
        entries = sort if isinstance(sort, list) else [sort]
        for entry in entries:
            if isinstance(entry, str):
                self.key(entry, None)
            else:
                self.walk(entry)

    def aggs(self, container: Any) -> None:
        """An ``aggs`` object: names map to definitions of one type plus sub-``aggs`` and ``meta``."""
        if not isinstance(container, dict):
            self.walk(container)
            return
        for definition in container.values():
            if not isinstance(definition, dict):
                self.walk(definition)
                continue
            for agg_type, body in definition.items():
                if agg_type in AGG_CONTAINERS:
                    self.aggs(body)
                elif agg_type == "meta" or agg_type in BUCKET_SCRIPT_AGGS:
                    continue
                elif agg_type == "top_hits" and isinstance(body, dict):
                    self.top_hits(body)
                else:
                    self.key(agg_type, body, query=False)
                    if agg_type in TERMS_AGGS:
                        _check_min_doc_count(agg_type, body)
                    self.walk(body)

    def top_hits(self, body: dict[str, Any]) -> None:
        """Check a ``top_hits`` body and give it the hits' ``_source`` rule, in place."""
        for key in body:
            if key not in TOP_HITS_KEYS:
                raise SearchRefused(
                    f"[{key}] is not allowed in a top_hits aggregation: it is limited to "
                    f"{', '.join(sorted(TOP_HITS_KEYS))}"
                )
        if "sort" in body:
            self.sort(body["sort"])
        body["_source"] = source_filter(body.get("_source", _ABSENT), hide_user=self.hide_user)


def _check_min_doc_count(agg_type: str, body: Any) -> None:
    value = body.get("min_doc_count") if isinstance(body, dict) else None
    if value is None or isinstance(value, bool):
        return
    try:
        too_low = float(str(value)) < 1
    except ValueError:
        return  # not a number: OpenSearch refuses it
    if too_low:
        raise SearchRefused(
            f"[{agg_type}] with [min_doc_count] below 1 lists terms of workflows you may not see"
        )


def _items(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of every object inside ``node``, depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                yield key, value
                stack.append(value)
        elif isinstance(current, list):
            stack.extend(current)
