"""The transition table through the indexer on the in-memory repository."""

from __future__ import annotations

import orjson
import pytest

from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.schemas.bulk import item_status
from flowstatus.schemas.events import parse_event
from flowstatus.services.indexer import StatusIndexer
from tests.transition_table import CASES, Case


def raw_doc(repo: InMemoryStateRepository, workflow_id: str) -> dict | None:
    return repo.raw(workflow_id)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case) -> None:
    repo = InMemoryStateRepository()
    repo.ensure_index()
    wid = "wf-1"
    if case.before is not None:
        repo.put_raw(wid, case.doc(wid, case.before))
    indexer = StatusIndexer(repo, clock=lambda: 4242)
    (result,) = indexer.apply([parse_event(orjson.dumps(case.event_for(wid)))])
    assert item_status(result) == case.status, result.reason
    assert (result.result.value if result.result else None) == case.result
    assert raw_doc(repo, wid) == case.doc(wid, case.after)
    if case.status >= 400:
        assert result.reason and result.rejection


@pytest.mark.parametrize("case", [c for c in CASES if c.status < 400], ids=[c.name for c in CASES if c.status < 400])
def test_applying_an_event_twice_is_applying_it_once(case: Case) -> None:
    repo = InMemoryStateRepository()
    wid = "wf-1"
    if case.before is not None:
        repo.put_raw(wid, case.doc(wid, case.before))
    indexer = StatusIndexer(repo)
    event = parse_event(orjson.dumps(case.event_for(wid)))
    indexer.apply([event])
    once = raw_doc(repo, wid)
    (again,) = indexer.apply([event])
    assert again.ok
    assert raw_doc(repo, wid) == once
