"""The servers section's figures and table (bench/servers.py); nothing is measured here."""

from __future__ import annotations

from bench.servers import markdown, summarize


def test_passes_sum_into_rates_and_cpu_per_read_with_the_worst_latencies() -> None:
    passes = [{"requests": 1000, "seconds": 5.0, "p50_ms": 10.0, "p99_ms": 40.0, "server_cpu_s": 0.3,
               "opensearch_cpu_s": 0.05},
              {"requests": 3000, "seconds": 5.0, "p50_ms": 12.0, "p99_ms": 30.0, "server_cpu_s": 0.9,
               "opensearch_cpu_s": 0.15}]
    row = summarize({"server": "gunicorn", "installed": True, "passes": passes})
    assert (row["rps"], row["p50_ms"], row["p99_ms"]) == (400.0, 12.0, 40.0)
    assert (round(row["server_cpu_us"]), round(row["opensearch_cpu_us"])) == (300, 50)


def test_the_table_says_which_server_is_not_installed_and_when_opensearch_cpu_is_unknown() -> None:
    measured = summarize({"server": "gunicorn", "installed": True, "passes": [
        {"requests": 5000, "seconds": 5.0, "p50_ms": 1.5, "p99_ms": 9.25, "server_cpu_s": 1.5,
         "opensearch_cpu_s": None}]})
    lines = markdown([measured, {"server": "uWSGI", "package": "uwsgi", "installed": False, "passes": []}]).splitlines()
    assert lines[2] == "| gunicorn | 1,000 | 1.50 | 9.25 | 300 | n/a |"
    assert lines[3] == "| uWSGI | not installed (pip install uwsgi) | | | | |"
