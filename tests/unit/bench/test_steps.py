"""The step observer bench's table (bench/steps.py); nothing is measured here."""

from __future__ import annotations

from typing import Any

import pytest

from bench import steps
from bench.run import optional_sections
from bench.steps import markdown


def test_the_table_puts_the_lease_holder_first_and_the_busiest_other_process_beside_it() -> None:
    holder = {"seconds": 10.0, "requests_per_s": 4.6, "cpu_percent": 0.65, "sightings": 350,
              "calls": {"search": 10.0, "mget": 22.0, "bulk": 14.0}}
    other = {"seconds": 10.0, "requests_per_s": 0.4, "cpu_percent": 0.03, "sightings": 0, "calls": {"mget": 4.0}}
    row = {"workflows": 100, "resources_appended_per_s": 50.0, "reports": [holder, other]}
    table = markdown([row]).splitlines()
    assert table[0].startswith("| workflows provisioning |") and len(table) == 3
    assert table[2] == ("| 100 | 50.0 | 4.60 (bulk 1.40, mget 2.20, search 1.00) | 0.65 | 0.40 | 0.03 | 350 |")


def test_make_bench_adds_the_observer_section_with_one_row_per_size(monkeypatch: pytest.MonkeyPatch) -> None:
    measured: list[int] = []

    def row(url: str, workflows: int) -> dict[str, Any]:  # the measurement itself runs in make bench only
        measured.append(workflows)
        report = {"seconds": 1.0, "requests_per_s": 1.0, "cpu_percent": 0.1, "sightings": 0, "calls": {"mget": 1.0}}
        return {"workflows": workflows, "resources_appended_per_s": 0.0, "reports": [report]}

    monkeypatch.setattr(steps, "observer_row", row)
    said: list[str] = []
    (section,) = optional_sections("steps", "http://127.0.0.1:9", said.append)
    assert (section.key, measured) == ("steps", [0, 100, 1000])
    assert section.markdown.splitlines()[2].startswith("| 0 | 0.0 | 1.00 (mget 1.00) |")
    assert any("1000 workflows provisioning" in line for line in said)
