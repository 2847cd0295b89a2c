"""Combining wrk passes and the ratios of a row (bench/figures.py); nothing is measured here."""

from __future__ import annotations

import pytest

from bench.figures import Measurement, Pass, Row, combine, ratio


def m(rate: float, p50: float = 1.0, p99: float = 2.0, **kw: object) -> Measurement:
    return Measurement(rate=rate, p50_ms=p50, p99_ms=p99, requests=100, **kw)  # type: ignore[arg-type]


def test_ratios_against_raw_are_flowstatus_over_raw() -> None:
    row = Row("read", "status", 1000, 64, "req/s", m(1000, 1.0, 4.0), m(800, 2.0, 6.0))
    assert row.rate_ratio == pytest.approx(0.8)
    assert row.p50_ratio == pytest.approx(2.0)
    assert row.p99_ratio == pytest.approx(1.5)
    assert (row.vs_raw.rate, row.vs_raw.p50, row.vs_raw.p99) == (row.rate_ratio, row.p50_ratio, row.p99_ratio)


def test_ratios_against_the_plugin_are_flowstatus_over_plugin() -> None:
    row = Row("read", "status", 1000, 8, "req/s", m(4000, 0.5, 3.0), m(1000, 2.0, 9.0), plugin=m(2000, 1.0, 3.0))
    assert row.vs_plugin.rate == pytest.approx(0.5)
    assert row.vs_plugin.p50 == pytest.approx(2.0)
    assert row.vs_plugin.p99 == pytest.approx(3.0)
    assert row.vs_raw.rate == pytest.approx(0.25)


def test_without_the_plugin_its_ratios_are_none() -> None:
    row = Row("read", "status", 1000, 8, "req/s", m(4000), m(1000))
    assert (row.vs_plugin.rate, row.vs_plugin.p50, row.vs_plugin.p99) == (None, None, None)


def test_opensearch_cpu_ratio_compares_the_flowstatus_load_with_the_raw_load() -> None:
    row = Row("read", "status", 1000, 64, "req/s", m(4000, cpu_us={"opensearch": 100.0}),
              m(1000, cpu_us={"flowstatus": 900.0, "opensearch": 140.0}),
              plugin=m(3000, cpu_us={"opensearch": 120.0}))
    assert row.opensearch_cpu_ratio == pytest.approx(1.4)  # the plugin's CPU plays no part


def test_opensearch_cpu_ratio_is_none_where_opensearch_was_not_read() -> None:
    row = Row("read", "status", 1000, 64, "req/s", m(4000), m(1000, cpu_us={"flowstatus": 900.0}))
    assert row.opensearch_cpu_ratio is None


def test_ratio_with_nothing_to_compare_is_none() -> None:
    assert ratio(5.0, 0.0) is None
    assert ratio(None, 3.0) is None
    assert Row("read", "status", 1000, 1, "req/s", m(0), m(10)).rate_ratio is None


def test_combine_sums_work_and_time_and_averages_percentiles() -> None:
    passes = [
        Pass(1000, 5.0, 1.0, 10.0, {"200": 999, "500": 1}, {"read": 2, "status": 1},
             cpu_s={"flowstatus": 1.0, "opensearch": 0.1}),
        Pass(3000, 5.0, 3.0, 30.0, {"200": 3000}, {"status": 0}, bulk_errors=4, updated=7, cpu_s={"flowstatus": 2.0}),
    ]
    c = combine(passes, expected="200", per_request=10)
    assert c.requests == 4000
    assert c.rate == pytest.approx(40_000 / 10.0)  # units per second
    assert (c.p50_ms, c.p99_ms) == (2.0, 20.0)
    assert c.cpu_us == {"flowstatus": pytest.approx(3.0 * 1e6 / 40_000), "opensearch": pytest.approx(0.1 * 1e6 / 40_000)}
    assert c.errors == 1 + 2 + 4  # the 500, the read errors, the bulk errors; not wrk's "status" tally
    assert c.extra["statuses"] == {"200": 3999, "500": 1}
    assert c.extra["updated"] == 7


def test_combine_with_expected_404s_counts_no_error() -> None:
    c = combine([Pass(10, 1.0, 1.0, 2.0, {"404": 10}, {"status": 10})], expected="404")
    assert c.errors == 0
    assert c.rate == 10.0


def test_combine_of_a_load_that_did_nothing_has_no_cpu_figure() -> None:
    c = combine([Pass(0, 2.0, 0.0, 0.0, {}, cpu_s={"flowstatus": 0.5})], expected="200", per_request=100)
    assert (c.rate, c.requests, c.cpu_us) == (0.0, 0, {})
