"""A write whose outcome is unknown is read back, never repeated blindly."""

from __future__ import annotations

import pytest

from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import ResourceCreated, WorkflowState
from flowstatus.repository import Create
from flowstatus.repository.errors import StoreUnavailable
from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.services.indexer import StatusIndexer

R = ResourceCreated("create_index", "s1", "index_name", "idx")


class FlakyRepository(InMemoryStateRepository):
    """The connection drops on the next write: after applying it (``applied``) or before."""

    def __init__(self, applied: bool, failures: int = 0) -> None:
        super().__init__()
        self.applied, self.failures, self.writes = applied, failures, 0

    def write_many(self, ops):  # type: ignore[no-untyped-def]
        self.writes += 1
        if self.failures:
            self.failures -= 1
            if self.applied:
                super().write_many(ops)
            raise StoreUnavailable("connection reset while writing")
        return super().write_many(ops)


def provisioning(repo: InMemoryStateRepository) -> None:
    repo.write(Create("wf", WorkflowState.fresh("wf").evolve(state="PROVISIONING", provisioning_progress="IN_PROGRESS")))


@pytest.mark.parametrize("applied", [True, False], ids=["applied-then-dropped", "dropped-before-applying"])
def test_an_unknown_outcome_is_read_back(applied: bool) -> None:
    repo = FlakyRepository(applied)
    provisioning(repo)
    repo.failures, repo.writes = 1, 0
    (result,) = StatusIndexer(repo, sleep=lambda s: None).apply([Event(EventKind.RESOURCE_CREATED, "wf", resource=R)])
    assert result.ok and result.result is not None
    assert repo.get("wf").state.resources_created == (R,)
    assert repo.writes == (1 if applied else 2), "an applied write was sent again" if applied else "not retried"


def test_when_the_read_back_fails_too_the_caller_hears_unavailable() -> None:
    class Down(FlakyRepository):
        def get_many(self, workflow_ids):  # type: ignore[no-untyped-def]
            if self.failures == 0 and self.writes:
                raise StoreUnavailable("still down")
            return super().get_many(workflow_ids)

    repo = Down(applied=False)
    provisioning(repo)
    repo.failures, repo.writes = 1, 0
    with pytest.raises(StoreUnavailable):
        StatusIndexer(repo).apply([Event(EventKind.RESOURCE_CREATED, "wf", resource=R)])
