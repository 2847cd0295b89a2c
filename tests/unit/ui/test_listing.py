"""What the status page asks for: its paging."""

from __future__ import annotations

from flowstatus.ui.listing import ListRequest


def test_the_last_page_is_the_last_opensearch_can_reach() -> None:
    assert ListRequest(size=20).last_page(0) == 1
    assert ListRequest(size=20).last_page(41) == 3
    assert ListRequest(size=100).last_page(10**6) == 100
