"""The docs say what the code does."""

from __future__ import annotations

from pathlib import Path

from flowstatus.cli.event_reference import BEGIN, END, events_markdown
from flowstatus.observability import workflow_collector
from flowstatus.settings import ENV_VARS

DOCS = Path(__file__).parents[2] / "docs"


def test_the_event_reference_is_the_generated_one() -> None:
    page = (DOCS / "events.md").read_text()
    documented = page[page.index(BEGIN) : page.index(END) + len(END)]
    assert documented == events_markdown(), "run `flowstatus events-doc` and paste it into docs/events.md"


def test_every_setting_is_documented() -> None:
    page = (DOCS / "configuration.md").read_text()
    for name in ENV_VARS:
        assert f"`{name}`" in page, f"{name} is missing from the table in docs/configuration.md"


def test_every_workflow_metric_is_documented() -> None:
    page = (DOCS / "operations.md").read_text()
    for name in (*workflow_collector.NAMES, "flowstatus_events_applied_total", "flowstatus_events_refused_total"):
        assert f"| `{name}` |" in page, f"{name} is missing from the table in docs/operations.md"
