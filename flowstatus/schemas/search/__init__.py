"""The closed schema of a workflow state search: an allowlist, loaded into rebuilt plain values.

:func:`load_search_body` is the one way a caller's search body reaches
OpenSearch.  It accepts what :mod:`.body`, :mod:`.queries`,
:mod:`.aggregations` and :mod:`.hits` describe and nothing else, and returns
a new body built from the values it read (counts as Python ``int``, never
the caller's string or float), so that OpenSearch receives exactly what was
checked.  A refused part raises
:class:`~flowstatus.domain.search_scope.SearchRefused` naming its JSON path
(``aggs.wf.terms.min_doc_count``) and why.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from marshmallow import ValidationError

from flowstatus.domain.search_cost import check_depth
from flowstatus.domain.search_scope import SearchRefused
from flowstatus.schemas.search.body import SearchBody
from flowstatus.schemas.search.context import loading

MORE_NAMED = 4


def load_search_body(body: Mapping[str, Any], *, hide_user: bool) -> dict[str, Any]:
    """The search ``body`` as checked and rebuilt for a caller; ``hide_user``: the caller may not name ``user``.

    Raises :class:`~flowstatus.domain.search_scope.SearchRefused` for a body
    nested too deep or any part the schema does not describe; its message
    names the first refused part and lists a few more.
    """
    check_depth(body)
    with loading(hide_user=hide_user):
        try:
            loaded: dict[str, Any] = SearchBody().load(body)
        except ValidationError as exc:
            raise _refused(exc.messages) from None
    return loaded


def _refused(messages: Any) -> SearchRefused:
    found = list(_flatten(messages, ""))
    path, why = found[0]
    if len(found) > 1:
        others = ", ".join(f"[{p}]" for p, _ in found[1:1 + MORE_NAMED])
        why += f" (also refused: {others}{', ...' if len(found) > 1 + MORE_NAMED else ''})"
    return SearchRefused(why, path)


def _flatten(messages: Any, path: str) -> Iterator[tuple[str, str]]:
    """``(path, message)`` of every message in marshmallow's nested error dict, in order."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                below = path
            elif isinstance(key, int):
                below = f"{path}[{key}]"
            else:
                below = f"{path}.{key}" if path else str(key)
            yield from _flatten(value, below)
    elif isinstance(messages, list):
        for item in messages:
            yield from _flatten(item, path) if not isinstance(item, str) else iter([(path, item)])
    else:
        yield path, str(messages)
