"""The workflow census reads the same from OpenSearch and from the in-memory search.

The census is the search flowstatus sends for its workflow metrics; running
it on both implementations is what lets API-level tests scrape ``/metrics``
on the in-memory store.  The expected values are spelled out, so neither
side can agree with the other by being wrong.
"""

from __future__ import annotations

from typing import Any

from flowstatus.domain.census import DurationHistogram
from flowstatus.services.workflow_census import ERROR_LABELS, WorkflowCensusTaker
from tests.contract.test_search_contract import Store, store  # noqa: F401 - the fixture, for both implementations

NOW = 1_700_000_000.0
NOW_MS = int(NOW * 1000)
MINUTE = 60_000


def _finished(state: str, seconds: float, ended_minutes_ago: int, tenant: str | None = None, error: str | None = None
              ) -> dict[str, Any]:
    end = NOW_MS - ended_minutes_ago * MINUTE
    doc: dict[str, Any] = {"state": state, "provisioning_progress": "DONE" if state == "COMPLETED" else "FAILED",
                           "provision_start_time": end - int(seconds * 1000), "provision_end_time": end}
    if tenant is not None:
        doc["tenant_id"] = tenant
    if error is not None:
        doc["error"] = error
    return doc


def _docs() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {
        "new-1": {"state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED", "tenant_id": "t1"},
        "new-2": {"state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED", "tenant_id": "t1"},
        "new-3": {"state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED"},
        "run-old": {"state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS", "tenant_id": "t1",
                    "provision_start_time": NOW_MS - 10 * MINUTE},
        "run-new": {"state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS", "tenant_id": "t2",
                    "provision_start_time": NOW_MS - MINUTE},
        "run-no-start": {"state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS", "tenant_id": "t3"},
        "done-1": _finished("COMPLETED", 0.5, 5, "t2"),
        "done-2": _finished("COMPLETED", 3, 30, "t2"),
        "done-3": _finished("COMPLETED", 45, 120, "t2"),
        "done-4": _finished("COMPLETED", 7200, 600),
        "weird": {"state": "WEIRD", "provisioning_progress": "WEIRD_TOO", "tenant_id": "t3"},
        "bare": {"workflow_id": "bare"},
    }
    for i in range(3):
        docs[f"fail-conn-{i}"] = _finished("FAILED", 10, 10 + i, "t1", f"connector refused\n\tat trace {i}")
    for i in range(2):
        docs[f"fail-model-{i}"] = _finished("FAILED", 10, 100 + i, error=f"fail-model-{i} timed out")
    for i in range(8):
        docs[f"fail-{i}"] = _finished("FAILED", 10, 200 + i, error=f"error {i}")
    docs["fail-silent"] = _finished("FAILED", 10, 300)
    return {wid: {"workflow_id": wid, **doc} for wid, doc in docs.items()}


def test_the_census_of_every_state(store: Store) -> None:  # noqa: F811 - the imported fixture
    store.repository.ensure_index()
    for workflow_id, source in _docs().items():
        store.put(workflow_id, source)
    store.settle()
    census = WorkflowCensusTaker(store.search, tenants=2, clock=lambda: NOW).take()

    assert census.taken_at == NOW
    assert census.by_state == {"NOT_STARTED": 3, "PROVISIONING": 3, "COMPLETED": 4, "FAILED": 14,
                               "WEIRD": 1, "other": 1}
    assert census.by_progress == {"NOT_STARTED": 3, "IN_PROGRESS": 3, "DONE": 4, "FAILED": 14,
                                  "WEIRD_TOO": 1, "other": 1}
    assert census.finished_last_hour == {"COMPLETED": 2, "FAILED": 3}
    assert census.oldest_provisioning_start == NOW - 600
    assert census.durations == {"COMPLETED": DurationHistogram.of([0.5, 3, 45, 7200]),
                                "FAILED": DurationHistogram.of([10] * 14)}
    assert len(census.failed_by_error) == ERROR_LABELS + 1
    assert census.failed_by_error == {
        "connector refused": 3, "<workflow_id> timed out": 2, **{f"error {i}": 1 for i in range(8)}, "other": 1,
    }, "top 10 first lines, ties by name; the rest (here the FAILED one without an error) as other"
    assert census.by_tenant == {
        "t1": {"NOT_STARTED": 2, "PROVISIONING": 1, "COMPLETED": 0, "FAILED": 3},
        "t2": {"NOT_STARTED": 0, "PROVISIONING": 1, "COMPLETED": 3, "FAILED": 0},
        "other": {"NOT_STARTED": 1, "PROVISIONING": 1, "COMPLETED": 1, "FAILED": 11, "WEIRD": 1, "other": 1},
    }


def test_a_missing_index_is_an_empty_census(store: Store) -> None:  # noqa: F811 - the imported fixture
    census = WorkflowCensusTaker(store.search, clock=lambda: NOW).take()
    assert sum(census.by_state.values()) == 0 and census.oldest_provisioning_start is None
