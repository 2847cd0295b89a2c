"""How hits are chosen and shown: ``sort`` and ``_source``, for the hits and for ``top_hits``."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from flowstatus.domain.search_fields import EXACT, USER_HIDDEN, FieldRefused, is_user, nested_paths, resolve
from flowstatus.schemas.search.base import ClosedSchema, Value, describe
from flowstatus.schemas.search.context import current
from flowstatus.schemas.search.values import ListOf, Object, Text, load_each

ORDER = ("asc", "desc")
# Sorts on what every hit has rather than on a field: the score, index order, write order.
META_SORTS = ("_score", "_doc", "_seq_no")
MAX_SORTS = 8
MAX_PATTERNS = 64


class NestedSort(ClosedSchema):
    where = "in a nested sort"
    path = Text(required=True)


class SortOptions(ClosedSchema):
    where = "in a sort"
    order = Text(choices=ORDER)
    missing = Text(choices=("_first", "_last"))
    mode = Text(choices=("min", "max", "sum", "avg", "median"))
    nested = Object(NestedSort)


class MetaSortOptions(ClosedSchema):
    where = "in a sort on _score, _doc or _seq_no"
    order = Text(choices=ORDER)


class Sort(Value):
    """A sort entry or an array of them: a name, ``{name: "asc"|"desc"}`` or ``{name: {options}}``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        entries = value if isinstance(value, list) else [value]
        if len(entries) > MAX_SORTS:
            raise ValidationError(f"must hold at most {MAX_SORTS} entries")
        if not isinstance(value, list):
            return [_sort_entry(value)]
        return list(load_each(enumerate(entries), _sort_entry).values())


def _sort_entry(entry: Any) -> Any:
    if isinstance(entry, str):
        _sortable(entry, None)
        return str(entry)
    if not isinstance(entry, dict) or len(entry) != 1:
        raise ValidationError(f"must be a field name or an object of one field, not {describe(entry)}")
    ((name, options),) = entry.items()
    try:
        if isinstance(options, str):
            _sortable(name, None)
            return {name: Text(choices=ORDER).deserialize(options)}
        loaded = (MetaSortOptions if name in META_SORTS else SortOptions)().load(options)
        _sortable(name, loaded.get("nested", {}).get("path"))
        return {name: loaded}
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from None


def _sortable(name: str, nested_path: str | None) -> None:
    """Refuse a sort on ``name`` that is neither a meta sort nor an exact field of the context."""
    if name in META_SORTS:
        return
    context = current()
    if nested_path is not None:
        if context.hide_user and is_user(nested_path):
            raise ValidationError(USER_HIDDEN)
        if context.nested is not None or nested_path not in nested_paths(hide_user=context.hide_user):
            raise ValidationError({"nested": {"path": [
                f"must be one of {', '.join(nested_paths(hide_user=context.hide_user))}, from the root document"]}})
    try:
        resolve(name, nested=nested_path or context.nested, hide_user=context.hide_user, types=EXACT)
    except FieldRefused as exc:
        raise ValidationError(f"cannot sort: the field {exc}") from None


class SourcePatterns(ClosedSchema):
    where = "in _source"
    # Named with a trailing _ where Schema has an attribute of the name.
    includes = ListOf(Text(256), single=True, max_items=MAX_PATTERNS)
    include_ = ListOf(Text(256), single=True, max_items=MAX_PATTERNS, data_key="include", attribute="include")
    excludes = ListOf(Text(256), single=True, max_items=MAX_PATTERNS)
    exclude_ = ListOf(Text(256), single=True, max_items=MAX_PATTERNS, data_key="exclude", attribute="exclude")


class Source(Value):
    """``_source``: a boolean, a pattern, an array of patterns, or ``{includes, excludes}`` (rebuilt as such)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, (str, list)):
            return ListOf(Text(256), single=True, max_items=MAX_PATTERNS).deserialize(value)
        if isinstance(value, dict):
            loaded = SourcePatterns().load(value)
            return {
                "includes": loaded.get("includes", []) + loaded.get("include", []),
                "excludes": loaded.get("excludes", []) + loaded.get("exclude", []),
            }
        raise ValidationError(
            "must be a boolean, a string, an array of strings, or an object of [includes] and [excludes], "
            f"not {describe(value)}")
