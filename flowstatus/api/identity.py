"""The current request's :class:`~flowstatus.access.Caller`."""

from __future__ import annotations

from flask import g

from flowstatus.domain.access import ANONYMOUS, Caller


def current_caller() -> Caller:
    """The caller the authentication layer recorded for this request (anonymous if none)."""
    return g.get("caller", ANONYMOUS)
