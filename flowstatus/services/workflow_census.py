"""The workflow census: one bounded search of the state index, read into a :class:`WorkflowCensus`.

This is flowstatus's own search, not a caller's: it goes straight to the
search port (no caller scope applies, as it counts every workflow) and only
aggregate values come out of it, under bounded labels.  The search reads:

* ``state`` and ``provisioning_progress`` counts: ``terms`` aggregations sized
  to the known values plus :data:`UNKNOWN_VALUES`;
* the oldest PROVISIONING start: a ``min`` under a ``filter``;
* the workflows finished in the last hour, per state: a ``range`` ``filter``;
* provisioning durations: the index has no scripting to subtract two dates,
  so the search's hits are the :data:`DURATION_SAMPLE` workflows that finished
  most recently (by ``provision_end_time``; ``_source`` limited to the two
  times and the state), bucketed here to the millisecond;
* errors: ``error`` is a ``text`` field (no ``terms`` on it), so a
  ``top_hits`` fetches the errors of the :data:`ERROR_SAMPLE` most recently
  finished FAILED workflows; their first lines are counted here, top
  :data:`ERROR_LABELS`, everything else (unsampled workflows included) as ``other``;
* with the breakdown on, the top N tenants by workflow count, each per state.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from marshmallow import ValidationError

from flowstatus.domain.census import (
    FINISHED,
    MAX_LABEL,
    NO_ERROR,
    OTHER,
    PROGRESSES,
    STATES,
    DurationHistogram,
    WorkflowCensus,
)
from flowstatus.domain.model import State
from flowstatus.repository.errors import SearchIndexMissing, StoreError
from flowstatus.repository.port import StateSearch
from flowstatus.schemas.state import EpochMillis

log = logging.getLogger(__name__)

DURATION_SAMPLE = 1000
# OpenSearch's default index.max_inner_result_window: a top_hits may not fetch more.
ERROR_SAMPLE = 100
ERROR_LABELS = 10
UNKNOWN_VALUES = 4
HOUR_MS = 3_600_000
WORKFLOW_ID_MARK = "<workflow_id>"
_TIME = EpochMillis()


def _label(value: Any) -> str:
    return str(value)[:MAX_LABEL]


def _ms(value: Any) -> int | None:
    try:
        return None if value is None else int(_TIME.deserialize(value))
    except ValidationError:
        return None


def _terms(field: str, size: int) -> dict[str, Any]:
    return {"terms": {"field": field, "size": size}}


def census_body(now_ms: int, tenants: int = 0) -> dict[str, Any]:
    """The census search at ``now_ms`` (epoch milliseconds); ``tenants`` > 0 adds the breakdown."""
    by_state = _terms("state", len(STATES) + UNKNOWN_VALUES)
    finished = {"terms": {"state": list(FINISHED)}}
    aggs: dict[str, Any] = {
        "workflows": {"filter": {"match_all": {}}},
        "by_state": by_state,
        "by_progress": _terms("provisioning_progress", len(PROGRESSES) + UNKNOWN_VALUES),
        "provisioning": {
            "filter": {"term": {"state": State.PROVISIONING.value}},
            "aggs": {"oldest_start": {"min": {"field": "provision_start_time"}}},
        },
        "finished_last_hour": {
            "filter": {"bool": {"filter": [finished, {"range": {"provision_end_time": {"gte": now_ms - HOUR_MS}}}]}},
            "aggs": {"by_state": _terms("state", len(FINISHED))},
        },
        "failed": {
            "filter": {"term": {"state": State.FAILED.value}},
            "aggs": {"latest": {"top_hits": {
                "size": ERROR_SAMPLE,
                "sort": [{"provision_end_time": {"order": "desc", "missing": "_last"}}],
                "_source": {"includes": ["error"]},
            }}},
        },
    }
    if tenants > 0:
        aggs["by_tenant"] = {**_terms("tenant_id", tenants), "aggs": {"by_state": by_state}}
    return {
        "size": DURATION_SAMPLE,
        "track_total_hits": False,
        "query": {"match_all": {}},
        "post_filter": {"bool": {"filter": [
            finished, {"exists": {"field": "provision_start_time"}}, {"exists": {"field": "provision_end_time"}},
        ]}},
        "sort": [{"provision_end_time": {"order": "desc"}}],
        "_source": {"includes": ["state", "provision_start_time", "provision_end_time"]},
        "aggs": aggs,
    }


def _counted(buckets: Iterable[Mapping[str, Any]], known: Iterable[str], total: int | None = None) -> dict[str, int]:
    """Counts per label: every ``known`` value and the buckets' own; with a ``total``, ``other``
    counts what the buckets leave out."""
    counts = dict.fromkeys(known, 0)
    counted = 0
    for bucket in buckets:
        key = _label(bucket["key"])
        counts[key] = counts.get(key, 0) + bucket["doc_count"]
        counted += bucket["doc_count"]
    if total is not None:
        counts[OTHER] = counts.get(OTHER, 0) + max(0, total - counted)
    return counts


def _durations(hits: Iterable[Mapping[str, Any]]) -> dict[str, DurationHistogram]:
    seconds: dict[str, list[float]] = {state: [] for state in FINISHED}
    for hit in hits:
        source = hit.get("_source") or {}
        start, end = _ms(source.get("provision_start_time")), _ms(source.get("provision_end_time"))
        state = source.get("state")
        # An end before its start is not a duration: such a workflow is left out.
        if state in seconds and start is not None and end is not None and end >= start:
            seconds[state].append((end - start) / 1000)
    return {state: DurationHistogram.of(values) for state, values in seconds.items()}


def error_label(workflow_id: str, error: Any) -> str:
    """The label of a FAILED workflow's error: its first non-blank line, the workflow's own id masked."""
    lines = [line.strip() for line in str(error or "").splitlines() if line.strip()]
    if not lines:
        return NO_ERROR
    first = lines[0]
    if workflow_id:
        # Only where it stands as a token of its own: a short id must not eat into words.
        first = re.sub(rf"(?<![\w-]){re.escape(workflow_id)}(?![\w-])", WORKFLOW_ID_MARK, first)
    return _label(first)


def _failed_by_error(failed: Mapping[str, Any]) -> dict[str, int]:
    hits = failed["latest"]["hits"]["hits"]
    sampled = Counter(error_label(hit.get("_id", ""), (hit.get("_source") or {}).get("error")) for hit in hits)
    top = sorted(sampled.items(), key=lambda kv: (-kv[1], kv[0]))[:ERROR_LABELS]
    counts = {label: count for label, count in top if label != OTHER}
    # What no label of its own counts: the rest of the sample and every FAILED workflow outside it.
    counts[OTHER] = max(0, failed["doc_count"] - sum(counts.values()))
    return counts


def _by_tenant(buckets: Iterable[Mapping[str, Any]], by_state: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Per top tenant, workflows per state (labels as in ``by_state``); ``other`` holds the rest."""
    tenants: dict[str, dict[str, int]] = {}
    rest = dict(by_state)
    for bucket in buckets:
        row = tenants.setdefault(_label(bucket["key"]), dict.fromkeys(STATES, 0))
        for state_bucket in bucket["by_state"]["buckets"]:
            key = _label(state_bucket["key"])
            state = key if key in by_state else OTHER
            row[state] = row.get(state, 0) + state_bucket["doc_count"]
            rest[state] = rest.get(state, 0) - state_bucket["doc_count"]
    tenants.setdefault(OTHER, dict.fromkeys(STATES, 0))
    for state, count in rest.items():
        tenants[OTHER][state] = tenants[OTHER].get(state, 0) + max(0, count)
    return tenants


def read_census(response: Mapping[str, Any], taken_at: float, tenants: int = 0) -> WorkflowCensus:
    """The census in the response to :func:`census_body`."""
    aggs = response["aggregations"]
    by_state = _counted(aggs["by_state"]["buckets"], STATES, aggs["workflows"]["doc_count"])
    recent = aggs["finished_last_hour"]["by_state"]
    oldest = aggs["provisioning"]["oldest_start"].get("value")
    return WorkflowCensus(
        taken_at,
        by_state=by_state,
        by_progress=_counted(aggs["by_progress"]["buckets"], PROGRESSES, aggs["workflows"]["doc_count"]),
        finished_last_hour=_counted(recent["buckets"], FINISHED),
        oldest_provisioning_start=None if oldest is None else oldest / 1000,
        durations=_durations(response["hits"]["hits"]),
        failed_by_error=_failed_by_error(aggs["failed"]),
        by_tenant=_by_tenant(aggs["by_tenant"]["buckets"], by_state) if tenants > 0 else {},
    )


class WorkflowCensusTaker:
    """Takes censuses of the state index behind ``search``; ``tenants`` > 0 breaks them down by tenant."""

    def __init__(self, search: StateSearch, *, tenants: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.search = search
        self.tenants = tenants
        self.clock = clock

    def take(self) -> WorkflowCensus:
        """A census now: one search.  A missing state index holds no workflow (an empty census).

        Raises :class:`~flowstatus.repository.errors.StoreError` (and its
        subclasses) when the search fails.
        """
        now = self.clock()
        try:
            response = self.search.search(census_body(int(now * 1000), self.tenants))
        except SearchIndexMissing:
            return WorkflowCensus.empty(now)
        return read_census(response, now, self.tenants)

    def attempt(self) -> WorkflowCensus | None:
        """:meth:`take`, or ``None`` (logged) when the store failed: a census is never worth an error."""
        try:
            return self.take()
        except StoreError as exc:
            log.warning("workflow metrics not refreshed: %s", exc)
            return None
