"""Duration buckets count as Prometheus's ``le`` does; the oldest provisioning age runs on from the census."""

from __future__ import annotations

from flowstatus.domain.census import DURATION_BUCKETS, DurationHistogram, WorkflowCensus


def test_a_duration_on_a_bound_counts_in_that_bucket_and_above_the_last_in_inf() -> None:
    histogram = DurationHistogram.of([0.0, 1.0, 1.001, 5.0, 86400.0, 86400.5])
    rows = dict(histogram.cumulative())
    assert rows[1.0] == 2 and rows[5.0] == 4 and rows[10.0] == 4
    assert rows[86400.0] == 5 and rows[float("inf")] == 6
    assert histogram.total_seconds == sum([0.0, 1.0, 1.001, 5.0, 86400.0, 86400.5])
    assert len(histogram.counts) == len(DURATION_BUCKETS) + 1


def test_cumulative_counts_never_decrease_and_end_with_the_count() -> None:
    rows = DurationHistogram.of([3, 40, 40, 700, 5000]).cumulative()
    counts = [count for _, count in rows]
    assert counts == sorted(counts) and counts[-1] == 5


def test_the_oldest_provisioning_age_is_measured_at_the_scrape() -> None:
    census = WorkflowCensus(taken_at=1000.0, oldest_provisioning_start=400.0)
    assert census.oldest_provisioning_age(1000.0) == 600.0
    assert census.oldest_provisioning_age(1060.0) == 660.0, "a cached census still shows a stall growing"
    assert census.oldest_provisioning_age(300.0) == 0.0, "a start in the future is no age"
    assert WorkflowCensus.empty(1000.0).oldest_provisioning_age(5000.0) == 0.0
