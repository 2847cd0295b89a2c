"""The top level of a workflow state search body."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from flowstatus.domain.search_cost import MAX_WINDOW
from flowstatus.domain.search_fields import FIELDS, FieldType
from flowstatus.schemas.search.aggregations import Aggregations
from flowstatus.schemas.search.base import ClosedSchema, Value
from flowstatus.schemas.search.hits import MAX_SORTS, Sort, Source
from flowstatus.schemas.search.queries import Query
from flowstatus.schemas.search.values import INT_MAX, Boolean, ListOf, Number, Scalar, Text, WholeNumber


class TrackTotalHits(Value):
    """``true``, ``false``, or a count as a JSON integer."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool | int:
        if isinstance(value, bool):
            return bool(value)
        return WholeNumber(0, INT_MAX).deserialize(value)


class SearchBody(ClosedSchema):
    """A search body: what reading workflow states needs, nothing else.

    ``timeout`` is accepted and replaced by flowstatus' own, as the plugin
    replaces it; ``version`` and ``seq_no_primary_term`` are accepted and
    forced on.
    """

    where = "in a workflow state search"

    query = Query()
    post_filter = Query()
    aggs = Aggregations()
    aggregations = Aggregations()
    sort = Sort()
    from_ = WholeNumber(0, MAX_WINDOW, data_key="from", attribute="from")
    size = WholeNumber(0, MAX_WINDOW)
    search_after = ListOf(Scalar(allow_none=True), min_items=1, max_items=MAX_SORTS)
    track_total_hits = TrackTotalHits()
    track_scores = Boolean()
    source_ = Source(data_key="_source", attribute="_source")
    timeout = Text(20, pattern=r"^\d{1,9}(nanos|micros|ms|s|m|h|d)$", meaning="a time value such as 5s")
    terminate_after = WholeNumber(0, INT_MAX)
    min_score = Number()
    version = Boolean()
    seq_no_primary_term = Boolean()

    @validates_schema
    def _window(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("from", 0) + data.get("size", 10) > MAX_WINDOW:
            raise ValidationError(
                f"reaches past hit {MAX_WINDOW}: from + size must be at most {MAX_WINDOW} (OpenSearch's "
                "index.max_result_window); page further with search_after", "size")
        if "aggs" in data and "aggregations" in data:
            raise ValidationError("give either [aggs] or [aggregations], not both", "aggregations")
        sort = data.get("sort") or ["_score"]
        for index, value in enumerate(data.get("search_after", [])):
            if value is None and not (index < len(sort) and _keyword_sort(sort[index])):
                # OpenSearch fails with a null pointer (a 500) on any other null.
                raise ValidationError({index: ["null is a search_after value only for a sort on a keyword field"]},
                                      "search_after")


def _keyword_sort(entry: Any) -> bool:
    name = entry if isinstance(entry, str) else next(iter(entry))
    field = FIELDS.get(name)
    return field is not None and field.type is FieldType.KEYWORD
