"""How the status page writes times and durations."""

from __future__ import annotations

import pytest

from flowstatus.ui.display import duration, iso_time, utc_time


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(None, ""), (850, "850 ms"), (12_345, "12.3 s"), (245_000, "4 min 5 s"), (7_380_000, "2 h 3 min"),
     (273_600_000, "3 d 4 h"), (-1_500, "-1.5 s")],
)
def test_durations_read_naturally(ms: int | None, shown: str) -> None:
    assert duration(ms) == shown


def test_times_are_utc_and_out_of_range_ones_never_fail() -> None:
    assert utc_time(1_710_435_961_112) == "2024-03-14 17:06:01 UTC"
    assert iso_time(1_710_435_961_112) == "2024-03-14T17:06:01.112+00:00"
    assert utc_time(10**17) == str(10**17) and iso_time(10**17) == ""
