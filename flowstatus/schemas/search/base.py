"""The building blocks of the closed search schema: closed objects, and why a key is refused.

Every object of a search body is loaded by a :class:`ClosedSchema`: a key it
does not declare is refused with the reason below when one is known (the
parts that would reach past the access filters or the ``_source`` rule),
else with the list of keys allowed there.  Messages name keys, never the
values a caller sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load

MAX_NAMED = 5  # unknown keys named in one refusal; the rest are refused all the same
_OUTSIDE_SOURCE = "it returns field values outside the _source filter"
_SCRIPTS = "scripts are not allowed in a workflow state search: they can read any field of any document"
_READS_OTHERS = "it reads documents by id, including ones you may not see"

KNOWN_REFUSALS = {
    # top level
    "stored_fields": _OUTSIDE_SOURCE,
    "docvalue_fields": _OUTSIDE_SOURCE,
    "fields": _OUTSIDE_SOURCE,
    "script_fields": _SCRIPTS,
    "highlight": _OUTSIDE_SOURCE,
    "suggest": "suggesters read the terms of the whole index, not only the workflows you may see",
    "collapse": "collapsed inner hits bypass the _source filter",
    "pit": "a point in time may be of another index",
    "slice": "slices belong to point-in-time and scroll searches, which this API does not serve",
    "runtime_mappings": _SCRIPTS,
    "rescore": "rescoring is not needed to read workflow states",
    "explain": "explanations are not needed to read workflow states",
    "profile": "profiles describe the cluster's internals",
    "ext": "search extensions are not needed to read workflow states",
    "indices_boost": "this API searches one index",
    "stats": "search statistics groups are not needed to read workflow states",
    # anywhere
    "inner_hits": "inner hits bypass the _source filter",
    "script": _SCRIPTS,
    "_name": "named queries are not needed to read workflow states",
    "meta": "aggregation metadata is not needed to read workflow states",
    # queries
    "wrapper": "wrapper queries hide their content from the access checks",
    "more_like_this": _READS_OTHERS,
    "percolate": _READS_OTHERS,
    "geo_shape": "the state index has no shapes, and indexed shapes read other indices",
    "script_score": _SCRIPTS,
    "function_score": "function scores run scripts and are not needed to read workflow states",
    "terms_set": _SCRIPTS,
    "query_string": "it searches every field, including hidden ones: use simple_query_string with [fields]",
    "multi_match": "use simple_query_string with [fields]",
    "wildcard": "wildcard queries cost a scan of every term: use prefix",
    "regexp": "regular expressions cost a scan of every term: use prefix",
    "fuzzy": "fuzzy queries cost a scan of many terms: use match or simple_query_string",
    # aggregations
    "global": "global aggregations escape the query and would count workflows you may not see",
    "significant_terms": "significant_terms compares against the whole index",
    "significant_text": "significant_text compares against the whole index",
    "scripted_metric": _SCRIPTS,
    "bucket_script": _SCRIPTS,
    "bucket_selector": _SCRIPTS,
    "moving_fn": _SCRIPTS,
    "composite": "composite aggregations page through every bucket: use terms with a size",
    "sampler": "samplers are not needed to read workflow states",
    "interval": "use fixed_interval or calendar_interval",
    "missing": "missing values are not needed to read workflow states",
    "format": "dates are read in one format only (see the search docs)",
    "time_zone": "dates are read in UTC only",
}


def describe(value: Any) -> str:
    """What kind of JSON value ``value`` is, for messages that must not repeat it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction or an exponent"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def refusal(key: str, allowed: Iterable[str], where: str) -> str:
    """Why ``key`` is refused ``where`` (e.g. "in a terms aggregation"), with the known reason or the allowed keys."""
    reason = KNOWN_REFUSALS.get(key)
    if reason is not None:
        return f"is not allowed {where}: {reason}"
    return f"is not allowed {where}; allowed: {', '.join(sorted(allowed)) or 'nothing'}"


class Value(fields.Field):  # type: ignore[type-arg]
    """A field whose messages read as the end of a sentence after its path."""

    default_error_messages: ClassVar[dict[str, Any]] = {  # type: ignore[misc]
        "required": "is required",
        "null": "must not be null",
        "validator_failed": "is not valid",
    }


class ClosedSchema(Schema):
    """An object of a search body: only the declared keys, each loaded into a rebuilt plain value."""

    where: ClassVar[str] = "here"

    class Meta:
        unknown = RAISE

    @pre_load
    def _closed(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            raise ValidationError(f"must be a JSON object, not {describe(data)}")
        allowed = [field.data_key or name for name, field in self.load_fields.items()]
        unknown = [key for key in data if key not in allowed][:MAX_NAMED]
        if unknown:
            raise ValidationError({key: [refusal(key, allowed, self.where)] for key in unknown})
        return data


def loader(schema: type[ClosedSchema]) -> Callable[[Any], Any]:
    """The load of one instance of ``schema``, made once: a closed schema keeps no state between loads."""
    return schema().load
