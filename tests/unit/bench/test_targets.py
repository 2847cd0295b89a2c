"""The benchmark's targets checked on a run's figures (bench/targets.py); nothing is measured here."""

from __future__ import annotations

import pytest

from bench import targets
from bench.figures import Measurement, Row
from bench.targets import Target, evaluate_targets


def m(rate: float, p50: float = 1.0, p99: float = 2.0, cpu: float | None = None) -> Measurement:
    return Measurement(rate=rate, p50_ms=p50, p99_ms=p99, requests=100,
                       cpu_us={} if cpu is None else {"opensearch": cpu})


def reads(size: int, c: int, *, fs: Measurement, plugin: Measurement | None, raw: Measurement | None = None) -> list[Row]:
    raw = raw or m(10_000, 0.2, 1.0, cpu=100.0)
    return [Row("read", name, size, c, "req/s", raw, fs, plugin) for name in ("status", "status?all=true", "missing id")]


def by_name(found: list[Target]) -> dict[str, Target]:
    return {t.name: t for t in found}


def test_throughput_against_the_plugin_at_c8_and_c64_for_both_status_reads() -> None:
    rows = (reads(1000, 1, fs=m(500), plugin=m(2000)) + reads(1000, 8, fs=m(900), plugin=m(2000))
            + reads(1000, 64, fs=m(700), plugin=m(2000)))
    found = by_name(evaluate_targets(rows, []))
    assert found["status, N=1,000, c=8: throughput vs plugin"].passed  # 0.45 >= 0.4
    assert found["status?all=true, N=1,000, c=8: throughput vs plugin"].value == pytest.approx(0.45)
    assert found["status, N=1,000, c=64: throughput vs plugin"].passed is False  # 0.35 < 0.4
    assert "status, N=1,000, c=1: throughput vs plugin" not in found
    assert not any(name.startswith("missing id") for name in found)


def test_p50_against_the_plugin_at_c1_and_p99_at_c64() -> None:
    rows = reads(1000, 1, fs=m(500, p50=0.9), plugin=m(2000, p50=0.4)) + \
        reads(1000, 64, fs=m(900, p99=31.0), plugin=m(2000, p99=10.0))
    found = by_name(evaluate_targets(rows, []))
    p50 = found["status, N=1,000, c=1: p50 vs plugin"]
    assert (p50.value, p50.limit, p50.passed) == (pytest.approx(2.25), 2.0, False)
    p99 = found["status?all=true, N=1,000, c=64: p99 vs plugin"]
    assert (p99.value, p99.limit, p99.passed) == (pytest.approx(3.1), 3.0, False)
    assert "status, N=1,000, c=64: p50 vs plugin" not in found
    assert "status, N=1,000, c=1: p99 vs plugin" not in found


def test_plugin_targets_are_checked_at_every_size() -> None:
    rows = reads(1000, 8, fs=m(900), plugin=m(2000)) + reads(100_000, 8, fs=m(700), plugin=m(2000))
    found = by_name(evaluate_targets(rows, []))
    assert found["status, N=1,000, c=8: throughput vs plugin"].passed
    assert found["status, N=100,000, c=8: throughput vs plugin"].passed is False


def test_without_the_plugin_its_targets_are_not_measurable_never_met() -> None:
    found = by_name(evaluate_targets(reads(1000, 8, fs=m(900), plugin=None), []))
    target = found["status, N=1,000, c=8: throughput vs plugin"]
    assert (target.value, target.passed) == (None, None)


def test_opensearch_cpu_per_read_against_the_raw_get_of_the_same_row_and_concurrency() -> None:
    rows = reads(1000, 8, fs=m(900, cpu=140.0), plugin=m(2000, cpu=90.0), raw=m(9000, cpu=100.0)) + \
        reads(1000, 64, fs=m(900, cpu=160.0), plugin=m(2000, cpu=90.0), raw=m(9000, cpu=100.0))
    found = by_name(evaluate_targets(rows, []))
    c8 = found["status, N=1,000, c=8: OpenSearch CPU per read vs raw GET"]
    assert (c8.value, c8.passed) == (pytest.approx(1.4), True)
    c64 = found["status?all=true, N=1,000, c=64: OpenSearch CPU per read vs raw GET"]
    assert (c64.value, c64.passed) == (pytest.approx(1.6), False)


def test_opensearch_cpu_target_is_not_measurable_without_opensearchs_pid() -> None:
    found = by_name(evaluate_targets(reads(1000, 8, fs=m(900), plugin=m(2000), raw=m(9000)), []))
    assert found["status, N=1,000, c=8: OpenSearch CPU per read vs raw GET"].passed is None


def test_bulk_events_against_raw_bulk() -> None:
    rows = [Row("write", "bulk events", None, 8, "events/s", m(1000), m(600)),
            Row("write", "hot workflow", None, 16, "events/s", m(100), m(10))]
    found = evaluate_targets(rows, [])
    assert [(t.name, t.passed) for t in found] == [("bulk events, c=8: throughput vs raw _bulk", False)]


def test_flat_p50_of_status_from_the_smallest_to_the_largest_size_per_concurrency() -> None:
    rows = (reads(1000, 1, fs=m(500, p50=1.0), plugin=None) + reads(1000, 64, fs=m(500, p50=10.0), plugin=None)
            + reads(100_000, 1, fs=m(500, p50=1.1), plugin=None) + reads(100_000, 64, fs=m(500, p50=13.0), plugin=None))
    found = by_name(evaluate_targets(rows, []))
    assert found["status p50 flat 1,000 -> 100,000, c=1"].passed  # 1.1 <= 1.2
    flat64 = found["status p50 flat 1,000 -> 100,000, c=64"]
    assert (flat64.value, flat64.passed) == (pytest.approx(1.3), False)
    assert not any("flat" in name and "all=true" in name for name in found)


def test_flat_target_shows_how_raw_and_plugin_p50_moved_between_the_sizes() -> None:
    rows = (reads(1000, 8, fs=m(500, p50=10.0), plugin=m(900, p50=1.0), raw=m(9000, p50=0.5))
            + reads(100_000, 8, fs=m(500, p50=13.0), plugin=m(900, p50=1.25), raw=m(9000, p50=0.6)))
    (flat,) = [t for t in evaluate_targets(rows, []) if "flat" in t.name]
    assert flat.detail.endswith("(same ratio for raw GET 1.20, plugin 1.25)")
    (no_plugin,) = [t for t in evaluate_targets([Row(r.group, r.name, r.size, r.concurrency, r.unit, r.raw,
                                                     r.flowstatus) for r in rows], []) if "flat" in t.name]
    assert no_plugin.detail.endswith("(same ratio for raw GET 1.20)")


def test_no_flat_target_with_one_size() -> None:
    assert not [t for t in evaluate_targets(reads(1000, 1, fs=m(500), plugin=None), []) if "flat" in t.name]


def test_worker_rss_but_not_the_master() -> None:
    memory = [{"role": "master", "pid": 1, "rss_mib": 120.0}, {"role": "worker", "pid": 2, "rss_mib": 60.0},
              {"role": "worker", "pid": 3, "rss_mib": 81.0}]
    found = by_name(evaluate_targets([], memory))
    assert found["worker 2 RSS MiB"].passed and not found["worker 3 RSS MiB"].passed
    assert len(found) == 2


def long_polls(threads: list[int], gauge: float = 300) -> dict:
    return {"waiters": 300, "worker_os_threads_max": sum(threads), "worker_os_threads_max_each": threads,
            "waiters_gauge_min": gauge}


def test_long_polls_hold_at_most_ten_os_threads_per_worker() -> None:
    (ok,) = evaluate_targets([], [], long_polls([4, 9]))
    assert (ok.name, ok.value, ok.passed) == ("300 long polls waiting: OS threads per worker", 9.0, True)
    (busy,) = evaluate_targets([], [], long_polls([4, 11]))
    assert busy.passed is False


def test_long_poll_target_is_missed_when_the_waiters_were_not_waiting() -> None:
    (idle,) = evaluate_targets([], [], long_polls([4, 4], gauge=120))
    assert idle.passed is False
    assert "gauge min 120" in idle.detail


def test_no_long_poll_target_without_the_row() -> None:
    assert evaluate_targets([], [], None) == []


def test_the_limits_are_the_ones_asked_for() -> None:
    assert (targets.PLUGIN_THROUGHPUT_MIN, targets.PLUGIN_P50_MAX, targets.PLUGIN_P99_MAX) == (0.4, 2.0, 3.0)
    assert (targets.OPENSEARCH_CPU_MAX, targets.BULK_THROUGHPUT_MIN, targets.FLAT_P50_MAX) == (1.5, 0.7, 1.2)
    assert (targets.WORKER_RSS_MAX_MIB, targets.LONG_POLL_THREADS_PER_WORKER_MAX) == (80.0, 10)
