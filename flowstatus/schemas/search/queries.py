"""The query clauses a workflow state search may use, on the fields where they make sense.

``match_all``, ``match_none``, ``bool``, ``constant_score``, ``dis_max``,
``term``, ``terms`` (values only, no lookup), ``match``, ``match_phrase``,
``range``, ``exists``, ``prefix``, ``ids``, ``nested`` (on
``resources_created``; on ``user`` for callers who may see it) and
``simple_query_string`` (with explicit ``fields``).  Every other clause is
refused; the known dangerous ones with their reason.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, cast

from marshmallow import ValidationError

from flowstatus.domain.search_cost import MAX_QUERY_CLAUSES, MAX_VALUES
from flowstatus.domain.search_fields import (
    EXACT,
    USER_HIDDEN,
    USER_PATH,
    FieldRefused,
    FieldType,
    SearchField,
    nested_paths,
    resolve,
)
from flowstatus.schemas.search.base import ClosedSchema, Value, describe, loader, refusal
from flowstatus.schemas.search.context import current, inside
from flowstatus.schemas.search.values import (
    Boolean,
    FieldName,
    ListOf,
    Number,
    Text,
    WholeNumber,
    typed_value,
)

TEXTUAL = frozenset({FieldType.KEYWORD, FieldType.TEXT})
KEYWORD = frozenset({FieldType.KEYWORD})
NESTED_IN_NESTED = "nested queries do not nest: the state index has no nested objects in nested objects"


def _boost() -> Number:
    return Number(0, 1_000_000)


class Query(Value):
    """One query object: exactly one clause of :data:`CLAUSES`."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
        context = current()
        context.clauses += 1
        if context.clauses > MAX_QUERY_CLAUSES:
            raise ValidationError(f"a search may hold at most {MAX_QUERY_CLAUSES} query clauses")
        if not isinstance(value, dict) or len(value) != 1:
            raise ValidationError(f"must be an object of exactly one query clause, not {describe(value)}")
        ((name, spec),) = value.items()
        loader = CLAUSES.get(name)
        if loader is None:
            raise ValidationError({name: [refusal(name, CLAUSES, "as a query clause")]})
        try:
            return {name: loader(spec)}
        except ValidationError as exc:
            raise ValidationError({name: exc.messages}) from None


def _queries(**kwargs: Any) -> ListOf:
    return ListOf(Query(), single=True, max_items=MAX_QUERY_CLAUSES, **kwargs)


class MinimumShouldMatch(Value):
    """A count as a JSON integer, or a percentage string such as ``"75%"``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int | str:
        if isinstance(value, str):
            return Text(8, pattern=r"^-?\d{1,3}%$", meaning="a percentage such as 75% (write a count as a JSON "
                        "integer)").deserialize(value)
        return WholeNumber(-MAX_QUERY_CLAUSES, MAX_QUERY_CLAUSES).deserialize(value)


class MatchAll(ClosedSchema):
    where = "in a match_all query"
    boost = _boost()


class MatchNone(ClosedSchema):
    where = "in a match_none query"


class Bool(ClosedSchema):
    where = "in a bool query"
    must = _queries()
    filter = _queries()
    should = _queries()
    must_not = _queries()
    minimum_should_match = MinimumShouldMatch()
    boost = _boost()


class ConstantScore(ClosedSchema):
    where = "in a constant_score query"
    filter = Query(required=True)
    boost = _boost()


class DisMax(ClosedSchema):
    where = "in a dis_max query"
    queries = ListOf(Query(), min_items=1, max_items=MAX_QUERY_CLAUSES, required=True)
    tie_breaker = Number(0, 1)
    boost = _boost()


class Exists(ClosedSchema):
    where = "in an exists query"
    field = FieldName(required=True)
    boost = _boost()


class Ids(ClosedSchema):
    where = "in an ids query"
    values = ListOf(Text(512), max_items=MAX_VALUES, required=True)
    boost = _boost()


class NestedQuery(ClosedSchema):
    where = "in a nested query"
    path = Text(required=True)
    query = Query(required=True)
    score_mode = Text(choices=("avg", "max", "min", "none", "sum"))
    boost = _boost()


class SimpleQueryString(ClosedSchema):
    where = "in a simple_query_string query"
    query = Text(1_024, required=True)
    fields_ = ListOf(FieldName(TEXTUAL), min_items=1, max_items=16, required=True, data_key="fields",
                     attribute="fields")
    default_operator = Text(choices=("and", "or", "AND", "OR"))
    boost = _boost()


@cache
def _options(clause: str, field_type: FieldType) -> type[ClosedSchema]:
    """The long form of a one-field clause (``{"state": {"value": ..., "boost": ...}}``) for a field type."""
    operator = ("and", "or", "AND", "OR")
    shapes: dict[str, Callable[[], dict[str, Value]]] = {
        "term": lambda: {"value": typed_value(field_type, required=True), "boost": _boost(),
                         "case_insensitive": Boolean()},
        "prefix": lambda: {"value": Text(1_024, required=True), "boost": _boost(), "case_insensitive": Boolean()},
        "range": lambda: {**{bound: typed_value(field_type) for bound in ("gt", "gte", "lt", "lte")},
                          "boost": _boost()},
        "match": lambda: {"query": Text(1_024, required=True), "operator": Text(choices=operator), "boost": _boost()},
        "match_phrase": lambda: {"query": Text(1_024, required=True), "slop": WholeNumber(0, 100),
                                 "boost": _boost()},
    }
    schema = cast(type[ClosedSchema], ClosedSchema.from_dict(dict(shapes[clause]()), name=f"{clause}_{field_type.value}"))
    schema.where = f"in a {clause} query"
    return schema


_FIELD_TYPES = {"term": EXACT, "range": EXACT, "prefix": KEYWORD, "match": TEXTUAL, "match_phrase": TEXTUAL}


def _one_field(clause: str) -> Callable[[Any], dict[str, Any]]:
    """A loader of ``{"<field>": <value or options>}``, the shape of term, range, prefix and the match queries."""

    def load(spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict) or len(spec) != 1:
            raise ValidationError(f"must be an object naming exactly one field, not {describe(spec)}")
        ((name, value),) = spec.items()
        field = _field(name, _FIELD_TYPES[clause])
        try:
            if isinstance(value, dict) or clause == "range":
                return {name: _options(clause, field.type)().load(value)}
            short = Text(1_024) if clause in ("match", "match_phrase", "prefix") else typed_value(field.type)
            return {name: short.deserialize(value)}
        except ValidationError as exc:
            raise ValidationError({name: exc.messages}) from None

    return load


def _field(name: str, types: frozenset[FieldType]) -> SearchField:
    context = current()
    try:
        return resolve(name, nested=context.nested, hide_user=context.hide_user, types=types)
    except FieldRefused as exc:
        raise ValidationError({name: [str(exc)]}) from None


def _terms(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise ValidationError(f"must be an object naming one field, not {describe(spec)}")
    names = [key for key in spec if key != "boost"]
    if len(names) != 1:
        raise ValidationError("must name exactly one field (and, optionally, [boost])")
    (name,) = names
    field = _field(name, EXACT)
    loaded: dict[str, Any] = {}
    try:
        if isinstance(spec[name], dict):
            raise ValidationError("terms lookups read other documents and are not allowed in a workflow state search")
        loaded[name] = ListOf(typed_value(field.type), max_items=MAX_VALUES).deserialize(spec[name])
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from None
    if "boost" in spec:
        try:
            loaded["boost"] = _boost().deserialize(spec["boost"])
        except ValidationError as exc:
            raise ValidationError({"boost": exc.messages}) from None
    return loaded


def _nested(spec: Any) -> dict[str, Any]:
    """A nested query: its inner query names fields of the nested objects of ``path``."""
    context = current()
    path = spec.get("path") if isinstance(spec, dict) else None
    if context.nested is not None:
        raise ValidationError({"path": [NESTED_IN_NESTED]})
    if isinstance(path, str) and context.hide_user and path == USER_PATH:
        raise ValidationError({"path": [USER_HIDDEN]})
    allowed = nested_paths(hide_user=context.hide_user)
    if path is not None and path not in allowed:
        raise ValidationError({"path": [f"must be one of {', '.join(allowed)}"]})
    with inside(path if isinstance(path, str) else None):
        loaded: dict[str, Any] = NestedQuery().load(spec)
    return loaded


CLAUSES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "match_all": loader(MatchAll),
    "match_none": loader(MatchNone),
    "bool": loader(Bool),
    "constant_score": loader(ConstantScore),
    "dis_max": loader(DisMax),
    "term": _one_field("term"),
    "terms": _terms,
    "match": _one_field("match"),
    "match_phrase": _one_field("match_phrase"),
    "range": _one_field("range"),
    "exists": loader(Exists),
    "prefix": _one_field("prefix"),
    "ids": loader(Ids),
    "nested": _nested,
    "simple_query_string": loader(SimpleQueryString),
}
"""Every query clause allowed, by name, with its loader."""
