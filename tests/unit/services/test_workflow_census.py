"""Error labels: the first line, bounded, without the workflow's own id."""

from __future__ import annotations

import pytest

from flowstatus.domain.census import MAX_LABEL, NO_ERROR
from flowstatus.services.workflow_census import WORKFLOW_ID_MARK, error_label


@pytest.mark.parametrize(("workflow_id", "error", "label"), [
    ("wf1", "Failed to create connector\n\tat Stack.trace(Foo.java:1)", "Failed to create connector"),
    ("wf1", "\n  \n  timed out  \nmore", "timed out"),
    ("wf1", None, NO_ERROR),
    ("wf1", "   ", NO_ERROR),
    ("8xL8bowB8y25Tqfenm50", "Failed to update workflow state for 8xL8bowB8y25Tqfenm50 on step s1",
     f"Failed to update workflow state for {WORKFLOW_ID_MARK} on step s1"),
    ("b", "boom b", f"boom {WORKFLOW_ID_MARK}"),
    ("b", "bad bob-b b_b", "bad bob-b b_b"),
])
def test_the_label_of_an_error(workflow_id: str, error: str | None, label: str) -> None:
    assert error_label(workflow_id, error) == label


def test_a_long_first_line_is_cut() -> None:
    assert len(error_label("wf", "x" * 10_000)) == MAX_LABEL
