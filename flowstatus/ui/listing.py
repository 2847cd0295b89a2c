"""What the status page asks and shows: its parameters, its searches, its rows.

Pure functions, no I/O.  The searches are ordinary search bodies; the page
runs them through :func:`flowstatus.api.search.search_states`, the same
function and access filters as the search API.

Order of the list: the state document has no creation time, so workflows
never provisioned (no ``provision_start_time``) come first, as they are
usually the newest; then by ``provision_start_time``, newest first; ties by
``_seq_no``, most recently written first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from flowstatus.domain.model import ResourceCreated, State, WorkflowState
from flowstatus.schemas.state import load_state

STATES = tuple(s.value for s in State)
DEFAULT_SIZE = 20
MAX_SIZE = 100
# OpenSearch's default index.max_result_window: from + size beyond it fails.
MAX_WINDOW = 10_000
ORDER = (
    {"provision_start_time": {"order": "desc", "missing": "_first"}},
    {"_seq_no": {"order": "desc"}},
)
ERROR_PREVIEW = 100


class PageArgumentError(ValueError):
    """A page parameter is invalid; the message says which and what is allowed."""


@dataclass(frozen=True)
class ListRequest:
    """One page of the list: ``state`` (``None``: all), ``page`` from 1, ``size`` rows."""

    state: str | None = None
    page: int = 1
    size: int = DEFAULT_SIZE

    def search_body(self) -> dict[str, Any]:
        """The page's search: rows of one state, and counts of every state.

        The state filter is a ``post_filter`` so that the counts, which run
        on the query's result, still count every state and every workflow.
        """
        body: dict[str, Any] = {
            "from": (self.page - 1) * self.size,
            "size": self.size,
            "track_total_hits": True,
            "sort": [dict(o) for o in ORDER],
            "aggs": {
                "states": {"terms": {"field": "state", "size": 50}},
                "visible": {"filter": {"match_all": {}}},
            },
        }
        if self.state:
            body["post_filter"] = {"term": {"state": self.state}}
        return body

    def last_page(self, total: int) -> int:
        """The last page that holds rows and that OpenSearch can reach (at least 1)."""
        return max(1, min(-(-total // self.size), MAX_WINDOW // self.size))

    def link_args(self, **changes: Any) -> dict[str, Any]:
        """Query arguments of a link to this list with ``changes``; defaults left out."""
        values = {"state": self.state, "page": self.page, "size": self.size, **changes}
        defaults = {"state": None, "page": 1, "size": DEFAULT_SIZE}
        return {k: v for k, v in values.items() if v != defaults[k]}


def _positive_int(args: MultiDict[str, str], name: str, default: int, upper: int) -> int:
    values = args.getlist(name)
    if not values or values[-1] == "":
        return default
    text = values[-1]
    # Length first: int() of thousands of digits is slow, and refused past 4300.
    if len(text) > len(str(upper)) or not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= upper:
        raise PageArgumentError(f"{name} must be a whole number from 1 to {upper}, not {text!r}")
    return int(text)


def parse_list_request(args: MultiDict[str, str]) -> ListRequest:
    """The page's parameters: ``state``, ``page`` and ``size`` (a repeated one takes its last value).

    Raises :class:`PageArgumentError` for an unknown state, a size outside
    1-100, or a page that OpenSearch cannot reach (``from + size`` beyond
    10,000).
    """
    states = args.getlist("state")
    state = states[-1] if states and states[-1] else None
    if state is not None and state not in STATES:
        raise PageArgumentError(f"unknown state {state!r}: use one of {', '.join(STATES)}")
    size = _positive_int(args, "size", DEFAULT_SIZE, MAX_SIZE)
    last_page = MAX_WINDOW // size
    page = _positive_int(args, "page", 1, last_page)
    return ListRequest(state=state, page=page, size=size)


def detail_body(workflow_id: str) -> dict[str, Any]:
    """The search for one workflow's state."""
    return {"size": 1, "query": {"ids": {"values": [workflow_id]}}}


@dataclass(frozen=True)
class Row:
    """One workflow as the page shows it; ``readable`` is false for a document not in the plugin's format."""

    workflow_id: str
    readable: bool = True
    state: str | None = None
    progress: str | None = None
    start: int | None = None
    end: int | None = None
    error: str | None = None
    resources: tuple[ResourceCreated, ...] = ()
    tenant_id: str | None = None
    user: str | None = None

    def duration(self, now_ms: int) -> int | None:
        """Milliseconds from start to end, or to ``now_ms`` while provisioning."""
        if self.start is None:
            return None
        if self.end is not None:
            return self.end - self.start
        return now_ms - self.start if self.state == State.PROVISIONING.value else None

    @property
    def error_preview(self) -> str | None:
        """The error's first line, cut at :data:`ERROR_PREVIEW` characters; "…" marks anything left out."""
        if not self.error:
            return None
        lines = self.error.strip().splitlines()
        first = lines[0] if lines else ""
        if first == self.error and len(first) <= ERROR_PREVIEW:
            return first
        return first[:ERROR_PREVIEW].rstrip() + "…"


Hit = tuple[str, WorkflowState | None]  # a search hit: its id, its state (None: not in the plugin's format)


def loaded(response: Mapping[str, Any]) -> list[Hit]:
    """Each hit of a search response, in its order: its id and its state (``None``: not in the plugin's format).

    A page loads each document once and builds its rows and step timelines from this.
    """
    out: list[Hit] = []
    for hit in response.get("hits", {}).get("hits", []):
        try:
            state: WorkflowState | None = load_state(hit.get("_source") or {})
        except ValidationError:
            state = None
        out.append((str(hit.get("_id", "")), state))
    return out


def row(workflow_id: str, state: WorkflowState | None) -> Row:
    """The row for one loaded hit."""
    if state is None:
        return Row(workflow_id, readable=False)
    return Row(
        workflow_id=workflow_id,
        state=state.state,
        progress=state.provisioning_progress,
        start=state.provision_start_time,
        end=state.provision_end_time,
        error=state.error,
        resources=state.resources_created,
        tenant_id=state.tenant_id,
        user=state.user.name if state.user else None,
    )


def states_of(hits: list[Hit], state: str | None = None) -> dict[str, WorkflowState]:
    """The loaded hits in the plugin's format (only those in ``state``, if given), by id."""
    return {workflow_id: s for workflow_id, s in hits if s is not None and (state is None or s.state == state)}


def rows(hits: list[Hit]) -> list[Row]:
    """The rows of the loaded hits, in their order."""
    return [row(workflow_id, state) for workflow_id, state in hits]


def total(response: Mapping[str, Any]) -> int:
    """How many workflows matched (the page asks for an exact count)."""
    value = response.get("hits", {}).get("total", {})
    return int(value.get("value", 0)) if isinstance(value, dict) else int(value)


def visible(response: Mapping[str, Any]) -> int:
    """How many workflows the caller sees in all, whatever the state filter."""
    return int(response.get("aggregations", {}).get("visible", {}).get("doc_count", 0))


def state_counts(response: Mapping[str, Any]) -> dict[str, int]:
    """Workflows per state: every known state (0 if none), then any other stored value."""
    buckets = response.get("aggregations", {}).get("states", {}).get("buckets", [])
    found = {str(b["key"]): int(b["doc_count"]) for b in buckets}
    return {**{s: found.pop(s, 0) for s in STATES}, **found}
