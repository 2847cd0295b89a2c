"""Two processes creating the same index: the one that loses the race waits for the winner's primary shards.

Creating an index returns once its primary is active, but the loser is told only that the index
exists; a read of a shard still starting answers 503.  Here the other creator's index is made with
its primary held unassigned (allocation required on a node that does not exist), which is what the
loser sees for the moment the winner's shard is starting.
"""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy import NotFoundError, OpenSearch

from flowstatus.repository.errors import DocumentMissing, StoreUnavailable
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.repository.opensearch_steps import OpenSearchStepStore, steps_index
from flowstatus.repository.port import IndexReport

HELD = {"routing.allocation.require._name": "no-such-node", "number_of_replicas": 0, "hidden": True}


def create_held(raw: OpenSearch, index: str) -> None:
    """``index`` as another process made it, its primary not yet started."""
    raw.indices.create(index=index, body={"settings": {"index": HELD}},
                       params={"wait_for_active_shards": "0"})


def release(raw: OpenSearch, index: str) -> None:
    raw.indices.put_settings(index=index, body={"index.routing.allocation.require._name": None})


def test_the_step_store_waits_for_a_racing_creators_primary(raw: OpenSearch, unique_index: str) -> None:
    index = steps_index(unique_index)
    create_held(raw, index)
    store = OpenSearchStepStore(raw, index, primaries_wait=1)
    with pytest.raises(StoreUnavailable, match="primary shards are not active after 1 s"):
        store.ensure_index()
    release(raw, index)
    assert store.ensure_index() is IndexReport.UPGRADED  # the other creator's index, given flowstatus's mapping
    assert store.read_lease() is None  # a shard that answers


class RacedRepository(OpenSearchStateRepository):
    """Another process creates the index between this one's look and its own create."""

    def __init__(self, raw: OpenSearch, index: str, **kwargs: Any) -> None:
        super().__init__(raw, index, **kwargs)
        self.raced = False

    def _upgrade(self, mapping: dict[str, Any]) -> IndexReport:
        if not self.raced:
            self.raced = True
            create_held(self.client, self.index)
            raise NotFoundError(404, "index_not_found_exception", {})
        return super()._upgrade(mapping)


def test_the_state_repository_waits_for_a_racing_creators_primary(raw: OpenSearch, unique_index: str) -> None:
    repository = RacedRepository(raw, unique_index, primaries_wait=1)
    with pytest.raises(StoreUnavailable, match="primary shards are not active after 1 s"):
        repository.ensure_index()
    release(raw, unique_index)
    assert repository.ensure_index() is IndexReport.UPGRADED  # now found: the other creator's index, upgraded
    with pytest.raises(DocumentMissing):  # a shard that answers
        repository.get("nothing-here")
