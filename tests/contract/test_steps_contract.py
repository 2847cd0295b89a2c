"""One suite, two implementations: the step store and template store on OpenSearch and in memory.

The in-memory twins may stand in for OpenSearch in unit and API tests only
because they pass this suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opensearchpy import OpenSearch

from flowstatus.domain.step_observations import Lease
from flowstatus.domain.steps import Outcome, ReportedStep, Sighting, StepNode, StepRecords
from flowstatus.repository.memory_steps import InMemoryStepStore, InMemoryTemplateStore
from flowstatus.repository.port import IndexReport
from flowstatus.repository.port import Outcome as WriteOutcome
from flowstatus.repository.step_port import PutRecords, StepStore, TemplateStore, Version
from tests.conftest import put_template

RECORDS = StepRecords("wf-1", 1000, (ReportedStep("a", "noop", 1001, 1002, Outcome.COMPLETED),),
                      (Sighting("b", "create_index", 1500, 1400),))
TEMPLATE = {"name": "t", "use_case": "TEST", "workflows": {"provision": {
    "user_params": {},
    "nodes": [{"id": "a", "type": "noop", "previous_node_inputs": {}, "user_inputs": {"delay": "1s"}},
              {"id": "b", "type": "create_index", "previous_node_inputs": {},
               "user_inputs": {"index_name": "x", "credential": {"secret": "never read"}}}],
    "edges": [{"source": "a", "dest": "b"}]}}}


@pytest.fixture(params=["memory", "opensearch"])
def stores(request: pytest.FixtureRequest, unique_index: str) -> Iterator[tuple[StepStore, TemplateStore,
                                                                                   Callable[[str, dict[str, Any]], None]]]:
    """A step store, a template store, and a way to store a template as the plugin does."""
    if request.param == "memory":
        templates = InMemoryTemplateStore(f"{unique_index}-templates")
        yield InMemoryStepStore(unique_index), templates, templates.put
        return
    from flowstatus.repository.opensearch_steps import OpenSearchStepStore
    from flowstatus.repository.opensearch_templates import OpenSearchTemplateStore

    client = OpenSearch([request.getfixturevalue("opensearch_url")], timeout=30)

    def put(workflow_id: str, source: dict[str, Any]) -> None:
        put_template(client, f"{unique_index}-templates", workflow_id, source)

    yield (OpenSearchStepStore(client, unique_index), OpenSearchTemplateStore(client, f"{unique_index}-templates"),
           put)
    client.indices.delete(index=unique_index, ignore=404)
    client.indices.delete(index=f"{unique_index}-templates", ignore=404)


def test_reads_before_the_index_exists_find_nothing(stores: Any) -> None:
    steps, templates, _ = stores
    assert not steps.index_exists()
    assert steps.get_many(["wf-1"]) == {"wf-1": None}
    assert steps.read_lease() is None
    assert templates.get_many(["wf-1"]) == {"wf-1": None}


def test_ensure_index_is_idempotent(stores: Any) -> None:
    steps, _, _ = stores
    assert steps.ensure_index() is IndexReport.CREATED
    assert steps.ensure_index() is IndexReport.CURRENT
    assert steps.index_exists()


def test_records_are_created_read_and_replaced_only_at_the_version_read(stores: Any) -> None:
    steps, _, _ = stores
    (created,) = steps.write_many([PutRecords(RECORDS)])  # creates the index too
    assert created.outcome is WriteOutcome.DONE
    read = steps.get_many(["wf-1", "other"])
    assert read["other"] is None
    stored = read["wf-1"]
    assert stored is not None and stored.records == RECORDS
    assert stored.version == Version(created.seq_no, created.primary_term)

    (again,) = steps.write_many([PutRecords(RECORDS)])
    assert again.outcome is WriteOutcome.CONFLICT, "a second create conflicts"
    newer = RECORDS.with_reported(ReportedStep("c", started=1600))
    first, second = steps.write_many([PutRecords(newer, stored.version), PutRecords(RECORDS, stored.version)])
    assert (first.outcome, second.outcome) == (WriteOutcome.DONE, WriteOutcome.CONFLICT)
    final = steps.get_many(["wf-1"])["wf-1"]
    assert final is not None and final.records == newer


def test_the_lease_is_written_only_at_the_version_read(stores: Any) -> None:
    steps, _, _ = stores
    assert steps.write_lease(Lease("one", 5000), None)
    assert not steps.write_lease(Lease("two", 5000), None), "another process wrote first"
    stored = steps.read_lease()
    assert stored is not None and stored.lease == Lease("one", 5000)
    assert steps.write_lease(Lease("two", 9000), stored.version)
    assert not steps.write_lease(Lease("one", 9999), stored.version)
    assert steps.read_lease().lease == Lease("two", 9000)
    assert steps.get_many(["observer/lease"])["observer/lease"].records is None  # never taken for records


def test_a_template_gives_its_graph_and_nothing_else(stores: Any) -> None:
    _, templates, put = stores
    put("wf-1", TEMPLATE)
    put("wf-2", {"name": "no provision workflow"})
    put("wf-3", {"workflows": {"provision": {"nodes": [{"type": "noop"}]}}})
    found = templates.get_many(["wf-1", "wf-2", "wf-3", "wf-4"])
    assert found["wf-1"] is not None and found["wf-1"].graph is not None
    assert found["wf-1"].graph.nodes == (StepNode("a", "noop"), StepNode("b", "create_index", ("a",), ("create_index",)))
    assert found["wf-2"] is not None and found["wf-2"].graph is None
    assert found["wf-3"] is not None and found["wf-3"].graph is None  # does not load: no steps listed from it
    assert found["wf-4"] is None
