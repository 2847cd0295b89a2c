"""A search flowstatus stops waiting for does not keep running in OpenSearch.

The adapter is driven directly with a body the search schema would refuse
(a thousand leading-wildcard queries over 50,000 documents: several seconds
of work), because what is tested is what OpenSearch does with any search
that outlives flowstatus' timeout.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch, helpers

from flowstatus.repository.errors import StoreUnavailable
from flowstatus.repository.opensearch_search import ANSWER_GRACE_SECONDS, OpenSearchStateSearch
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.settings import Settings

DOCS = 50_000
TIMEOUT = 1.0


@pytest.fixture(scope="module")
def big_index(opensearch_url: str) -> Iterator[str]:
    index = f".flowstatus-test-cancel-{uuid.uuid4().hex[:12]}"
    OpenSearchStateRepository.from_settings(Settings(opensearch_hosts=(opensearch_url,), state_index=index)).ensure_index()
    client = OpenSearch([opensearch_url], timeout=60)
    helpers.bulk(client, ({"_index": index, "_id": f"w{i}", "_source": {"workflow_id": f"wf-{i:07d}-abcdefghij"}}
                          for i in range(DOCS)), refresh=True)
    yield index
    client.indices.delete(index=index, ignore=404)


def slow_body(seed: int) -> dict[str, object]:
    """A thousand wildcard patterns no cache has seen: seconds of term scanning."""
    pick = random.Random(seed)
    patterns = [f"*{pick.randint(0, 99)}*{pick.choice('abcdefghij')}*{pick.choice('abcdefghij')}*{pick.randint(0, 9)}*"
                for _ in range(1_000)]
    return {"size": 0, "query": {"bool": {"should": [{"wildcard": {"workflow_id": p}} for p in patterns]}}}


def running_searches(client: OpenSearch, index: str) -> list[str]:
    tasks = client.tasks.list(actions="indices:data/read/search*", detailed=True)
    return [task_id for node in tasks["nodes"].values() for task_id, task in node["tasks"].items()
            if index in task.get("description", "")]


def test_opensearch_cancels_the_search_at_flowstatus_timeout(opensearch_url: str, big_index: str) -> None:
    client = OpenSearch([opensearch_url], timeout=30)
    search = OpenSearchStateSearch(client, big_index, timeout=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"^OpenSearch cancelled the search after its timeout of 1.0 s$"):
        search.search(slow_body(time.time_ns()))
    took = time.monotonic() - started
    assert took < TIMEOUT + ANSWER_GRACE_SECONDS, f"answered after {took:.1f} s"
    deadline = time.monotonic() + 2
    while running_searches(client, big_index) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running_searches(client, big_index) == [], "the search is still running in OpenSearch"
