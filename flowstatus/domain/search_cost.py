"""What one search may cost OpenSearch, computed before it is sent.

Pure functions, no I/O, on a body already loaded through the closed search
schema.  The plugin forwards any aggregation and bounds none; a histogram
with ``min_doc_count: 0`` and a 1 ms interval over years of
``extended_bounds`` builds an empty bucket per millisecond in the reducing
node's memory and takes the node down.  So every aggregation gets an upper
bound on the buckets it can build, and the search is refused when one
aggregation, or the whole tree, could build more than OpenSearch's own
default ceiling.

How each aggregation is counted (``n`` per bucket of its parent):

* ``terms``, ``multi_terms``: ``size``; ``top_hits``: ``size``;
  ``filters``: the filters (and the other bucket); ``range``,
  ``date_range``: the ranges; ``filter``, ``nested``, ``reverse_nested`` and
  metrics: 1;
* ``histogram``, ``date_histogram``: the span of values divided by the
  interval, plus the partial buckets at both ends.  The span is what
  flowstatus can prove: the ``range`` clauses on the same field that every
  hit must match (the query's ``must``/``filter``, and ``filter``
  aggregations above), widened by ``extended_bounds`` when empty buckets
  are asked for (``min_doc_count: 0``, the histogram default), cut by
  ``hard_bounds``.  With no provable span, a histogram builds buckets only
  where documents are (``min_doc_count`` of 1 or more) and counts as
  :data:`MAX_BUCKETS_PER_AGGREGATION`; asking for empty buckets without a
  provable span is refused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from flowstatus.domain.date_values import calendar_interval_ms, date_bounds, fixed_interval_ms
from flowstatus.domain.search_scope import AGG_CONTAINERS, SearchRefused

MAX_DEPTH = 32
"""Objects and arrays nested in a body, at most (OpenSearch caps ``bool`` nesting at 20)."""
MAX_BODY_VALUES = 50_000
"""JSON values (objects, arrays, strings, numbers...) in a body, at most: loading costs time per value."""
MAX_WINDOW = 10_000
"""``from + size`` at most, as OpenSearch's default ``index.max_result_window``."""
MAX_TOP_HITS_WINDOW = 100
"""``from + size`` of a ``top_hits`` at most, as OpenSearch's default ``index.max_inner_result_window``."""
MAX_AGGREGATIONS = 50
MAX_AGGREGATION_DEPTH = 5
MAX_BUCKETS_PER_AGGREGATION = 10_000
MAX_TOTAL_BUCKETS = 65_535
"""OpenSearch's default ``search.max_buckets``: past it OpenSearch fails the search."""
MAX_QUERY_CLAUSES = 256
MAX_VALUES = 1_024
"""Values of one ``terms`` or ``ids`` query, filters of a ``filters`` aggregation, ranges of a range aggregation."""

Span = tuple[float, float]
_EVERYTHING: Span = (-math.inf, math.inf)


def check_depth(body: Any) -> None:
    """Raise :class:`SearchRefused` when ``body`` nests deeper than :data:`MAX_DEPTH` or holds more than
    :data:`MAX_BODY_VALUES` values; stops at the first excess, without recursion, so its cost is bounded too."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if depth > MAX_DEPTH:
            raise SearchRefused(f"the search body nests objects and arrays deeper than {MAX_DEPTH} levels")
        if seen > MAX_BODY_VALUES:
            raise SearchRefused(f"the search body holds more than {MAX_BODY_VALUES} values")
        children = node.values() if isinstance(node, Mapping) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)


def check_cost(body: Mapping[str, Any], now_ms: int) -> None:
    """Raise :class:`SearchRefused` when the aggregations of ``body`` could cost more than the ceilings.

    ``now_ms`` is the current time, for date math on ``now``.  The refusal
    names the path of the aggregation and the number computed.
    """
    counter = _Counter(now_ms)
    for container in AGG_CONTAINERS:
        if container in body:
            counter.visit(body[container], container, depth=1, parents=1, required=_present(body.get("query")))


def _present(query: Any) -> list[Mapping[str, Any]]:
    return [query] if isinstance(query, Mapping) else []


class _Counter:
    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.aggregations = 0
        self.buckets = 0

    def visit(
        self, container: Mapping[str, Any], path: str, *, depth: int, parents: int, required: list[Mapping[str, Any]]
    ) -> None:
        if depth > MAX_AGGREGATION_DEPTH:
            raise SearchRefused(f"aggregations nest at most {MAX_AGGREGATION_DEPTH} levels deep", path)
        for name, definition in container.items():
            self.aggregations += 1
            here = f"{path}.{name}"
            if self.aggregations > MAX_AGGREGATIONS:
                raise SearchRefused(f"a search may hold at most {MAX_AGGREGATIONS} aggregations", here)
            ((agg_type, spec),) = [(k, v) for k, v in definition.items() if k not in AGG_CONTAINERS]
            bound = self.bound(agg_type, spec, f"{here}.{agg_type}", required)
            self.buckets += parents * bound
            if self.buckets > MAX_TOTAL_BUCKETS:
                raise SearchRefused(
                    f"the aggregations could build {self.buckets} buckets or more (each counted per bucket of "
                    f"the aggregations above it); at most {MAX_TOTAL_BUCKETS} in one search", here)
            below = required + [spec] if agg_type == "filter" else required
            for key in AGG_CONTAINERS:
                if key in definition:
                    self.visit(definition[key], f"{here}.{key}", depth=depth + 1, parents=parents * bound,
                               required=below)

    def bound(self, agg_type: str, spec: Mapping[str, Any], path: str, required: list[Mapping[str, Any]]) -> int:
        """The most buckets (or values, or hits) one such aggregation builds per parent bucket."""
        if agg_type in ("terms", "multi_terms"):
            return int(spec.get("size", 10))
        if agg_type == "top_hits":
            return int(spec.get("size", 3))
        if agg_type == "filters":
            return len(spec["filters"]) + (1 if spec.get("other_bucket") else 0)
        if agg_type in ("range", "date_range"):
            return len(spec["ranges"])
        if agg_type in ("histogram", "date_histogram"):
            return self.histogram(agg_type, spec, path, required)
        return 1

    def histogram(self, agg_type: str, spec: Mapping[str, Any], path: str, required: list[Mapping[str, Any]]) -> int:
        field = spec["field"]
        if agg_type == "histogram":
            interval = float(spec["interval"])
        elif "fixed_interval" in spec:
            interval = fixed_interval_ms(spec["fixed_interval"])
        else:
            interval = calendar_interval_ms(spec["calendar_interval"])
        empty_buckets = spec.get("min_doc_count", 0) == 0
        low, high = _intersection(self.span(bounds) for bounds in _required_ranges(required, field))
        if empty_buckets and "extended_bounds" in spec:
            ext_low, ext_high = self.span(spec["extended_bounds"], lower="min", upper="max")
            low, high = min(low, ext_low), max(high, ext_high)
        if "hard_bounds" in spec:
            hard_low, hard_high = self.span(spec["hard_bounds"], lower="min", upper="max")
            low, high = max(low, hard_low), min(high, hard_high)
        if math.isinf(low) or math.isinf(high):
            if empty_buckets:
                raise SearchRefused(
                    "asks for empty buckets (min_doc_count 0, the default for histograms) between the lowest and "
                    "the highest value, a number flowstatus cannot bound: set [min_doc_count] to 1, give "
                    f"[hard_bounds], or filter the query with a [range] on [{field}]; [extended_bounds] alone "
                    "do not bound it", path)
            return MAX_BUCKETS_PER_AGGREGATION
        # The partial buckets at both ends, and one more when an offset shifts them.
        ends = 2 + (1 if "offset" in spec else 0)
        ratio = max(0.0, (high - low) / interval)
        if ratio + ends > MAX_BUCKETS_PER_AGGREGATION:
            built = f"{math.floor(ratio) + ends}" if ratio < 1e15 else "more than 10^15"
            raise SearchRefused(
                f"could build {built} buckets (its span divided by its interval); at most "
                f"{MAX_BUCKETS_PER_AGGREGATION} per aggregation: widen the interval or narrow the span", path)
        return math.floor(ratio) + ends

    def span(self, bounds: Mapping[str, Any], lower: str = "", upper: str = "") -> Span:
        """The values ``bounds`` allow: a range clause's ``gt``/``gte``/``lt``/``lte``, or ``min``/``max``."""
        low, high = _EVERYTHING
        lows = (lower,) if lower else ("gt", "gte")
        highs = (upper,) if upper else ("lt", "lte")
        for key, value in bounds.items():
            if key in lows:
                low = max(low, self.instant(value)[0])
            elif key in highs:
                high = min(high, self.instant(value)[1])
        return low, high

    def instant(self, value: Any) -> tuple[float, float]:
        if isinstance(value, str):
            return date_bounds(value, self.now_ms)
        return float(value), float(value)


def _intersection(spans: Iterable[Span]) -> Span:
    low, high = _EVERYTHING
    for span_low, span_high in spans:
        low, high = max(low, span_low), min(high, span_high)
    return low, high


def _required_ranges(queries: list[Mapping[str, Any]], field: str) -> Iterable[Mapping[str, Any]]:
    """The bounds of every ``range`` on ``field`` that each hit must match, in any of ``queries``."""
    stack = list(queries)
    while stack:
        query = stack.pop()
        if "range" in query and field in query["range"]:
            yield query["range"][field]
        elif "bool" in query:
            for key in ("must", "filter"):
                stack.extend(query["bool"].get(key, []))
        elif "constant_score" in query:
            stack.append(query["constant_score"]["filter"])
