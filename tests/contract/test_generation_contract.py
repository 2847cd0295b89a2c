"""One contract for the cluster's generation, on both implementations.

The OpenSearch adapter runs on the session's node, whichever generation that
is (``make test`` runs this suite on a 2.19 and on a 3.x node); the in-memory
twin is set to a 2.x and to a 3.x generation.  What is checked: the
repository reports the cluster's generation, and writes a ``user`` it built
in the shape of that generation's plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opensearchpy import OpenSearch

from flowstatus.domain.generation import Generation
from flowstatus.domain.model import User, WorkflowState
from flowstatus.repository import Create, Outcome, Replace, StateRepository
from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.settings import Settings
from tests.conftest import new_id

# The ``user`` keys each release line's plugin writes (common-utils' User.toXContent).
OLDER_USER = ["name", "backend_roles", "roles", "custom_attribute_names", "user_requested_tenant"]  # 2.12 to 3.1
USER_3_2 = [*OLDER_USER, "user_requested_tenant_access"]
NEWEST_USER = ["name", "backend_roles", "roles", "user_requested_tenant", "user_requested_tenant_access",
               "custom_attribute_names"]  # 3.3 on


def plugin_user_keys(release: tuple[int, int]) -> list[str]:
    return NEWEST_USER if release >= (3, 3) else USER_3_2 if release == (3, 2) else OLDER_USER


@dataclass
class Cluster:
    """A repository, the generation its cluster runs, and raw access to its stored documents."""

    repository: StateRepository
    runs: Generation
    stored: Callable[[str], dict[str, Any]]
    store: Callable[[str, dict[str, Any]], None]


def node_generation(client: OpenSearch) -> Generation:
    """What the node says it runs, read here without flowstatus's code."""
    number = client.info()["version"]["number"]
    plugins = [row["version"] for row in client.cat.plugins(format="json")
               if row["component"] == "opensearch-flow-framework"]
    major, minor = (int(part) for part in (plugins[0] if plugins else number).split(".")[:2])
    return Generation(major, minor, plugins[0] if plugins else None)


@pytest.fixture(params=["memory-2.19", "memory-3.6", "opensearch"])
def cluster(request: pytest.FixtureRequest, unique_index: str) -> Iterator[Cluster]:
    if request.param.startswith("memory"):
        runs = Generation.of(request.param.removeprefix("memory-"))
        memory = InMemoryStateRepository(unique_index, generation=runs)
        yield Cluster(memory, runs, lambda wid: memory.raw(wid) or {}, memory.put_raw)
        return
    from flowstatus.repository.opensearch_state import OpenSearchStateRepository

    url = request.getfixturevalue("opensearch_url")
    repository = OpenSearchStateRepository.from_settings(
        Settings(opensearch_hosts=(url,), state_index=unique_index, request_timeout=10))
    client = repository.client

    def store(wid: str, source: dict[str, Any]) -> None:
        repository.ensure_index()
        client.index(index=unique_index, id=wid, body=source)

    yield Cluster(repository, node_generation(client),
                  lambda wid: client.get(index=unique_index, id=wid)["_source"], store)
    client.indices.delete(index=unique_index, ignore=404)


def test_the_repository_reports_the_clusters_generation(cluster: Cluster) -> None:
    assert cluster.repository.generation() == cluster.runs
    assert cluster.repository.generation() == cluster.runs


@pytest.mark.parametrize("user", [User("alice", ("odfe",), ("all_access",)), User("bob")], ids=["roles", "name"])
def test_a_user_flowstatus_built_is_written_in_the_shape_of_the_clusters_plugin(user: User, cluster: Cluster) -> None:
    wid = new_id()
    assert cluster.repository.write(Create(wid, WorkflowState.fresh(wid, user=user))).outcome is Outcome.DONE
    written = cluster.stored(wid)["user"]
    assert list(written) == plugin_user_keys(cluster.runs.release)
    assert written["name"] == user.name and written["roles"] == list(user.roles)
    assert cluster.repository.get(wid).state.user == user


@pytest.mark.parametrize("keys", [OLDER_USER, NEWEST_USER], ids=["2.12-3.1", "3.3+"])
def test_a_user_a_plugin_wrote_keeps_its_shape_on_a_rewrite(keys: list[str], cluster: Cluster) -> None:
    # A document of another generation's plugin (written before an upgrade) is rewritten as it was.
    wid = new_id()
    user = dict.fromkeys(keys) | {"name": "carol", "backend_roles": [], "roles": ["r"], "custom_attribute_names": []}
    cluster.store(wid, {"workflow_id": wid, "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED",
                        "user": user})
    read = cluster.repository.get(wid)
    provisioning = read.state.evolve(state="PROVISIONING", provisioning_progress="IN_PROGRESS")
    assert cluster.repository.write(Replace(wid, provisioning, read.seq_no, read.primary_term)).outcome is Outcome.DONE
    assert cluster.stored(wid)["user"] == user and list(cluster.stored(wid)["user"]) == keys
