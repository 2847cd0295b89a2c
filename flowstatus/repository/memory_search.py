"""The part of OpenSearch's search that flowstatus sends, evaluated over stored documents in memory.

Implemented, with OpenSearch's semantics on the state index's mapping:

* queries: ``match_all``, ``match_none``, ``ids``, ``term``, ``terms``,
  ``exists``, ``range`` (numeric bounds) and ``prefix`` on keyword, numeric
  and date fields; ``bool`` (``must``, ``filter``, ``should`` with a count
  as ``minimum_should_match``, ``must_not``); ``constant_score``; ``nested``
  on ``user`` and ``resources_created``;
* ``post_filter``, ``from``, ``size``, ``sort`` (fields and ``_seq_no``, with
  ``order`` and ``missing``), ``track_total_hits``, ``_source`` includes and
  excludes (with ``*`` wildcards), ``version``, ``seq_no_primary_term``;
* aggregations: ``terms`` (``field``, ``size``) and ``filter``, both with
  sub-aggregations; ``min`` (its ``value`` only) and ``top_hits``
  (``size``, ``sort``, ``_source``).

Anything else raises ``ValueError`` naming it, including options the
search schema lets through but this module does not model
(``case_insensitive``, date math, percentages, sort modes): a fake that
guessed would make tests pass that OpenSearch fails.  Scores are not modelled (every hit
scores 1.0); unsorted hits come in write order.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

# Fields whose values are matched exactly (keyword, numbers, dates), by full path.
# ``.keyword`` sub-fields of the nested user's text fields read the text values.
EXACT_FIELDS = frozenset({
    "workflow_id", "state", "provisioning_progress", "tenant_id", "provision_start_time",
    "provision_end_time", "all_shared_principals", "schema_version",
    "resources_created.workflow_step_name", "resources_created.workflow_step_id",
    "resources_created.resource_type", "resources_created.resource_id",
    "user.name.keyword", "user.backend_roles.keyword", "user.roles.keyword", "user.custom_attribute_names.keyword",
})
NESTED_PATHS = frozenset({"user", "resources_created"})
NUMERIC_FIELDS = frozenset({"provision_start_time", "provision_end_time", "schema_version"})
DEFAULT_SIZE = 10
MAX_TRACKED = 10_000


@dataclass(frozen=True)
class StoredDoc:
    """One stored document and its versions, as a search hit reports them."""

    id: str
    source: Mapping[str, Any]
    seq_no: int
    primary_term: int
    version: int


Predicate = Callable[[Mapping[str, Any]], bool]


def _unsupported(what: str) -> ValueError:
    return ValueError(f"the in-memory search does not implement {what}")


def _values(obj: Any, path: list[str]) -> Iterator[Any]:
    """Every value at ``path`` below ``obj``; lists are walked through, as OpenSearch flattens them."""
    if isinstance(obj, list):
        for item in obj:
            yield from _values(item, path)
        return
    if not path:
        if obj is not None:
            yield obj
        return
    if isinstance(obj, Mapping) and path[0] in obj:
        yield from _values(obj[path[0]], path[1:])


def _field_values(doc: Mapping[str, Any], field: str, prefix: str) -> list[Any]:
    full = f"{prefix}{field}" if prefix and not field.startswith(prefix) else field
    if full not in EXACT_FIELDS:
        raise _unsupported(f"exact matching on field [{full}]")
    relative = full[len(prefix):] if prefix and full.startswith(prefix) else full
    parts = relative.split(".")
    if parts[-1] == "keyword":
        parts = parts[:-1]
    return list(_values(doc, parts))


def _term_value(spec: Any) -> Any:
    if not isinstance(spec, Mapping):
        return spec
    if spec.get("case_insensitive"):
        raise _unsupported("case_insensitive matching")
    return spec.get("value")


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, (int, float)) and not isinstance(stored, bool):
        if isinstance(wanted, str):
            raise _unsupported("dates or numbers written as strings")
        return float(stored) == float(wanted)
    return str(stored) == str(wanted) if not isinstance(wanted, bool) else stored is wanted


def _range(values: list[Any], bounds: Mapping[str, Any]) -> bool:
    checks = {"gte": lambda v, b: v >= b, "gt": lambda v, b: v > b, "lte": lambda v, b: v <= b, "lt": lambda v, b: v < b}
    for key, bound in bounds.items():
        if key not in checks and key != "boost":
            raise _unsupported(f"range option [{key}]")
        if isinstance(bound, (str, bool)):
            raise _unsupported("range bounds that are not numbers (date strings, date math)")
    bounds = {k: b for k, b in bounds.items() if k != "boost"}
    numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return any(all(checks[k](v, float(b)) for k, b in bounds.items()) for v in numeric)


def compile_query(query: Any, prefix: str = "") -> Predicate:
    """A predicate over one document (or one nested object under ``prefix``) for ``query``."""
    if not isinstance(query, Mapping) or len(query) != 1:
        raise _unsupported(f"the query {query!r}")
    ((kind, spec),) = query.items()
    if kind == "match_all":
        return lambda doc: True
    if kind == "match_none":
        return lambda doc: False
    if kind == "constant_score":
        return compile_query(spec.get("filter"), prefix)
    if kind == "ids":
        wanted = set(spec.get("values", []))
        return lambda doc: doc.get("\0id") in wanted
    if kind in ("term", "terms", "range", "prefix", "exists"):
        return _leaf(kind, spec, prefix)
    if kind == "bool":
        return _bool(spec, prefix)
    if kind == "nested":
        path = spec.get("path")
        if path not in NESTED_PATHS or prefix:
            raise _unsupported(f"nested path [{path}]")
        inner = compile_query(spec.get("query"), prefix=f"{path}.")
        return lambda doc: any(inner(obj) for obj in _values(doc, [path]) if isinstance(obj, Mapping))
    raise _unsupported(f"[{kind}] queries")


def _check_typed(field: str, values: list[Any]) -> None:
    """OpenSearch parses a string compared with a date or number field (date math, ISO dates); this module does not."""
    if field in NUMERIC_FIELDS and any(isinstance(v, str) for v in values):
        raise _unsupported("dates or numbers written as strings")


def _leaf(kind: str, spec: Any, prefix: str) -> Predicate:
    if kind == "exists":
        field = spec.get("field")
        return lambda doc: bool(_field_values(doc, field, prefix))
    fields = {k: v for k, v in spec.items() if k not in ("boost", "_name")}
    if len(fields) != 1:
        raise _unsupported(f"a [{kind}] query on {len(fields)} fields")
    ((field, value),) = fields.items()
    if kind == "term":
        wanted = _term_value(value)
        _check_typed(field, [wanted])
        return lambda doc: any(_same(v, wanted) for v in _field_values(doc, field, prefix))
    if kind == "terms":
        if not isinstance(value, list):
            raise _unsupported("terms lookups")
        _check_typed(field, value)
        return lambda doc: any(_same(v, w) for v in _field_values(doc, field, prefix) for w in value)
    if kind == "prefix":
        start = str(_term_value(value))
        return lambda doc: any(str(v).startswith(start) for v in _field_values(doc, field, prefix))
    return lambda doc: _range(_field_values(doc, field, prefix), value)


def _clauses(spec: Mapping[str, Any], key: str, prefix: str) -> list[Predicate]:
    found = spec.get(key, [])
    return [compile_query(q, prefix) for q in (found if isinstance(found, list) else [found])]


def _bool(spec: Mapping[str, Any], prefix: str) -> Predicate:
    unknown = set(spec) - {"must", "filter", "should", "must_not", "minimum_should_match", "boost"}
    if unknown:
        raise _unsupported(f"bool options {sorted(unknown)}")
    required = _clauses(spec, "must", prefix) + _clauses(spec, "filter", prefix)
    should = _clauses(spec, "should", prefix)
    excluded = _clauses(spec, "must_not", prefix)
    wanted = spec.get("minimum_should_match", 0 if required else 1)
    if not isinstance(wanted, int) or wanted < 0:
        raise _unsupported("minimum_should_match as a percentage or a negative count")
    minimum = wanted if should else 0

    def matches(doc: Mapping[str, Any]) -> bool:
        return (all(p(doc) for p in required) and not any(p(doc) for p in excluded)
                and sum(p(doc) for p in should) >= minimum)

    return matches


def _filtered_source(source: Mapping[str, Any], rule: Any) -> dict[str, Any] | None:
    if rule is False:
        return None
    if rule is None or rule is True:
        return dict(source)
    if isinstance(rule, (str, list)):
        rule = {"includes": [rule] if isinstance(rule, str) else rule}
    includes, excludes = rule.get("includes") or [], rule.get("excludes") or []
    if any("." in p for p in includes):
        raise _unsupported("_source includes below the top level")

    def kept(key: str) -> bool:
        included = not includes or any(fnmatch.fnmatchcase(key, p) for p in includes)
        return included and not any(fnmatch.fnmatchcase(key, p) for p in excludes)

    # Excludes below the top level (the plugin's credential path) name keys no
    # state document has, so top-level matching is exact for them.
    return {k: v for k, v in source.items() if kept(k)}


def _sort_key(spec: Any) -> tuple[str, bool, str]:
    """(field, descending, missing) of one sort entry."""
    if isinstance(spec, str):
        return spec, False, "_last"
    ((field, options),) = spec.items()
    options = options if isinstance(options, Mapping) else {"order": options}
    if set(options) - {"order", "missing"}:
        raise _unsupported(f"sort options {sorted(set(options) - {'order', 'missing'})}")
    descending = options.get("order", "asc") == "desc"
    return field, descending, options.get("missing", "_last")


def _sorted(docs: list[StoredDoc], sort: Any) -> list[tuple[StoredDoc, list[Any]]]:
    keys = [_sort_key(s) for s in (sort if isinstance(sort, list) else [sort])]
    rows = [(doc, [doc.seq_no if f == "_seq_no" else next(iter(_field_values(_view(doc), f, "")), None)
                   for f, _, _ in keys]) for doc in docs]
    for position in reversed(range(len(keys))):
        _, descending, missing = keys[position]
        present = [r for r in rows if r[1][position] is not None]
        absent = [r for r in rows if r[1][position] is None]
        present.sort(key=lambda r: cast(Any, r[1][position]), reverse=descending)
        rows = absent + present if missing == "_first" else present + absent
    return rows


def _view(doc: StoredDoc) -> dict[str, Any]:
    return {**doc.source, "\0id": doc.id}


def _numbers(docs: list[StoredDoc], field: str) -> list[float]:
    values = (v for d in docs for v in _field_values(_view(d), field, ""))
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _terms(spec: Mapping[str, Any], docs: list[StoredDoc], subs: Mapping[str, Any], index: str) -> dict[str, Any]:
    groups: dict[str, list[StoredDoc]] = {}
    for doc in docs:
        for value in {str(v) for v in _field_values(_view(doc), spec["field"], "")}:
            groups.setdefault(value, []).append(doc)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    size = int(spec.get("size", 10))
    return {
        "doc_count_error_upper_bound": 0,
        "sum_other_doc_count": sum(len(g) for _, g in ranked[size:]),
        "buckets": [{"key": k, "doc_count": len(g), **_aggregate(subs, g, index)} for k, g in ranked[:size]],
    }


def _top_hits(spec: Mapping[str, Any], docs: list[StoredDoc], index: str) -> dict[str, Any]:
    rows = _sorted(docs, spec["sort"]) if "sort" in spec else [(d, []) for d in docs]
    hits = [_hit(index, doc, sort_values, spec) for doc, sort_values in rows[:int(spec.get("size", 3))]]
    return {"hits": {"total": {"value": len(docs), "relation": "eq"}, "max_score": None, "hits": hits}}


def _aggregate(aggs: Mapping[str, Any], docs: list[StoredDoc], index: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, definition in aggs.items():
        subs = definition.get("aggs") or definition.get("aggregations") or {}
        kinds = {k: v for k, v in definition.items() if k not in ("meta", "aggs", "aggregations")}
        if len(kinds) != 1:
            raise _unsupported(f"aggregation [{name}] of kinds {sorted(kinds)}")
        ((kind, spec),) = kinds.items()
        if subs and kind not in ("filter", "terms"):
            raise _unsupported(f"sub-aggregations under [{kind}]")
        if kind == "filter":
            matches = compile_query(spec)
            inside = [d for d in docs if matches(_view(d))]
            out[name] = {"doc_count": len(inside), **_aggregate(subs, inside, index)}
        elif kind == "terms" and set(spec) <= {"field", "size"}:
            out[name] = _terms(spec, docs, subs, index)
        elif kind == "min" and set(spec) == {"field"}:
            values = _numbers(docs, spec["field"])
            out[name] = {"value": min(values) if values else None}
        elif kind == "top_hits" and set(spec) <= {"size", "sort", "_source"}:
            out[name] = _top_hits(spec, docs, index)
        else:
            raise _unsupported(f"[{kind}] aggregations with {sorted(spec)}")
    return out


def _hit(index: str, doc: StoredDoc, sort_values: list[Any], body: Mapping[str, Any]) -> dict[str, Any]:
    hit: dict[str, Any] = {"_index": index, "_id": doc.id, "_score": None if sort_values else 1.0}
    if body.get("version"):
        hit["_version"] = doc.version
    if body.get("seq_no_primary_term"):
        hit["_seq_no"], hit["_primary_term"] = doc.seq_no, doc.primary_term
    source = _filtered_source(doc.source, body.get("_source"))
    if source is not None:
        hit["_source"] = source
    if sort_values:
        hit["sort"] = sort_values
    return hit


ACCEPTED = frozenset({
    "query", "post_filter", "aggs", "aggregations", "sort", "from", "size", "track_total_hits",
    "_source", "version", "seq_no_primary_term", "timeout",
})


def run_search(index: str, docs: list[StoredDoc], body: Mapping[str, Any]) -> dict[str, Any]:
    """The search response for ``body`` over ``docs``, shaped as OpenSearch's."""
    unknown = set(body) - ACCEPTED
    if unknown:
        raise _unsupported(f"search keys {sorted(unknown)}")
    matches = compile_query(body.get("query", {"match_all": {}}))
    matched = [d for d in docs if matches(_view(d))]
    aggs = _aggregate(body.get("aggs") or body.get("aggregations") or {}, matched, index)
    if "post_filter" in body:
        narrowed = compile_query(body["post_filter"])
        matched = [d for d in matched if narrowed(_view(d))]
    rows = _sorted(matched, body["sort"]) if "sort" in body else [(d, []) for d in matched]
    start, size = int(body.get("from", 0)), int(body.get("size", DEFAULT_SIZE))
    hits = [_hit(index, doc, sort_values, body) for doc, sort_values in rows[start:start + size]]
    found: dict[str, Any] = {"max_score": None if "sort" in body or not hits else 1.0, "hits": hits}
    tracked = body.get("track_total_hits", MAX_TRACKED)
    if tracked is not False:
        limit = len(matched) if tracked is True else int(tracked)
        found = {"total": {"value": min(len(matched), limit), "relation": "eq" if len(matched) <= limit else "gte"},
                 **found}
    response: dict[str, Any] = {
        "took": 0,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": found,
    }
    if aggs:
        response["aggregations"] = aggs
    return response
