"""Dates and intervals as a search may write them, read exactly as OpenSearch reads them.

A small grammar, on purpose: every spelling accepted here has exactly one
meaning, the same for flowstatus and for OpenSearch, so the number of
buckets flowstatus computes before sending a histogram is the number
OpenSearch would build.  Anything else is refused rather than guessed.

* a date is a JSON integer (epoch milliseconds, years 0 to 9999), an ISO
  8601 date-time with seconds and a zone (``2024-05-01T12:00:00Z``,
  ``...T12:00:00.250+02:00``), or date math on ``now`` (``now``,
  ``now-7d``, ``now-1d/d``; units ``y M w d h H m s``);
* a fixed interval is ``<n>ms|s|m|h|d``; a calendar interval is one of
  ``minute 1m hour 1h day 1d week 1w month 1M quarter 1q year 1y``.

:func:`date_bounds` gives the earliest and latest instant a date can mean,
so that bounds computed from ``now`` stay upper bounds whatever the clock of
the OpenSearch node says.
"""

from __future__ import annotations

import re
from datetime import datetime

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

EPOCH_MIN = -62_167_219_200_000  # 0000-01-01T00:00:00Z
EPOCH_MAX = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

# A unit of date math: its shortest and longest length in milliseconds (UTC:
# no time zone is accepted, so a day is always 24 hours).
UNIT_LENGTHS = {
    "s": (SECOND, SECOND),
    "m": (MINUTE, MINUTE),
    "h": (HOUR, HOUR),
    "H": (HOUR, HOUR),
    "d": (DAY, DAY),
    "w": (7 * DAY, 7 * DAY),
    "M": (28 * DAY, 31 * DAY),
    "y": (365 * DAY, 366 * DAY),
}
FIXED_UNITS = {"ms": 1, "s": SECOND, "m": MINUTE, "h": HOUR, "d": DAY}
# Calendar intervals OpenSearch accepts, with their shortest length.
CALENDAR_INTERVALS = {
    "minute": MINUTE, "1m": MINUTE, "hour": HOUR, "1h": HOUR, "day": DAY, "1d": DAY, "week": 7 * DAY,
    "1w": 7 * DAY, "month": 28 * DAY, "1M": 28 * DAY, "quarter": 90 * DAY, "1q": 90 * DAY,
    "year": 365 * DAY, "1y": 365 * DAY,
}
# How far the OpenSearch node's clock may be from this process's, for "now".
CLOCK_SLACK = MINUTE

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_NOW = re.compile(r"^now((?:[+-]\d{1,6}[yMwdhHms])*)(?:/([yMwdhHms]))?$")
_STEP = re.compile(r"([+-])(\d{1,6})([yMwdhHms])")
_FIXED = re.compile(r"^([1-9]\d{0,8})(ms|s|m|h|d)$")
_OFFSET = re.compile(r"^[+-]?(\d{1,9})(ms|s|m|h|d)$")

DATE_GRAMMAR = (
    "epoch milliseconds as a JSON integer, an ISO 8601 date-time with seconds and a zone "
    "(2024-05-01T12:00:00Z), or date math on now (now-7d, now-1d/d)"
)


class BadDate(ValueError):
    """Not a date, interval or offset of the grammar above."""


def check_date(value: object) -> int | str:
    """``value`` as a date of the grammar, rebuilt; raises :class:`BadDate`."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadDate(DATE_GRAMMAR)
    if isinstance(value, int):
        if not EPOCH_MIN <= value <= EPOCH_MAX:
            raise BadDate("epoch milliseconds must be within the years 0 to 9999")
        return int(value)
    if _ISO.match(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise BadDate(f"is not a valid date-time; dates are {DATE_GRAMMAR}") from None
        return str(value)
    if _NOW.match(value):
        return str(value)
    raise BadDate(f"dates are {DATE_GRAMMAR}")


def date_bounds(value: int | str, now_ms: int) -> tuple[int, int]:
    """The earliest and latest epoch millisecond a checked date can stand for.

    Exact for integers and date-times (to the millisecond); for date math,
    widened by :data:`CLOCK_SLACK`, month and year lengths and rounding.
    """
    if isinstance(value, int):
        return value, value
    match = _NOW.match(value)
    if match is None:
        parsed = datetime.fromisoformat(value)
        millis = int(parsed.timestamp() * 1000)
        return millis - 1, millis + 1
    low, high = now_ms - CLOCK_SLACK, now_ms + CLOCK_SLACK
    for sign, amount, unit in _STEP.findall(match.group(1)):
        shortest, longest = UNIT_LENGTHS[unit]
        if sign == "+":
            low, high = low + int(amount) * shortest, high + int(amount) * longest
        else:
            low, high = low - int(amount) * longest, high - int(amount) * shortest
    if match.group(2):
        # OpenSearch rounds down or up depending on the bound (gte or gt): either way, by up to one unit.
        longest = UNIT_LENGTHS[match.group(2)][1]
        low, high = low - longest, high + longest
    return low, high


def fixed_interval_ms(value: object) -> int:
    """Milliseconds of a ``fixed_interval``; raises :class:`BadDate`."""
    match = _FIXED.match(value) if isinstance(value, str) else None
    if match is None:
        raise BadDate("a fixed interval is a whole number and one of the units ms, s, m, h, d (e.g. 30s, 1h)")
    return int(match.group(1)) * FIXED_UNITS[match.group(2)]


def calendar_interval_ms(value: object) -> int:
    """The shortest length in milliseconds of a ``calendar_interval``; raises :class:`BadDate`."""
    if not isinstance(value, str) or value not in CALENDAR_INTERVALS:
        raise BadDate(f"a calendar interval is one of {', '.join(CALENDAR_INTERVALS)}")
    return CALENDAR_INTERVALS[value]


def check_offset(value: object) -> str:
    """A date histogram's ``offset`` (``+6h``, ``-30m``), rebuilt; raises :class:`BadDate`."""
    if not isinstance(value, str) or not _OFFSET.match(value):
        raise BadDate("an offset is an optional sign, a whole number and one of the units ms, s, m, h, d (e.g. +6h)")
    return str(value)
