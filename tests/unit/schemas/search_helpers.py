"""Loading bodies through the search schema in tests."""

from __future__ import annotations

from typing import Any

import pytest

from flowstatus.domain.search_scope import SearchRefused
from flowstatus.schemas.search import load_search_body


def load(body: dict[str, Any], *, hide_user: bool = True) -> dict[str, Any]:
    return load_search_body(body, hide_user=hide_user)


def refusal(body: dict[str, Any], *, hide_user: bool = True) -> str:
    """The refusal's message, ``[path] why``."""
    with pytest.raises(SearchRefused) as refused:
        load_search_body(body, hide_user=hide_user)
    return str(refused.value)
