"""Deriving steps from a template graph, the state and flowstatus's records: states, order, times, honesty."""

from __future__ import annotations

from flowstatus.domain.model import ResourceCreated, WorkflowState
from flowstatus.domain.step_derivation import derive, failed_step
from flowstatus.domain.steps import (
    Basis,
    Moment,
    Outcome,
    ReportedStep,
    Sighting,
    Step,
    StepGraph,
    StepNode,
    StepRecords,
    StepSource,
    StepState,
)

START = 1_000_000
# wait_a (noop) -> idx_1; wait_b (noop) -> idx_2; idx_1 and idx_2 -> idx_3
GRAPH = StepGraph((
    StepNode("idx_3", "create_index", ("idx_1", "idx_2"), ("create_index",)),
    StepNode("wait_a", "noop"),
    StepNode("idx_1", "create_index", ("wait_a",), ("create_index",)),
    StepNode("wait_b", "noop"),
    StepNode("idx_2", "create_index", ("wait_b",), ("create_index",)),
))


def index(step_id: str) -> ResourceCreated:
    return ResourceCreated("create_index", step_id, "index_name", f"index-of-{step_id}")


def state(kind: str = "PROVISIONING", *resources: str, end: int | None = None, error: str | None = None,
          start: int | None = START) -> WorkflowState:
    progress = {"PROVISIONING": "IN_PROGRESS", "COMPLETED": "DONE", "FAILED": "FAILED"}.get(kind, "NOT_STARTED")
    return WorkflowState("wf", error=error, state=kind, provisioning_progress=progress, provision_start_time=start,
                         provision_end_time=end, resources_created=tuple(index(r) for r in resources))


def by_id(steps: tuple[Step, ...]) -> dict[str, Step]:
    return {s.id: s for s in steps}


def states_of(steps: tuple[Step, ...]) -> dict[str, str]:
    return {s.id: s.state.value for s in steps}


def test_steps_are_listed_in_dependency_order_with_template_order_between_equals() -> None:
    steps = derive(state("NOT_STARTED", start=None), GRAPH, None)
    assert [s.id for s in steps.steps] == ["wait_a", "idx_1", "wait_b", "idx_2", "idx_3"]
    assert by_id(steps.steps)["idx_3"].depends_on == ("idx_1", "idx_2")
    assert steps.listed_from == "template"


def test_before_provisioning_every_step_is_pending_and_has_no_time() -> None:
    steps = derive(state("NOT_STARTED", start=None), GRAPH, None).steps
    assert set(states_of(steps).values()) == {"pending"}
    assert all(s.start is None and s.end is None and s.source is StepSource.OBSERVED for s in steps)


def test_when_provisioning_starts_the_steps_without_dependencies_run() -> None:
    steps = by_id(derive(state(), GRAPH, None).steps)
    assert states_of(tuple(steps.values())) == {
        "wait_a": "running", "idx_1": "pending", "wait_b": "running", "idx_2": "pending", "idx_3": "pending"}
    assert steps["wait_a"].start == Moment.exact(Basis.INFERRED, START)
    assert steps["wait_a"].end is None and steps["wait_a"].note and "creates no resource" in steps["wait_a"].note


def test_a_seen_resource_completes_its_step_and_the_steps_it_waited_for() -> None:
    records = StepRecords("wf", START, sightings=(Sighting("idx_2", "create_index", START + 2500, START + 2000),))
    steps = by_id(derive(state("PROVISIONING", "idx_2"), GRAPH, records).steps)
    assert states_of(tuple(steps.values())) == {
        "wait_a": "running", "idx_1": "pending", "wait_b": "completed", "idx_2": "completed", "idx_3": "pending"}
    # idx_2 ended between the observer's two looks.
    assert steps["idx_2"].end == Moment(Basis.FIRST_SEEN, START + 2000, START + 2500)
    assert steps["idx_2"].source is StepSource.OBSERVED
    # wait_b made no resource: it ended at some point before idx_2 was seen done, and no more is claimed.
    assert steps["wait_b"].end == Moment(Basis.INFERRED, START, START + 2500)
    assert steps["wait_b"].duration() == (0, 2500)
    assert steps["idx_2"].start == Moment(Basis.INFERRED, START, START + 2500)


def test_a_resource_seen_without_an_observation_has_an_unbounded_end_while_provisioning() -> None:
    steps = by_id(derive(state("PROVISIONING", "idx_2"), GRAPH, None).steps)
    assert steps["idx_2"].state is StepState.COMPLETED
    assert steps["idx_2"].end == Moment(Basis.INFERRED, START, None)
    assert steps["idx_2"].duration() is None


def test_when_the_workflow_completed_every_step_did_and_no_end_is_after_the_workflows() -> None:
    end = START + 5000
    records = StepRecords("wf", START, sightings=(
        Sighting("idx_2", "create_index", START + 1200, START + 1000),
        Sighting("idx_1", "create_index", START + 3100, START + 2900),
        Sighting("idx_3", "create_index", START + 5400, START + 4400),  # seen after the plugin's end time
    ))
    steps = by_id(derive(state("COMPLETED", "idx_2", "idx_1", "idx_3", end=end), GRAPH, records).steps)
    assert set(states_of(tuple(steps.values())).values()) == {"completed"}
    assert steps["idx_3"].end == Moment(Basis.FIRST_SEEN, START + 4400, end)
    assert steps["wait_a"].end == Moment(Basis.INFERRED, START, START + 3100)
    assert all(s.end is not None and s.end.latest is not None and s.end.latest <= end for s in steps.values())
    # idx_3 started once both idx_1 and idx_2 had ended: after idx_1's earliest end.
    assert steps["idx_3"].start == Moment(Basis.INFERRED, START + 2900, START + 3100)


def test_a_failed_step_named_by_the_plugins_error_is_failed_and_what_depends_on_it_never_started() -> None:
    error = "index [index-of-idx_1/abc] already exists during step idx_1, restStatus: BAD_REQUEST"
    steps = by_id(derive(state("FAILED", "idx_2", end=START + 900, error=error), GRAPH, None).steps)
    assert states_of(tuple(steps.values())) == {
        "wait_a": "completed", "idx_1": "failed", "wait_b": "completed", "idx_2": "completed", "idx_3": "pending"}
    assert steps["idx_1"].error == error and steps["idx_1"].source is StepSource.OBSERVED
    assert steps["idx_1"].end == Moment(Basis.INFERRED, START, START + 900)
    assert steps["idx_3"].note == "never started: idx_1 failed"
    assert steps["idx_3"].start is None


def test_after_a_failure_a_step_on_another_branch_that_shows_nothing_is_unknown() -> None:
    error = "boom during step idx_1, restStatus: BAD_REQUEST"
    steps = by_id(derive(state("FAILED", end=START + 900, error=error), GRAPH, None).steps)
    assert steps["wait_b"].state is StepState.UNKNOWN and steps["wait_b"].source is StepSource.UNKNOWN
    assert steps["idx_2"].state is StepState.UNKNOWN
    assert steps["wait_b"].start is None and steps["wait_b"].end is None


def test_reported_steps_keep_their_reported_times_and_source() -> None:
    records = StepRecords("wf", START, reported=(
        ReportedStep("wait_a", "noop", START + 10, START + 410, Outcome.COMPLETED),
        ReportedStep("idx_1", "create_index", started=START + 420),
    ))
    steps = by_id(derive(state(), GRAPH, records).steps)
    assert steps["wait_a"].state is StepState.COMPLETED and steps["wait_a"].source is StepSource.REPORTED
    assert steps["wait_a"].duration() == (400, 400)
    assert steps["idx_1"].state is StepState.RUNNING and steps["idx_1"].start == Moment.exact(Basis.REPORTED, START + 420)


def test_a_reported_failure_is_shown_with_its_error() -> None:
    records = StepRecords("wf", START, reported=(ReportedStep("idx_2", None, START, START + 5, Outcome.FAILED, "no"),))
    steps = by_id(derive(state(), GRAPH, records).steps)
    assert steps["idx_2"].state is StepState.FAILED and steps["idx_2"].error == "no"
    assert steps["wait_b"].state is StepState.COMPLETED  # it started, so what it waited for ended


def test_records_of_another_run_are_ignored() -> None:
    old = StepRecords("wf", START - 60_000, reported=(ReportedStep("wait_a", "noop", 1, 2, Outcome.COMPLETED),))
    steps = by_id(derive(state(), GRAPH, old).steps)
    assert steps["wait_a"].state is StepState.RUNNING and steps["wait_a"].source is StepSource.OBSERVED


def test_a_register_step_that_deploys_ends_with_its_second_resource() -> None:
    graph = StepGraph((StepNode("model", "register_remote_model", (), ("register_remote_model", "deploy_model")),))
    registered = ResourceCreated("register_remote_model", "model", "model_id", "m1")
    deployed = ResourceCreated("deploy_model", "model", "model_id", "m1")
    provisioning = WorkflowState("wf", state="PROVISIONING", provision_start_time=START)
    assert derive(provisioning.evolve(resources_created=(registered,)), graph, None).steps[0].state is StepState.RUNNING
    done = derive(provisioning.evolve(resources_created=(registered, deployed)), graph, None).steps[0]
    assert done.state is StepState.COMPLETED and done.resources == (registered, deployed)


def test_without_a_template_the_steps_come_from_reports_and_resources() -> None:
    records = StepRecords("wf", START, reported=(ReportedStep("load", "custom_loader", started=START + 1),))
    steps = derive(state("PROVISIONING", "idx_9"), None, records)
    assert steps.listed_from == "events"
    assert [(s.id, s.type, s.state.value, s.depends_on) for s in steps.steps] == [
        ("load", "custom_loader", "running", None), ("idx_9", "create_index", "completed", None)]


def test_a_state_the_plugin_does_not_define_leaves_every_step_unknown() -> None:
    steps = derive(state("WHATEVER"), GRAPH, None).steps
    assert {s.state for s in steps} == {StepState.UNKNOWN}


def test_the_failed_step_is_the_longest_id_the_error_names() -> None:
    error = "WorkflowStepException during step create_index_10, oops, restStatus: BAD_REQUEST"
    assert failed_step(error, ["create_index_1", "create_index_10"]) == "create_index_10"
    assert failed_step("Failed to update workflow state", ["create_index_1"]) is None
    assert failed_step(None, ["a"]) is None


def test_the_same_documents_always_give_the_same_steps() -> None:
    records = StepRecords("wf", START, sightings=(Sighting("idx_2", "create_index", START + 2500, START + 2000),))
    assert derive(state("PROVISIONING", "idx_2"), GRAPH, records) == derive(state("PROVISIONING", "idx_2"), GRAPH,
                                                                            records)


def test_reported_steps_the_template_does_not_name_come_after_its_steps() -> None:
    records = StepRecords("wf", START, reported=(ReportedStep("warm_cache", "custom", started=START + 5),))
    steps = derive(state(), GRAPH, records).steps
    assert [s.id for s in steps][-1] == "warm_cache"
    assert (steps[-1].state, steps[-1].source, steps[-1].depends_on) == (StepState.RUNNING, StepSource.REPORTED, None)
