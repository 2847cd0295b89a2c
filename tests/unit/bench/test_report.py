"""The bench's report: tables per size, the header, notes, sections and the JSON (bench/report.py).

Nothing is measured here.
"""

from __future__ import annotations

import json

import pytest

from bench import longpoll, report
from bench.figures import Measurement, Row
from bench.report import READ_HEADER, Section
from bench.targets import Target


def m(rate: float, p50: float = 1.0, p99: float = 2.0, **kw: object) -> Measurement:
    return Measurement(rate=rate, p50_ms=p50, p99_ms=p99, requests=100, **kw)  # type: ignore[arg-type]


def status_row(size: int = 100_000, c: int = 8, plugin: Measurement | None = None) -> Row:
    return Row("read", "status", size, c, "req/s", m(4000, 0.5, 2.0, cpu_us={"opensearch": 100.0}),
               m(1000, 2.0, 8.0, cpu_us={"flowstatus": 1200.0, "opensearch": 160.0}), plugin)


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def first_by_header(header: str, line: str) -> dict[str, str]:
    """The cells of ``line`` by column title; a repeated title (vs plugin, vs raw) keeps its first column."""
    out: dict[str, str] = {}
    for title, cell in zip(cells(header), cells(line), strict=True):
        out.setdefault(title, cell)
    return out


def test_a_read_line_puts_raw_plugin_and_flowstatus_side_by_side_with_both_ratios() -> None:
    plugin = m(2000, 1.0, 4.0, cpu_us={"opensearch": 120.0})
    table = report.read_table([status_row(plugin=plugin)]).splitlines()
    header = cells(table[0])
    row = first_by_header(table[0], table[2])
    assert len(cells(table[1])) == len(header)
    assert (row["raw /s"], row["plugin /s"], row["flowstatus /s"]) == ("4,000", "2,000", "1,000")
    assert (row["vs plugin"], row["vs raw"]) == ("0.50x", "0.25x")
    assert row["p50 ms raw / plugin / fs"] == "0.50 / 1.00 / 2.00"
    assert row["p99 ms raw / plugin / fs"] == "2.00 / 4.00 / 8.00"
    assert [c for h, c in zip(header, cells(table[2]), strict=True) if h == "vs plugin"] == ["0.50x", "2.00x", "2.00x"]
    assert [c for h, c in zip(header, cells(table[2]), strict=True) if h == "vs raw"] == ["0.25x", "4.00x", "4.00x"]
    assert (row["CPU µs raw"], row["CPU µs plugin"], row["CPU µs fs + OS"]) == ("100 OS", "120 OS", "1,200 + 160 OS")
    assert row["OS CPU vs raw"] == "1.60x"


def test_without_the_plugin_its_columns_are_na() -> None:
    line = report.read_table([status_row(plugin=None)]).splitlines()[2]
    row = first_by_header(READ_HEADER, line)
    assert row["plugin /s"] == row["vs plugin"] == row["CPU µs plugin"] == "n/a"
    assert row["p50 ms raw / plugin / fs"] == "0.50 / n/a / 2.00"
    assert row["vs raw"] == "0.25x"


def test_write_table_compares_raw_and_flowstatus() -> None:
    rows = [Row("write", "bulk events", None, 8, "events/s", m(5000, cpu_us={"opensearch": 90.0}), m(2000))]
    table = report.write_table(rows).splitlines()
    assert len(table) == 3
    assert table[2].startswith("| bulk events | 8 | 5,000 events/s | 2,000 | 0.40x |")
    assert table[2].endswith("| 90 OS | n/a |")


def test_report_has_a_read_table_per_size_in_order_then_writes_memory_and_targets() -> None:
    rows = [status_row(100_000, 8), status_row(1000, 8),
            Row("write", "bulk events", None, 8, "events/s", m(5000), m(4000))]
    text = report.markdown_report(rows, [{"role": "worker", "pid": 7, "rss_mib": 51.25}], "HEADER\n",
                                  size_notes={1000: "held 1,000"})
    titles = [line for line in text.splitlines() if line.startswith("### ")]
    assert titles == ["### Reads, N = 1,000 workflows", "### Reads, N = 100,000 workflows", "### Writes",
                      "### Memory after the run", "### Targets"]
    assert text.startswith("HEADER\n")
    assert "held 1,000" in text.split("### Reads, N = 100,000")[0]
    assert "| worker | 7 | 51.2 |" in text
    assert "| bulk events, c=8: throughput vs raw _bulk | 0.800 | flowstatus/raw events/s >= 0.7 | yes |" in text


def test_targets_not_measurable_show_na_never_yes() -> None:
    table = report.targets_table([Target("t", None, 0.4, None, "d"), Target("u", 0.2, 0.4, False, "d")])
    assert table.splitlines()[2] == "| t | n/a | d | n/a |"
    assert table.splitlines()[3] == "| u | 0.200 | d | **no** |"


def test_a_value_just_short_of_its_limit_does_not_print_as_the_limit() -> None:
    table = report.targets_table([Target("bulk", 0.69726, 0.7, False, ">= 0.7")])
    assert table.splitlines()[2] == "| bulk | 0.697 | >= 0.7 | **no** |"


def test_a_section_adds_its_table_figures_and_targets() -> None:
    section = Section("steps", "The step observer", "| a |\n| --- |\n| 1 |", {"rows": [1]},
                      (Target("observer CPU", 0.5, 1.0, True, "<= 1 %"),))
    text = report.markdown_report([status_row()], [], sections=[section])
    assert "### The step observer\n\n| a |" in text
    assert text.index("### The step observer") < text.index("### Targets")
    assert "| observer CPU | 0.500 | <= 1 % | yes |" in text
    doc = report.results_document([status_row()], [], machine={}, versions={}, settings={}, started="s",
                                  finished="f", sections=[section])
    assert doc["sections"] == {"steps": {"rows": [1]}}
    assert doc["targets"][-1]["name"] == "observer CPU"


def test_results_document_keeps_every_figure_and_both_ratios() -> None:
    figures = {"waiters": 300, "worker_os_threads_max": 8, "worker_os_threads_max_each": [4, 4],
               "waiters_gauge_min": 300}
    rows = [status_row(plugin=m(2000, 1.0, 4.0, cpu_us={"opensearch": 120.0})), status_row(c=1)]
    doc = report.results_document(rows, [{"role": "worker", "pid": 2, "rss_mib": 50.0}], machine={"cpu_count": 2},
                                  versions={"python": "3.11"}, settings={"duration_s": 10}, started="s", finished="f",
                                  long_polls=figures, sizes={100_000: {"documents": 100_000}})
    back = json.loads(json.dumps(doc))
    first, second = back["rows"]
    assert first["plugin"]["rate"] == 2000 and first["flowstatus"]["p50_ms"] == 2.0
    assert first["ratios"]["flowstatus/plugin"] == {"rate": 0.5, "p50": 2.0, "p99": 2.0}
    assert first["ratios"]["flowstatus/raw"]["rate"] == pytest.approx(0.25)
    assert first["ratios"]["opensearch_cpu flowstatus/raw"] == pytest.approx(1.6)
    assert second["plugin"] is None and second["ratios"]["flowstatus/plugin"] is None
    assert back["long_polls"]["worker_os_threads_max_each"] == [4, 4]
    assert back["sizes"] == {"100000": {"documents": 100_000}}
    names = {t["name"] for t in back["targets"]}
    assert {"status, N=100,000, c=8: throughput vs plugin", "worker 2 RSS MiB",
            "300 long polls waiting: OS threads per worker"} <= names


def run_document(plugin: str | None = "2.19.6.0") -> dict:
    return {
        "versions": {"flowstatus": "0.1.0", "git": "abc1234", "opensearch": "2.19.6", "opensearch_heap": "1.0 GiB",
                     "flow_framework_plugin": plugin, "python": "3.11.7",
                     "wsgi_server": {"gunicorn": "27.0.1", "gevent": "26.9.0"}, "flask": "3.1", "opensearch-py": "3.2",
                     "wrk": "wrk 4.1.0"},
        "machine": {"cpu_count": 2, "cpu_model": "AMD EPYC", "memory_gib": 23.5, "platform": "Linux",
                    "load_average_start": [0.4, 0.5, 0.6], "load_average_end": [2.1, 1.0, 0.7]},
        "settings": {"command": "python bench/run.py --sizes 1000,100000", "duration_s": 10.0, "rounds": 2,
                     "sizes": [1000, 100_000], "index": ".plugins-flow-framework-state",
                     "opensearch": "devtools.opensearch (flow-framework)", "serve_extra": ["--workers=3"],
                     "server_env": {"FLOWSTATUS_POOL_SIZE": "64"},
                     "serve_defaults": {"summary": "Serve under gunicorn", "host": "127.0.0.1", "workers": 2,
                                        "worker_class": "gevent"}},
    }


def test_header_names_command_machine_versions_and_load() -> None:
    header = report.report_header(run_document())
    assert "`python bench/run.py --sizes 1000,100000`" in header
    assert "2 CPUs (AMD EPYC), 23.5 GiB memory" in header
    assert "load average 0.4, 0.5, 0.6 before, 2.1, 1.0, 0.7 after" in header
    assert "OpenSearch 2.19.6" in header and "Flow Framework plugin 2.19.6.0" in header
    assert "flowstatus 0.1.0 (git abc1234)" in header and "Python 3.11.7" in header
    assert "WSGI server gunicorn 27.0.1, gevent 26.9.0" in header
    assert "workers 2, worker-class gevent" in header and "127.0.0.1" not in header
    assert "--workers=3" in header and "FLOWSTATUS_POOL_SIZE=64" in header
    assert "10 s in 2 passes" in header
    assert "N = 1,000, then grown to 100,000), not interleaved" in header


def test_header_says_when_the_node_has_no_plugin() -> None:
    assert "no Flow Framework plugin (not installed on this node" in report.report_header(run_document(None))


def test_size_note_gives_documents_and_background_cpu() -> None:
    note = report.size_note({"documents": 100_000, "settled_s": 4.2,
                             "idle_cpu_ms_per_s": {"flowstatus": 1.5, "opensearch": 12.0}})
    assert "100,000 documents" in note and "4.2 s to settle" in note
    assert "flowstatus 1.5 ms/s, OpenSearch 12 ms/s" in note


def test_notes_report_errors_loads_without_answers_and_hot_document_counts() -> None:
    hot_raw = Measurement(400, 1.0, 2.0, 800, extra={"updated": 800, "resources_in_doc": 60})
    hot_fs = Measurement(300, 1.0, 2.0, 600, errors=2, extra={"updated": 598, "resources_in_doc": 600,
                                                               "statuses": {"200": 598, "503": 2}})
    silent = Measurement(0.0, 0.0, 0.0, 0)
    lines = report.notes([Row("write", "hot workflow", None, 16, "events/s", hot_raw, hot_fs),
                          Row("read", "status", 1000, 8, "req/s", m(10), m(10), silent)])
    assert any("flowstatus: 2 errors" in line and "'503': 2" in line for line in lines)
    assert "hot workflow, raw: 800 appends acknowledged, the document holds 60 resources" in lines
    assert "hot workflow, flowstatus: 598 appends acknowledged, the document holds 600 resources" in lines
    assert "status N=1,000 c=8, plugin: no request completed within the load's time" in lines


def test_memory_table_lists_each_process() -> None:
    table = report.memory_table([{"role": "worker", "pid": 7, "rss_mib": 51.25}])
    assert table.splitlines()[-1] == "| worker | 7 | 51.2 |"


def test_long_poll_table_shows_threads_per_worker() -> None:
    figures = {"waiters": 300, "workflows": 100, "changes_per_s": 10.0, "waiters_gauge_min": 298,
               "answers_per_s": {"200": 25.0, "304": 0.0, "error": 0.0},
               "opensearch_requests_per_s": {"get": 25.0, "mget": 16.0}, "opensearch_requests_per_s_total": 41.0,
               "worker_os_threads_max": 7, "worker_os_threads_max_each": [3, 4], "worker_rss_mib": [55.0, 56.1]}
    line = longpoll.markdown(figures).splitlines()[2]
    assert cells(line)[-2:] == ["3, 4", "55.0, 56.1"]
    assert "300 waiting (gauge min 298)" in line
