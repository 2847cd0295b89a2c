"""An event that would pass the nested-objects limit is refused alone; the rest of its round is written."""

from __future__ import annotations

from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import ResourceCreated, User
from flowstatus.domain.outcomes import Rejection
from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.services.indexer import StatusIndexer


def append(wid: str, n: int) -> Event:
    return Event(EventKind.RESOURCE_CREATED, wid, resource=ResourceCreated("create_index", f"s{n}", "index_name", f"i{n}"))


def test_only_the_events_past_the_limit_are_refused() -> None:
    repo = InMemoryStateRepository(nested_limit=5)
    indexer = StatusIndexer(repo)
    for wid, user in (("big", User("alice", ("a",))), ("small", None)):
        indexer.apply([Event(EventKind.CREATE, wid, user=user), Event(EventKind.PROVISION_STARTED, wid)])
    # "big" has a user (one nested object): four resources fit, the fifth and sixth do not.
    round_ = [append("big", n) for n in range(6)] + [append("small", n) for n in range(3)]
    results = indexer.apply(round_)
    assert [r.ok for r in results] == [True] * 4 + [False, False] + [True] * 3
    refused = results[4]
    assert refused.rejection is Rejection.TOO_MANY_NESTED
    assert "allowed limit of [5] for workflow [big]" in (refused.reason or "")
    assert "would make it 6" in (refused.reason or "")
    assert len(repo.get("big").state.resources_created) == 4
    assert len(repo.get("small").state.resources_created) == 3
