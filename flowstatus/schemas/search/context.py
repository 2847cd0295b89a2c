"""What loading one search body needs to know beyond the body: who asks, and where in the body it is.

marshmallow 4 has no schema context; a context variable carries it instead,
set by :func:`loading` for the duration of one load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class LoadContext:
    """``hide_user``: the caller may not name ``user``.  ``nested``: the nested path being loaded
    (``None``: the root document).  ``clauses``: query clauses loaded so far."""

    hide_user: bool
    nested: str | None = None
    clauses: int = 0


_CURRENT: ContextVar[LoadContext | None] = ContextVar("search_load_context", default=None)


@contextmanager
def loading(*, hide_user: bool) -> Iterator[LoadContext]:
    """The context of one load of a search body."""
    context = LoadContext(hide_user)
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def current() -> LoadContext:
    """The context of the load under way; raises ``RuntimeError`` outside :func:`loading` (a programming error)."""
    context = _CURRENT.get()
    if context is None:
        raise RuntimeError("search schemas load only through flowstatus.schemas.search.load_search_body")
    return context


@contextmanager
def inside(nested: str | None) -> Iterator[None]:
    """Load the parts below in the nested path ``nested`` (``None``: back at the root document)."""
    context = current()
    before = context.nested
    context.nested = nested
    try:
        yield
    finally:
        context.nested = before
