"""Dates and intervals: one spelling, one meaning, and the widest instant a date can stand for."""

from __future__ import annotations

import pytest

from flowstatus.domain.date_values import (
    CLOCK_SLACK,
    DAY,
    HOUR,
    BadDate,
    calendar_interval_ms,
    check_date,
    check_offset,
    date_bounds,
    fixed_interval_ms,
)

NOW = 1_700_000_000_000


@pytest.mark.parametrize("value", [0, -1, 1_700_000_000_000, "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250+02:00",
                                   "now", "now-7d", "now-1d/d", "now+1h-30m", "now/M"])
def test_dates_of_the_grammar(value: int | str) -> None:
    assert check_date(value) == value


@pytest.mark.parametrize("value", [
    "1700000000000", "0x10", " now", "now-1.5d", "now-1ms", "2024-05-01", "2024-05-01T12:00Z", "2024-05-01 12:00:00Z",
    "2024-02-30T00:00:00Z", "2024-05-01T12:00:00", "now||-1d", 1.5, True, None, [], 10**15, -(10**15),
])
def test_every_other_spelling_is_refused(value: object) -> None:
    with pytest.raises(BadDate):
        check_date(value)


def test_bounds_of_fixed_dates_are_exact() -> None:
    assert date_bounds(NOW, NOW) == (NOW, NOW)
    low, high = date_bounds("2023-11-14T22:13:20Z", 0)
    assert low <= NOW <= high and high - low <= 2


def test_bounds_of_date_math_cover_clock_skew_month_lengths_and_rounding() -> None:
    assert date_bounds("now", NOW) == (NOW - CLOCK_SLACK, NOW + CLOCK_SLACK)
    assert date_bounds("now-1h", NOW) == (NOW - HOUR - CLOCK_SLACK, NOW - HOUR + CLOCK_SLACK)
    low, high = date_bounds("now-1M", NOW)
    assert (low, high) == (NOW - 31 * DAY - CLOCK_SLACK, NOW - 28 * DAY + CLOCK_SLACK)
    low, high = date_bounds("now/d", NOW)
    assert (low, high) == (NOW - DAY - CLOCK_SLACK, NOW + DAY + CLOCK_SLACK)


def test_intervals_and_offsets() -> None:
    assert fixed_interval_ms("1ms") == 1
    assert fixed_interval_ms("90m") == 90 * 60_000
    assert calendar_interval_ms("1M") == 28 * DAY
    assert calendar_interval_ms("quarter") == 90 * DAY
    assert check_offset("+6h") == "+6h"
    for bad in ("0s", "1.5h", "1y", "1M", " 1h", 1, "01h"):
        with pytest.raises(BadDate):
            fixed_interval_ms(bad)
    for bad in ("2d", "1mo", 1):
        with pytest.raises(BadDate):
            calendar_interval_ms(bad)
    for bad in ("6", "+6 h", 6):
        with pytest.raises(BadDate):
            check_offset(bad)
