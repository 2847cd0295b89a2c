"""The aggregations a workflow state search may use.

Bucket aggregations: ``terms``, ``multi_terms`` (``min_doc_count`` at least
1), ``filter``, ``filters``, ``range``, ``date_range``, ``histogram``,
``date_histogram``, ``nested`` (``resources_created``; ``user`` for callers
who may see it) and ``reverse_nested`` (inside a ``nested``).  Metrics:
``cardinality``, ``min``, ``max``, ``avg``, ``sum``, ``value_count`` and
``top_hits`` (which gets the hits' ``_source`` rule).  Scripts, pipeline
aggregations and whatever reads the whole index are refused.  Sizes are
bounded here; what a whole tree of aggregations may build is bounded by
:mod:`flowstatus.domain.search_cost`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from marshmallow import ValidationError, validates_schema

from flowstatus.domain.date_values import BadDate, calendar_interval_ms, check_offset, fixed_interval_ms
from flowstatus.domain.search_cost import MAX_AGGREGATIONS, MAX_BUCKETS_PER_AGGREGATION, MAX_TOP_HITS_WINDOW
from flowstatus.domain.search_fields import EXACT, NUMERIC, USER_HIDDEN, USER_PATH, FieldType, nested_paths
from flowstatus.domain.search_scope import AGG_CONTAINERS
from flowstatus.schemas.search.base import ClosedSchema, Value, describe, loader, refusal
from flowstatus.schemas.search.context import current, inside
from flowstatus.schemas.search.hits import Sort, Source
from flowstatus.schemas.search.queries import Query
from flowstatus.schemas.search.values import (
    Boolean,
    DateValue,
    FieldName,
    ListOf,
    Number,
    Object,
    Text,
    WholeNumber,
    load_each,
)

DATES = frozenset({FieldType.DATE})
_NAME = re.compile(r"^[^\[\]>\x00-\x1f]{1,100}$")
# Sub-aggregations a bucket order may name: one value per bucket.
SINGLE_VALUE = frozenset({"min", "max", "avg", "sum", "cardinality", "value_count"})
ORDER_KEYS = (
    "must be _count, _key or the name of a min, max, avg, sum, cardinality or value_count sub-aggregation of this "
    "aggregation"
)
BAD_NAME = "is not a valid aggregation name: 1 to 100 characters, without [, ] or >"
MIN_DOC_COUNT_WHY = (
    ": with 0, OpenSearch lists the terms of every workflow of the index, including those you may not see"
)


def _size() -> WholeNumber:
    return WholeNumber(1, MAX_BUCKETS_PER_AGGREGATION)


class Order(Value):
    """A bucket order: ``{key: "asc"|"desc"}`` or an array of them; keys ``_count``, ``_key`` or a sub-aggregation."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        entries = value if isinstance(value, list) else [value]
        if not 1 <= len(entries) <= 4:
            raise ValidationError("must hold from 1 to 4 entries")
        for entry in entries:
            if not isinstance(entry, dict) or len(entry) != 1:
                raise ValidationError(f"must be an object of one key, not {describe(entry)}")
            ((key, direction),) = entry.items()
            if direction not in ("asc", "desc"):
                raise ValidationError({key: ["must be asc or desc"]})
        return [dict(entry) for entry in entries] if isinstance(value, list) else dict(value)


class _TermBuckets(ClosedSchema):
    """What terms and multi_terms share: how many buckets, how they are ordered, and no empty ones."""

    size = _size()
    shard_size = _size()
    min_doc_count = WholeNumber(1, why=MIN_DOC_COUNT_WHY)
    order = Order()
    show_term_doc_count_error = Boolean()


class Terms(_TermBuckets):
    where = "in a terms aggregation"
    field = FieldName(EXACT, required=True)


def _field_only(types: frozenset[FieldType], where: str, name: str) -> type[ClosedSchema]:
    """A schema of one required ``field`` of ``types``: a multi_terms source, most metrics."""
    schema = cast(type[ClosedSchema], ClosedSchema.from_dict({"field": FieldName(types, required=True)}, name=name))
    schema.where = where
    return schema


MultiTermsSource = _field_only(EXACT, "in a multi_terms source", "MultiTermsSource")
NumericMetric = _field_only(NUMERIC, "in a min, max, avg or sum aggregation", "NumericMetric")
ValueCount = _field_only(EXACT, "in a value_count aggregation", "ValueCount")


class MultiTerms(_TermBuckets):
    where = "in a multi_terms aggregation"
    terms = ListOf(Object(MultiTermsSource), min_items=2, max_items=4, required=True)


class KeyedQueries(Value):
    """The ``filters`` of a filters aggregation: ``{name: query}`` or an array of queries."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list):
            return ListOf(Query(), min_items=1, max_items=100).deserialize(value)
        if not isinstance(value, dict) or not 1 <= len(value) <= 100:
            raise ValidationError("must be an object of 1 to 100 named queries, or an array of them")
        return load_each(value.items(), Query().deserialize)


class Filters(ClosedSchema):
    where = "in a filters aggregation"
    filters = KeyedQueries(required=True)
    other_bucket = Boolean()
    other_bucket_key = Text(100)


def _range_schema(value: Callable[..., Value], name: str) -> type[ClosedSchema]:
    fields: dict[str, Any] = {"from_": value(data_key="from", attribute="from"), "to": value(), "key": Text(100)}
    schema = cast(type[ClosedSchema], ClosedSchema.from_dict(fields, name=name))
    schema.where = "in a range"
    return schema


NumberRange = _range_schema(Number, "NumberRange")
DateRange = _range_schema(DateValue, "DateRange")


class Range(ClosedSchema):
    where = "in a range aggregation"
    field = FieldName(NUMERIC, required=True)
    ranges = ListOf(Object(NumberRange), min_items=1, max_items=100, required=True)
    keyed = Boolean()


class DateRangeAgg(ClosedSchema):
    where = "in a date_range aggregation"
    field = FieldName(DATES, required=True)
    ranges = ListOf(Object(DateRange), min_items=1, max_items=100, required=True)
    keyed = Boolean()


class NumberBounds(ClosedSchema):
    where = "in histogram bounds"
    min = Number()
    max = Number()


class DateBounds(ClosedSchema):
    where = "in date_histogram bounds"
    min = DateValue()
    max = DateValue()


class Histogram(ClosedSchema):
    where = "in a histogram aggregation"
    field = FieldName(NUMERIC, required=True)
    interval = Number(positive=True, required=True)
    offset = Number()
    min_doc_count = WholeNumber(0)
    extended_bounds = Object(NumberBounds)
    hard_bounds = Object(NumberBounds)
    order = Order()
    keyed = Boolean()


class DateInterval(Value):
    """A fixed interval, a calendar interval or an offset, by ``reader``."""

    def __init__(self, reader: Callable[[Any], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reader = reader

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        try:
            self.reader(value)
        except BadDate as exc:
            raise ValidationError(f"must be {exc}") from None
        return str(value)


class DateHistogram(ClosedSchema):
    where = "in a date_histogram aggregation"
    field = FieldName(DATES, required=True)
    fixed_interval = DateInterval(fixed_interval_ms)
    calendar_interval = DateInterval(calendar_interval_ms)
    offset = DateInterval(check_offset)
    min_doc_count = WholeNumber(0)
    extended_bounds = Object(DateBounds)
    hard_bounds = Object(DateBounds)
    order = Order()
    keyed = Boolean()

    @validates_schema
    def _one_interval(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("fixed_interval" in data) == ("calendar_interval" in data):
            raise ValidationError("give exactly one of [fixed_interval] and [calendar_interval]", "fixed_interval")


class NestedAgg(ClosedSchema):
    where = "in a nested aggregation"
    path = Text(required=True)


class ReverseNested(ClosedSchema):
    where = "in a reverse_nested aggregation (it always returns to the root document)"


class Cardinality(ClosedSchema):
    where = "in a cardinality aggregation"
    field = FieldName(EXACT, required=True)
    precision_threshold = WholeNumber(0, 40_000)


class TopHits(ClosedSchema):
    where = "in a top_hits aggregation"
    size = WholeNumber(0, MAX_TOP_HITS_WINDOW)
    from_ = WholeNumber(0, MAX_TOP_HITS_WINDOW, data_key="from", attribute="from")
    sort = Sort()
    source_ = Source(data_key="_source", attribute="_source")
    track_scores = Boolean()

    @validates_schema
    def _window(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("from", 0) + data.get("size", 3) > MAX_TOP_HITS_WINDOW:
            raise ValidationError(f"from + size must be at most {MAX_TOP_HITS_WINDOW}", "size")


def _nested(spec: Any) -> dict[str, Any]:
    context = current()
    path = spec.get("path") if isinstance(spec, dict) else None
    if context.nested is not None:
        raise ValidationError({"path": ["nested aggregations do not nest: use reverse_nested to return to the root"]})
    if context.hide_user and path == USER_PATH:
        raise ValidationError({"path": [USER_HIDDEN]})
    if path is not None and path not in nested_paths(hide_user=context.hide_user):
        raise ValidationError({"path": [f"must be one of {', '.join(nested_paths(hide_user=context.hide_user))}"]})
    loaded: dict[str, Any] = NestedAgg().load(spec)
    return loaded


def _reverse_nested(spec: Any) -> dict[str, Any]:
    if current().nested is None:
        raise ValidationError("is only allowed inside a nested aggregation")
    loaded: dict[str, Any] = ReverseNested().load(spec)
    return loaded


AGGREGATIONS: dict[str, Callable[[Any], Any]] = {
    "terms": loader(Terms),
    "multi_terms": loader(MultiTerms),
    "filter": lambda spec: Query().deserialize(spec),
    "filters": loader(Filters),
    "range": loader(Range),
    "date_range": loader(DateRangeAgg),
    "histogram": loader(Histogram),
    "date_histogram": loader(DateHistogram),
    "nested": _nested,
    "reverse_nested": _reverse_nested,
    "cardinality": loader(Cardinality),
    "min": loader(NumericMetric),
    "max": loader(NumericMetric),
    "avg": loader(NumericMetric),
    "sum": loader(NumericMetric),
    "value_count": loader(ValueCount),
    "top_hits": loader(TopHits),
}
"""Every aggregation allowed, by type, with its loader."""
BUCKET_AGGREGATIONS = frozenset(
    {"terms", "multi_terms", "filter", "filters", "range", "date_range", "histogram", "date_histogram", "nested",
     "reverse_nested"})
"""The aggregations that may hold sub-aggregations."""


class Aggregations(Value):
    """An ``aggs`` object: names to definitions of one type each, with optional sub-aggregations."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValidationError(f"must be an object of named aggregations, not {describe(value)}")
        if len(value) > MAX_AGGREGATIONS:
            raise ValidationError(f"a search may hold at most {MAX_AGGREGATIONS} aggregations")
        bad = [name for name in value if not _NAME.match(name)]
        if bad:
            raise ValidationError({name: [BAD_NAME] for name in bad})
        return load_each(value.items(), _definition)


def _definition(definition: Any) -> dict[str, Any]:
    if not isinstance(definition, dict):
        raise ValidationError(f"must be an object of one aggregation type, not {describe(definition)}")
    kinds = [key for key in definition if key not in AGG_CONTAINERS]
    subs = [key for key in definition if key in AGG_CONTAINERS]
    for kind in kinds:
        if kind not in AGGREGATIONS:
            raise ValidationError({kind: [refusal(kind, AGGREGATIONS, "as an aggregation")]})
    if len(kinds) != 1:
        raise ValidationError("must hold exactly one aggregation type (and, optionally, [aggs])")
    if len(subs) > 1:
        raise ValidationError({subs[1]: ["give either [aggs] or [aggregations], not both"]})
    (kind,) = kinds
    try:
        rebuilt = {kind: AGGREGATIONS[kind](definition[kind])}
    except ValidationError as exc:
        raise ValidationError({kind: exc.messages}) from None
    if subs:
        (sub,) = subs
        if kind not in BUCKET_AGGREGATIONS:
            raise ValidationError({sub: [f"a {kind} aggregation takes no sub-aggregations"]})
        below = rebuilt[kind]["path"] if kind == "nested" else None if kind == "reverse_nested" else current().nested
        try:
            with inside(below):
                rebuilt[sub] = Aggregations().deserialize(definition[sub])
        except ValidationError as exc:
            raise ValidationError({sub: exc.messages}) from None
    _check_order(kind, rebuilt)
    return rebuilt


def _check_order(kind: str, rebuilt: dict[str, Any]) -> None:
    """A bucket ``order`` names ``_count``, ``_key`` or a single-value metric among the sub-aggregations.

    OpenSearch answers any other path with a 500, so it is refused here.
    """
    order = rebuilt[kind].get("order") if isinstance(rebuilt[kind], dict) else None
    if order is None:
        return
    subs: dict[str, Any] = next((rebuilt[key] for key in AGG_CONTAINERS if key in rebuilt), {})
    metrics = {name for name, definition in subs.items() if SINGLE_VALUE & set(definition)}
    for entry in order if isinstance(order, list) else [order]:
        for key in entry:
            if key not in ("_count", "_key") and key not in metrics:
                raise ValidationError({kind: {"order": {key: [ORDER_KEYS]}}})

