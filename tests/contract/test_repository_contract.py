"""One suite, two implementations: the OpenSearch adapter and the in-memory fake.

Every test here runs against both; the fake may be used in unit tests only
because it passes this suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowstatus.domain.model import ResourceCreated, User, WorkflowState
from flowstatus.repository import Create, Delete, IndexReport, Outcome, Replace, StateRepository
from flowstatus.repository.errors import DocumentMissing, IndexMissing
from flowstatus.repository.memory import InMemoryStateRepository
from flowstatus.settings import Settings
from tests.conftest import new_id


@pytest.fixture(params=["memory", "opensearch"])
def repo(request: pytest.FixtureRequest, unique_index: str) -> Iterator[StateRepository]:
    if request.param == "memory":
        yield InMemoryStateRepository(unique_index)
        return
    from flowstatus.repository.opensearch_state import OpenSearchStateRepository

    url = request.getfixturevalue("opensearch_url")
    repository = OpenSearchStateRepository.from_settings(
        Settings(opensearch_hosts=(url,), state_index=unique_index, request_timeout=10)
    )
    yield repository
    repository.client.indices.delete(index=unique_index, ignore=404)


RICH = WorkflowState(
    workflow_id="rich",
    error="WorkflowStepException during step create_index, boom, restStatus: BAD_REQUEST",
    state="FAILED",
    provisioning_progress="FAILED",
    provision_start_time=1721933687578,
    provision_end_time=1721933687634,
    user=User("alice", ("odfe",), ("all_access",)),
    resources_created=(ResourceCreated("create_connector", "c1", "connector_id", "abc"),),
    tenant_id="t1",
    all_shared_principals=("user:one",),
    extra={"from_a_newer_plugin": {"x": 1}},
)


def test_reads_before_the_index_exists_say_so(repo: StateRepository) -> None:
    assert not repo.index_exists()
    with pytest.raises(IndexMissing):
        repo.get("anything")
    with pytest.raises(IndexMissing):
        repo.get_many(["anything"])
    with pytest.raises(IndexMissing):
        repo.versions(["anything"])


def test_ensure_index_is_idempotent(repo: StateRepository) -> None:
    assert repo.ensure_index() is IndexReport.CREATED
    assert repo.ensure_index() is IndexReport.CURRENT
    assert repo.index_exists()


def test_a_missing_document_is_distinguished_from_a_missing_index(repo: StateRepository) -> None:
    repo.ensure_index()
    with pytest.raises(DocumentMissing):
        repo.get(new_id())


def test_create_then_read_round_trips_every_field(repo: StateRepository) -> None:
    result = repo.write(Create("rich", RICH))
    assert result.outcome is Outcome.DONE
    got = repo.get("rich")
    assert got.state == RICH
    assert got.state.extra == RICH.extra
    assert (got.seq_no, got.primary_term) == (result.seq_no, result.primary_term)


def test_writes_create_a_missing_index(repo: StateRepository) -> None:
    wid = new_id()
    assert repo.write(Create(wid, WorkflowState.fresh(wid))).outcome is Outcome.DONE
    assert repo.index_exists()
    assert repo.ensure_index() is IndexReport.CURRENT


def test_create_refuses_an_existing_document_and_leaves_it(repo: StateRepository) -> None:
    wid = new_id()
    repo.write(Create(wid, WorkflowState.fresh(wid)))
    before = repo.get(wid)
    again = repo.write(Create(wid, RICH))
    assert again.outcome is Outcome.CONFLICT
    assert repo.get(wid) == before


def test_replace_succeeds_only_at_the_version_read(repo: StateRepository) -> None:
    wid = new_id()
    repo.write(Create(wid, WorkflowState.fresh(wid)))
    read = repo.get(wid)
    provisioning = read.state.evolve(state="PROVISIONING", provisioning_progress="IN_PROGRESS")
    first = repo.write(Replace(wid, provisioning, read.seq_no, read.primary_term))
    assert first.outcome is Outcome.DONE
    assert first.seq_no is not None and first.seq_no > read.seq_no
    stale = repo.write(Replace(wid, RICH, read.seq_no, read.primary_term))
    assert stale.outcome is Outcome.CONFLICT
    assert repo.get(wid).state == provisioning


def test_delete_succeeds_only_at_the_version_read(repo: StateRepository) -> None:
    wid = new_id()
    created = repo.write(Create(wid, WorkflowState.fresh(wid)))
    assert created.seq_no is not None and created.primary_term is not None
    stale = repo.write(Delete(wid, created.seq_no + 1000, created.primary_term))
    assert stale.outcome is Outcome.CONFLICT
    assert repo.write(Delete(wid, created.seq_no, created.primary_term)).outcome is Outcome.DONE
    with pytest.raises(DocumentMissing):
        repo.get(wid)
    gone = repo.write(Delete(wid, created.seq_no, created.primary_term))
    assert gone.outcome is Outcome.CONFLICT


def test_write_many_reports_each_op_on_its_own(repo: StateRepository) -> None:
    a, b = new_id(), new_id()
    repo.write(Create(a, WorkflowState.fresh(a)))
    results = repo.write_many([Create(a, RICH), Create(b, WorkflowState.fresh(b))])
    assert [r.outcome for r in results] == [Outcome.CONFLICT, Outcome.DONE]


def test_get_many_maps_each_id_once(repo: StateRepository) -> None:
    a, missing = new_id(), new_id()
    repo.write(Create(a, WorkflowState.fresh(a)))
    found = repo.get_many([a, missing, a])
    assert list(found) == [a, missing]
    assert found[missing] is None
    assert found[a] == repo.get(a)
    assert repo.get_many([]) == {}


def test_versions_are_realtime_and_change_with_every_write(repo: StateRepository) -> None:
    a, missing = new_id(), new_id()
    repo.write(Create(a, WorkflowState.fresh(a)))
    read = repo.get(a)
    assert repo.versions([a, missing, a]) == {a: (read.primary_term, read.seq_no), missing: None}
    provisioning = read.state.evolve(state="PROVISIONING", provisioning_progress="IN_PROGRESS")
    written = repo.write(Replace(a, provisioning, read.seq_no, read.primary_term))
    assert repo.versions([a]) == {a: (written.primary_term, written.seq_no)} != {a: (read.primary_term, read.seq_no)}
    assert repo.versions([]) == {}


def test_readiness_says_whether_the_index_exists(repo: StateRepository) -> None:
    assert repo.readiness().reason == "the state index does not exist"
    repo.ensure_index()
    assert repo.readiness().ready
