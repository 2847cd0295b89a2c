"""The gunicorn hook that marks repeated proxy headers, on gunicorn's own request representation.

The hook's effect through a real ``flowstatus serve`` is tested in tests/hostile/test_proxy_headers.py.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from flowstatus.server.repeated_headers import marking_repeated

HOOK = marking_repeated(("x-proxy-user", "x-proxy-roles", "x-proxy-backend-roles"))
WORKER = SimpleNamespace(log=logging.getLogger("test"))


def hooked(*headers: tuple[str, str]) -> list[tuple[str, str]]:
    request = SimpleNamespace(headers=list(headers), method="GET", path="/")
    HOOK(WORKER, request)
    return request.headers


def test_repeated_watched_headers_are_named_in_the_marker() -> None:
    headers = hooked(("X-PROXY-USER", "carol"), ("X-PROXY-ROLES", "read"), ("X-PROXY-ROLES", "all_access"),
                     ("ACCEPT", "a"), ("ACCEPT", "b"))
    assert headers[-1] == ("X-FLOWSTATUS-REPEATED-HEADERS", "x-proxy-roles")
    assert headers[:-1] == [("X-PROXY-USER", "carol"), ("X-PROXY-ROLES", "read"), ("X-PROXY-ROLES", "all_access"),
                            ("ACCEPT", "a"), ("ACCEPT", "b")]


def test_a_client_cannot_send_the_marker_itself() -> None:
    assert hooked(("X-FLOWSTATUS-REPEATED-HEADERS", "nothing"), ("X_FLOWSTATUS_REPEATED_HEADERS", "x"),
                  ("X-PROXY-USER", "carol")) == [("X-PROXY-USER", "carol")]


def test_underscore_spellings_count_as_the_same_header() -> None:
    headers = hooked(("X-PROXY-USER", "carol"), ("X_PROXY_USER", "admin"))
    assert headers[-1] == ("X-FLOWSTATUS-REPEATED-HEADERS", "x-proxy-user")
