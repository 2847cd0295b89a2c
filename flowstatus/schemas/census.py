"""The workflow census as JSON, and the record the metrics cache keeps between scrapes.

The cache file (:mod:`flowstatus.observability.census_cache`) is shared by
the worker processes of one server; a record that does not load (another
version's layout, a torn file) raises ``ValidationError`` and is treated as
absent, never trusted.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates

from flowstatus.domain.census import DURATION_BUCKETS, DurationHistogram, WorkflowCensus


def _count() -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=0))


def _counts(**kwargs: Any) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=_count(), **kwargs)


class DurationHistogramSchema(Schema):
    class Meta:
        unknown = RAISE

    counts = fields.List(_count(), required=True)
    total_seconds = fields.Float(required=True, validate=validate.Range(min=0))

    @validates("counts")
    def _same_buckets(self, value: list[int], **kwargs: Any) -> None:
        if len(value) != len(DURATION_BUCKETS) + 1:
            raise ValidationError("Not this version's duration buckets.")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> DurationHistogram:
        return DurationHistogram(tuple(data["counts"]), data["total_seconds"])


class WorkflowCensusSchema(Schema):
    class Meta:
        unknown = RAISE

    taken_at = fields.Float(required=True)
    by_state = _counts(required=True)
    by_progress = _counts(required=True)
    finished_last_hour = _counts(required=True)
    oldest_provisioning_start = fields.Float(required=True, allow_none=True)
    durations = fields.Dict(keys=fields.String(), values=fields.Nested(DurationHistogramSchema), required=True)
    failed_by_error = _counts(required=True)
    by_tenant = fields.Dict(keys=fields.String(), values=_counts(), required=True)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> WorkflowCensus:
        return WorkflowCensus(**data)


class CensusRecordSchema(Schema):
    """``attempted_at``: when a census was last tried (epoch seconds); ``stale``: that try failed;
    ``census``: the last census taken, if any."""

    class Meta:
        unknown = RAISE

    attempted_at = fields.Float(required=True)
    stale = fields.Boolean(required=True)
    census = fields.Nested(WorkflowCensusSchema, required=True, allow_none=True)


CENSUS_RECORD = CensusRecordSchema()
