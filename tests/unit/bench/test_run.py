"""bench/run.py's options and its optional sections; nothing is started or measured here."""

from __future__ import annotations

import importlib.util

import pytest

from bench import run
from bench.environment import serve_defaults, wsgi_server


def test_defaults_measure_both_sizes_at_three_concurrencies() -> None:
    args = run.parse_args([])
    assert (args.sizes, args.concurrency, args.duration, args.rounds, args.only) == (
        [1000, 100_000], [1, 8, 64], 10.0, 2, "all")


def test_a_quick_smoke_run_is_accepted() -> None:
    args = run.parse_args(["--sizes", "1000", "--concurrency", "8", "--duration", "2", "--rounds", "1",
                           "--only", "reads", "--serve-arg=--workers=3", "--server-env", "FLOWSTATUS_POOL_SIZE=64"])
    assert (args.sizes, args.concurrency, args.only, args.serve_arg) == ([1000], [8], "reads", ["--workers=3"])


@pytest.mark.parametrize("argv", [["--sizes", "100000,1000"], ["--sizes", "1000,1000"], ["--duration", "1"],
                                  ["--server-env", "NOEQUALS"], ["--only", "nothing"]])
def test_impossible_options_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(argv)


def test_only_accepts_each_part_and_each_optional_section() -> None:
    for part in (*run.PARTS, *run.SECTION_MODULES):
        assert run.parse_args(["--only", part]).only == part


def test_an_optional_section_runs_only_when_its_module_provides_one() -> None:
    said: list[str] = []
    sections = run.optional_sections("reads", "http://127.0.0.1:1", said.append)
    assert sections == [] and said == []
    for name in run.SECTION_MODULES:
        module = importlib.util.find_spec(f"bench.{name}")
        if module is None:
            assert run.optional_sections(name, "http://127.0.0.1:1", said.append) == []
            assert said[-1] == f"no section {name}: bench/{name}.py is missing or provides no bench_section"


def test_the_server_is_described_by_flowstatus_serve_itself() -> None:
    defaults = serve_defaults()
    assert defaults["summary"] and "workers" in defaults
    servers = wsgi_server(defaults["summary"])
    assert servers and all(version for version in servers.values())
