"""The step documents' shapes: the plugin's template graph, the companion documents, step events, the answer."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from flowstatus.domain.events import EventKind
from flowstatus.domain.model import WorkflowState
from flowstatus.domain.step_derivation import derive
from flowstatus.domain.step_observations import Lease
from flowstatus.domain.steps import Outcome, ReportedStep, Sighting, StepNode, StepRecords
from flowstatus.schemas.events import EventParseError, parse_event
from flowstatus.schemas.step_answer import render_steps
from flowstatus.schemas.steps import dump_lease, dump_records, load_graph, load_lease, load_records

# The provision part of a template as the 2.19.6 plugin stores it (edges it inferred included).
STORED = {"workflows": {"provision": {
    "nodes": [
        {"id": "wait_a", "type": "noop", "previous_node_inputs": {}, "user_inputs": {"deploy": "ignored"}},
        {"id": "idx_1", "type": "create_index", "previous_node_inputs": {"wait_a": "x"}},
        {"id": "model", "type": "register_remote_model", "previous_node_inputs": {}, "user_inputs": {"deploy": True}},
        {"id": "model_2", "type": "register_local_pretrained_model", "user_inputs": {"deploy": "false"}},
        {"id": "tool", "type": "create_tool"},
    ],
    "edges": [{"source": "wait_a", "dest": "idx_1"}, {"source": "idx_1", "dest": "tool"}],
}}}


def test_the_graph_is_read_with_the_edges_the_plugin_infers_and_what_each_step_creates() -> None:
    graph = load_graph(STORED)
    assert graph is not None
    assert graph.nodes == (
        StepNode("wait_a", "noop"),
        StepNode("idx_1", "create_index", ("wait_a",), ("create_index",)),  # one edge, though stated twice
        StepNode("model", "register_remote_model", (), ("register_remote_model", "deploy_model")),
        StepNode("model_2", "register_local_pretrained_model", (), ("register_local_pretrained_model",)),
        StepNode("tool", "create_tool", ("idx_1",)),
    )


def test_a_template_without_a_provision_workflow_has_no_graph_and_a_broken_one_is_refused() -> None:
    assert load_graph({"name": "only metadata"}) is None
    with pytest.raises(ValidationError):
        load_graph({"workflows": {"provision": {"nodes": [{"id": "no type"}]}}})


def test_step_records_round_trip_and_anything_else_is_refused() -> None:
    records = StepRecords("wf", 5, (ReportedStep("a", "noop", 1, 2, Outcome.COMPLETED), ReportedStep("b")),
                          (Sighting("c", "create_index", 9, 8), Sighting("d", "create_index", 10)))
    stored = dump_records(records)
    assert stored["reported"][1] == {"workflow_step_id": "b"}
    assert load_records(stored) == records
    with pytest.raises(ValidationError):
        load_records({**stored, "state": "COMPLETED"})
    with pytest.raises(ValidationError):
        load_records({"workflow_id": "wf", "reported": [{"workflow_step_id": "a", "outcome": "maybe"}]})


def test_the_lease_round_trips() -> None:
    assert load_lease(dump_lease(Lease("host:1:ab", 123))) == Lease("host:1:ab", 123)
    with pytest.raises(ValidationError):
        load_lease({"workflow_id": "not a lease"})


def test_step_events_parse_and_say_what_is_missing() -> None:
    started = parse_event('{"event":"step_started","workflow_id":"wf","workflow_step_id":"a",'
                          '"workflow_step_name":"noop","time":7}')
    assert (started.kind, started.step_id, started.step_type, started.time) == (EventKind.STEP_STARTED, "a", "noop", 7)
    with pytest.raises(EventParseError, match=r"\[error\] Missing data"):
        parse_event('{"event":"step_failed","workflow_id":"wf","workflow_step_id":"a"}')
    with pytest.raises(EventParseError, match=r"\[workflow_step_id\]"):
        parse_event('{"event":"step_completed","workflow_id":"wf"}')
    with pytest.raises(EventParseError, match=r"\[resource_id\] Unknown field"):
        parse_event('{"event":"step_completed","workflow_id":"wf","workflow_step_id":"a","resource_id":"x"}')


def test_the_answer_has_every_key_with_null_for_the_unknown() -> None:
    state = WorkflowState("wf", state="PROVISIONING", provision_start_time=100)
    graph = load_graph(STORED)
    body = render_steps(derive(state, graph, None))
    assert list(body) == ["workflow_id", "state", "error", "provision_start_time", "provision_end_time",
                          "listed_from", "steps"]
    first = body["steps"][0]
    assert list(first) == ["id", "type", "state", "source", "depends_on", "start", "end", "duration_ms",
                           "resources", "error", "note"]
    assert first["start"] == {"basis": "inferred", "time": 100, "earliest": 100, "latest": 100}
    assert (first["end"], first["duration_ms"], first["error"]) == (None, None, None)
    assert body["provision_end_time"] is None
