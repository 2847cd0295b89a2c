"""The values of a search body, each read one way and rebuilt.

Numbers are the parser differential to fear: OpenSearch reads a count such
as ``"0.99999999999999999999"`` (a string) or ``0.99999999999999999999`` (a
JSON number) as a long, truncating it, where Python rounds it.  So a count
is a JSON integer literal and nothing else (no string, fraction or
exponent), checked against its range here and sent as a Python ``int``;
other numbers (boosts, histogram intervals) are JSON numbers, never strings.
Strings are checked for length (and, where they carry meaning, a grammar).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable
from typing import Any

from marshmallow import Schema, ValidationError

from flowstatus.domain.date_values import BadDate, check_date
from flowstatus.domain.search_fields import ANY, FieldRefused, FieldType, resolve
from flowstatus.schemas.search.base import Value, describe
from flowstatus.schemas.search.context import current

INT_MAX = 2**31 - 1
MAX_STRING = 4_096

WHOLE = "must be a whole number written as a JSON integer (no quotes, fraction or exponent)"


class WholeNumber(Value):
    """A JSON integer from ``minimum`` to ``maximum``; ``why`` is added to the range message."""

    def __init__(self, minimum: int = 0, maximum: int = INT_MAX, *, why: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum, self.maximum, self.why = minimum, maximum, why

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{WHOLE}, not {describe(value)}")
        if not self.minimum <= value <= self.maximum:
            raise ValidationError(f"must be from {self.minimum} to {self.maximum}{self.why}")
        return int(value)


class Number(Value):
    """A JSON number (never a string) within ``minimum``/``maximum``; ``positive``: above 0."""

    def __init__(
        self, minimum: float = -1e300, maximum: float = 1e300, *, positive: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.minimum, self.maximum, self.positive = minimum, maximum, positive

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValidationError(f"must be a JSON number (not a string), not {describe(value)}")
        if not self.minimum <= value <= self.maximum or (self.positive and value <= 0):
            low = "above 0" if self.positive else f"from {self.minimum:g}"
            raise ValidationError(f"must be {low} to {self.maximum:g}")
        return int(value) if isinstance(value, int) else float(value)


class Boolean(Value):
    """``true`` or ``false``, nothing that merely looks like one."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"must be true or false, not {describe(value)}")
        return bool(value)


class Text(Value):
    """A JSON string of at most ``max_length`` characters; ``choices``: one of them; ``pattern``: matching it."""

    def __init__(
        self,
        max_length: int = MAX_STRING,
        *,
        choices: Collection[str] = (),
        pattern: str | None = None,
        meaning: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_length, self.choices = max_length, tuple(choices)
        self.pattern = re.compile(pattern) if pattern else None
        self.meaning = meaning

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be a string, not {describe(value)}")
        if self.choices and value not in self.choices:
            raise ValidationError(f"must be one of {', '.join(self.choices)}")
        if len(value) > self.max_length:
            raise ValidationError(f"must be at most {self.max_length} characters long")
        if self.pattern is not None and not self.pattern.match(value):
            raise ValidationError(f"must be {self.meaning}")
        return str(value)


class DateValue(Value):
    """A date of :mod:`flowstatus.domain.date_values`' grammar."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int | str:
        try:
            return check_date(value)
        except BadDate as exc:
            raise ValidationError(f"is not a date: {exc}") from None


class Scalar(Value):
    """A string, a JSON number, true/false or null (a ``search_after`` value)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return Text(1024).deserialize(value)
        if isinstance(value, (bool, int, float)):
            return value if isinstance(value, bool) else Number().deserialize(value)
        raise ValidationError(f"must be a string, a number or true/false, not {describe(value)}")


def load_each(entries: Iterable[tuple[Any, Any]], load: Callable[[Any], Any]) -> dict[Any, Any]:
    """``{key: load(value)}`` for every entry; raises one ``ValidationError`` keyed like the entries, naming all."""
    loaded, errors = {}, {}
    for key, value in entries:
        try:
            loaded[key] = load(value)
        except ValidationError as exc:
            errors[key] = exc.messages
    if errors:
        raise ValidationError(errors)
    return loaded


class ListOf(Value):
    """An array of ``inner`` values, ``min_items`` to ``max_items`` long; ``single``: one bare value is an array of one."""

    def __init__(
        self, inner: Value, *, min_items: int = 0, max_items: int = 1_024, single: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.inner, self.min_items, self.max_items, self.single = inner, min_items, max_items, single

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            if not self.single:
                raise ValidationError(f"must be an array, not {describe(value)}")
            value = [value]
        if not self.min_items <= len(value) <= self.max_items:
            raise ValidationError(f"must hold from {self.min_items} to {self.max_items} entries")
        return list(load_each(enumerate(value), self.inner.deserialize).values())


class Object(Value):
    """A JSON object loaded by ``schema`` (a class, or a function making one)."""

    def __init__(self, schema: Callable[[], Schema], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        return self.schema().load(value)


class FieldName(Value):
    """A field of the state index of one of ``types``, in the nested context being loaded."""

    def __init__(self, types: frozenset[FieldType] = ANY, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.types = types

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be a field name, not {describe(value)}")
        context = current()
        try:
            resolve(value, nested=context.nested, hide_user=context.hide_user, types=self.types)
        except FieldRefused as exc:
            raise ValidationError(str(exc)) from None
        return str(value)


def typed_value(field_type: FieldType, **kwargs: Any) -> Value:
    """How a value compared with a field of ``field_type`` is written (in a term, terms or range)."""
    if field_type is FieldType.DATE:
        return DateValue(**kwargs)
    if field_type is FieldType.INTEGER:
        return WholeNumber(-INT_MAX - 1, INT_MAX, **kwargs)
    return Text(**kwargs)
