"""OpenSearch's ``filter_path`` response filtering.

``filter_path=a.b,-a.b.c,x.*,**.id``: comma-separated dotted paths; ``*`` in a
segment matches any characters, a ``**`` segment matches any number of
levels, a leading ``-`` excludes instead of includes.  Arrays are transparent
(a path goes through each element).  Inclusions are applied first, then
exclusions, as OpenSearch's generator does.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Path = tuple[str, ...]
ANY_DEPTH = "**"


@lru_cache(maxsize=256)
def _segment(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


@lru_cache(maxsize=256)
def parse(expression: str) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Split a ``filter_path`` value into (inclusions, exclusions)."""
    includes: list[Path] = []
    excludes: list[Path] = []
    for raw in expression.split(","):
        raw = raw.strip()
        target = excludes if raw.startswith("-") else includes
        raw = raw.lstrip("-")
        if raw:
            target.append(tuple(raw.split(".")))
    return tuple(includes), tuple(excludes)


def _advance(paths: tuple[Path, ...], key: str) -> tuple[Path, ...]:
    """The remainders of ``paths`` after stepping into ``key``."""
    out: list[Path] = []
    for path in paths:
        if path[0] == ANY_DEPTH:
            out.append(path)  # ** swallows this level and may swallow more
            if len(path) > 1:
                out.extend(_advance((path[1:],), key))
        elif _segment(path[0]).fullmatch(key):
            out.append(path[1:])
    return tuple(out)


def _ends(paths: tuple[Path, ...]) -> bool:
    return any(not p or p == (ANY_DEPTH,) for p in paths)


_DROP = object()


def _include(value: Any, paths: tuple[Path, ...]) -> Any:
    if isinstance(value, list):
        kept = [v for v in (_include(item, paths) for item in value) if v is not _DROP]
        return kept if kept else _DROP
    if not isinstance(value, dict):
        return _DROP
    out = {}
    for key, child in value.items():
        rest = _advance(paths, key)
        if not rest:
            continue
        kept = child if _ends(rest) else _include(child, rest)
        if kept is not _DROP:
            out[key] = kept
    return out if out else _DROP


def _exclude(value: Any, paths: tuple[Path, ...]) -> Any:
    if isinstance(value, list):
        return [_exclude(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, child in value.items():
        rest = _advance(paths, key)
        if rest and _ends(rest):
            continue
        out[key] = _exclude(child, rest) if rest else child
    return out


def apply(body: Any, expression: str | None) -> Any:
    """``body`` filtered by ``expression``; an empty or absent expression filters nothing."""
    if not expression:
        return body
    includes, excludes = parse(expression)
    if includes:
        body = _include(body, includes)
        if body is _DROP:
            body = {}
    if excludes:
        body = _exclude(body, excludes)
    return body
