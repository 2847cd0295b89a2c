"""The README says what the code does."""

from __future__ import annotations

from pathlib import Path

from flowstatus.cli.event_reference import BEGIN, END, events_markdown
from flowstatus.settings import ENV_VARS

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_the_event_reference_is_the_generated_one() -> None:
    documented = README[README.index(BEGIN) : README.index(END) + len(END)]
    assert documented == events_markdown(), "run `flowstatus events-doc` and paste it into the README"


def test_every_setting_is_documented() -> None:
    for name in ENV_VARS:
        assert f"`{name}`" in README, f"{name} is missing from the README's configuration table"
