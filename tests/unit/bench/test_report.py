"""The bench's pure helpers: seed documents, wrk output parsing, ratios, tables, targets.

No load is generated and nothing is timed here.
"""

from __future__ import annotations

import json

import pytest

from bench import report, seed, wrk
from bench.report import Measurement, Row
from flowstatus.schemas.state import dump_state, load_state


def _m(rate: float, p50: float = 1.0, p99: float = 2.0, **kw: object) -> Measurement:
    return Measurement(rate=rate, p50_ms=p50, p99_ms=p99, requests=100, **kw)  # type: ignore[arg-type]


# -- seed ---------------------------------------------------------------------


@pytest.mark.parametrize("i", [0, 1, 2, 3, 99_999])
def test_read_docs_are_in_the_plugins_stored_format(i: int) -> None:
    doc = seed.read_doc(i)
    assert dump_state(load_state(doc)) == doc  # keys, order and values as flowstatus writes them
    assert list(doc) == list(dump_state(load_state(doc)))
    assert doc["workflow_id"] == seed.read_id(i)


def test_a_third_of_read_docs_carry_ten_resources() -> None:
    counts = [len(seed.read_doc(i).get("resources_created", [])) for i in range(300)]
    assert counts.count(10) == 100
    assert counts.count(0) == 200


def test_write_targets_are_provisioning() -> None:
    doc = seed.write_doc("bench-w-fs-00001")
    state = load_state(doc)
    assert (state.state, state.provisioning_progress) == ("PROVISIONING", "IN_PROGRESS")
    assert dump_state(state) == doc


def test_bulk_body_is_index_actions() -> None:
    body = seed.bulk_body("idx", [("a", {"x": 1}), ("b", {"y": 2})])
    lines = body.decode().splitlines()
    assert body.endswith(b"\n")
    assert [json.loads(line) for line in lines] == [
        {"index": {"_index": "idx", "_id": "a"}},
        {"x": 1},
        {"index": {"_index": "idx", "_id": "b"}},
        {"y": 2},
    ]


# -- wrk output -----------------------------------------------------------------


def test_parse_output_reads_the_marker_line() -> None:
    out = (
        "Running 10s test @ http://127.0.0.1:1\n"
        'BENCH_JSON {"requests":2000,"duration_us":2000000,"bytes":1,'
        '"errors":{"connect":0,"read":1,"write":0,"status":5,"timeout":0},'
        '"latency_us":{"p50":1500,"p90":2500,"p99":9000,"max":12000,"mean":1700},'
        '"statuses":{"200":1995,"404":5},"bulk_errors":2,"updated":30,"noops":1}\n'
    )
    r = wrk.parse_output(out)
    assert r.requests == 2000
    assert r.rps == pytest.approx(1000.0)
    assert (r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms) == (1.5, 2.5, 9.0, 12.0)
    assert r.statuses == {"200": 1995, "404": 5}
    assert r.socket_errors["read"] == 1
    assert (r.bulk_errors, r.updated, r.noops) == (2, 30, 1)


def test_parse_output_without_the_marker_fails_clearly() -> None:
    with pytest.raises(ValueError, match="BENCH_JSON"):
        wrk.parse_output("unable to connect to 127.0.0.1:1 Connection refused\n")


# -- ratios and tables ------------------------------------------------------------


def test_ratios_are_flowstatus_over_raw() -> None:
    row = Row("read", "status", 1000, 64, "req/s", _m(1000, 1.0, 4.0), _m(800, 2.0, 6.0))
    assert row.rate_ratio == pytest.approx(0.8)
    assert row.p50_ratio == pytest.approx(2.0)
    assert row.p99_ratio == pytest.approx(1.5)


def test_ratio_with_nothing_to_compare_is_none() -> None:
    assert report.ratio(5.0, 0.0) is None
    assert report.ratio(None, 3.0) is None
    row = Row("read", "status", 1000, 1, "req/s", _m(0), _m(10))
    assert row.rate_ratio is None
    assert "n/a" in report.markdown_table([row])


def test_markdown_table_has_one_line_per_row_and_shows_cpu() -> None:
    rows = [
        Row("read", "status", 100_000, 8, "req/s", _m(2000, cpu_us={"opensearch": 150.0}),
            _m(500, cpu_us={"flowstatus": 1200.0, "opensearch": 160.0})),
        Row("write", "bulk events", None, 8, "events/s", _m(5000), _m(2000)),
    ]
    table = report.markdown_table(rows).splitlines()
    assert len(table) == 2 + len(rows)
    assert table[0].count("|") == table[1].count("|") == table[2].count("|")
    assert "| status | 100,000 | 8 | 2,000 req/s | 500 | 0.25x |" in table[2]
    assert "150 OS" in table[2] and "1,200 + 160 OS" in table[2]
    assert table[3].startswith("| bulk events |  | 8 | 5,000 events/s | 2,000 | 0.40x |")


# -- combining passes ------------------------------------------------------------


def test_combine_sums_work_and_time_and_averages_percentiles() -> None:
    passes = [
        report.Pass(1000, 5.0, 1.0, 10.0, {"200": 999, "500": 1}, {"read": 2, "status": 1},
                    cpu_s={"flowstatus": 1.0, "opensearch": 0.1}),
        report.Pass(3000, 5.0, 3.0, 30.0, {"200": 3000}, {"status": 0}, bulk_errors=4, updated=7,
                    cpu_s={"flowstatus": 2.0}),
    ]
    m = report.combine(passes, expected="200", per_request=10)
    assert m.requests == 4000
    assert m.rate == pytest.approx(40_000 / 10.0)  # units per second
    assert (m.p50_ms, m.p99_ms) == (2.0, 20.0)
    assert m.cpu_us == {"flowstatus": pytest.approx(3.0 * 1e6 / 40_000), "opensearch": pytest.approx(0.1 * 1e6 / 40_000)}
    assert m.errors == 1 + 2 + 4  # the 500, the read errors, the bulk errors; not wrk's "status" tally
    assert m.extra["statuses"] == {"200": 3999, "500": 1}
    assert m.extra["updated"] == 7


def test_combine_with_expected_404s_counts_no_error() -> None:
    m = report.combine([report.Pass(10, 1.0, 1.0, 2.0, {"404": 10}, {"status": 10})], expected="404")
    assert m.errors == 0
    assert m.rate == 10.0


# -- targets ------------------------------------------------------------------------


def _read_rows(size: int, fs_rate: float, fs_p50: float, fs_p99: float) -> list[Row]:
    raw = _m(1000, 1.0, 10.0)
    return [
        Row("read", "status", size, 64, "req/s", raw, _m(fs_rate, fs_p50, fs_p99)),
        Row("read", "missing id", size, 64, "req/s", raw, _m(10, 50.0, 500.0)),
    ]


def test_targets_checked_on_the_largest_size_at_c64() -> None:
    rows = _read_rows(1000, 100, 1.0, 100.0) + _read_rows(100_000, 900, 1.1, 15.0)
    rows.append(Row("write", "bulk events", None, 8, "events/s", _m(1000), _m(600)))
    memory = [{"role": "master", "pid": 1, "rss_mib": 120.0}, {"role": "worker", "pid": 2, "rss_mib": 60.0}]
    targets = {t.name: t for t in report.evaluate_targets(rows, memory)}
    assert targets["status throughput, N=100,000, c=64"].passed  # 0.9 >= 0.8
    assert targets["status p99, N=100,000, c=64"].passed  # 1.5 <= 2
    assert not targets["bulk events throughput, c=8"].passed  # 0.6 < 0.7
    assert targets["status p50 flat 1,000 -> 100,000, c=64"].passed  # 1.1 <= 1.2
    assert targets["worker 2 RSS MiB"].passed
    assert not any("master" in name or "missing" in name for name in targets)  # no target for those
    assert not any("N=1,000," in name for name in targets)


def test_flat_target_missed_when_p50_grows() -> None:
    rows = _read_rows(1000, 900, 1.0, 10.0) + _read_rows(100_000, 900, 1.3, 10.0)
    (flat,) = [t for t in report.evaluate_targets(rows, []) if "flat" in t.name]
    assert flat.value == pytest.approx(1.3)
    assert not flat.passed


def test_results_document_is_json_serialisable() -> None:
    rows = _read_rows(1000, 900, 1.0, 10.0)
    doc = report.results_document(rows, [{"role": "worker", "pid": 2, "rss_mib": 50.0}], machine={"cpu_count": 2},
                                  versions={"python": "3.11"}, settings={"duration_s": 10}, started="s", finished="f")
    back = json.loads(json.dumps(doc))
    assert back["rows"][0]["ratios"]["rate"] == pytest.approx(0.9)
    assert back["rows"][0]["flowstatus"]["p50_ms"] == 1.0
    assert {t["name"] for t in back["targets"]} >= {"status throughput, N=1,000, c=64", "worker 2 RSS MiB"}


def test_notes_report_errors_and_hot_document_counts() -> None:
    hot_raw = Measurement(400, 1.0, 2.0, 800, extra={"updated": 800, "resources_in_doc": 60})
    hot_fs = Measurement(300, 1.0, 2.0, 600, errors=2, extra={"updated": 598, "resources_in_doc": 600,
                                                               "statuses": {"200": 598, "503": 2}})
    lines = report.notes([Row("write", "hot workflow", None, 16, "events/s", hot_raw, hot_fs)])
    assert any("flowstatus: 2 errors" in line and "'503': 2" in line for line in lines)
    assert "hot workflow, raw: 800 appends acknowledged, the document holds 60 resources" in lines
    assert "hot workflow, flowstatus: 598 appends acknowledged, the document holds 600 resources" in lines


def test_memory_table_names_the_index_size() -> None:
    table = report.memory_table([{"role": "worker", "pid": 7, "rss_mib": 51.25, "size": 100_000}])
    assert table.splitlines()[-1] == "| gunicorn worker | 100,000 | 7 | 51.2 |"
