"""How long a client waits before trying a flowstatus server again.

Pure functions, shared by ``flowstatus watch`` and ``flowstatus ingest --url``.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable

BASE = 0.5  # seconds: the first backoff's upper bound
CAP = 30.0  # seconds: no single part of a wait is longer


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """The seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date); ``None`` if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def backoff(attempt: int, retry_after: float | None = None, *, cap: float = CAP,
            uniform: Callable[[float, float], float] = random.uniform) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (0-based).

    Never less than the server's ``Retry-After`` (itself capped at ``cap``, so a
    wrong header cannot stall a client for hours), plus full jitter on an
    exponential backoff (``0.5 * 2**attempt``, capped at ``cap``), so clients
    that failed together do not all come back in the same instant.  At most
    ``2 * cap``.
    """
    floor = min(cap, retry_after) if retry_after else 0.0
    return floor + uniform(0.0, min(cap, BASE * 2 ** min(attempt, 32)))
