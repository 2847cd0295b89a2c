"""How long the clients wait before trying a server again."""

from __future__ import annotations

import email.utils

import pytest

from flowstatus.cli.retries import CAP, backoff, retry_after_seconds


@pytest.mark.parametrize("header, seconds", [("5", 5.0), (" 0 ", 0.0), (None, None), ("", None), ("soon", None),
                                             ("-3", None)])
def test_retry_after_in_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds(email.utils.formatdate(now + 7, usegmt=True), now=lambda: now) == 7.0
    assert retry_after_seconds(email.utils.formatdate(now - 60, usegmt=True), now=lambda: now) == 0.0


def test_backoff_is_full_jitter_on_an_exponential_bound() -> None:
    bounds: list[float] = []

    def uniform(low: float, high: float) -> float:
        bounds.append(high)
        return high

    assert [backoff(attempt, uniform=uniform) for attempt in range(8)] == [0.5, 1, 2, 4, 8, 16, CAP, CAP]
    assert backoff(3, uniform=lambda low, high: low) == 0.0


def test_backoff_never_comes_back_before_retry_after_nor_waits_forever() -> None:
    assert backoff(0, 5.0, uniform=lambda low, high: low) == 5.0
    assert 5.0 <= backoff(0, 5.0) <= 5.5
    assert backoff(100, 86_400.0, uniform=lambda low, high: high) == 2 * CAP
    assert backoff(2, 9.0, cap=5.0, uniform=lambda low, high: high) == 5.0 + 2.0
