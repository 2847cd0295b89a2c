"""Steps of workflows the real plugin provisions, derived by flowstatus with no help from the plugin.

Each test provisions a template of delayed ``noop`` steps and ``create_index``
steps in a dependency graph and follows it with ``_steps`` long polls: at
every stage the step list, its order and its done-marks must match the
template and the resources the plugin recorded, and every claimed duration
must hold the true one (the noop delays).
"""

from __future__ import annotations

from flask.testing import FlaskClient

from flowstatus.composition import Components
from tests.interop.plugin import FF, Plugin
from tests.steps_plugin.graphs import (
    check_against_the_plugin,
    create_index,
    noop,
    same_moment,
    steps_of,
    template,
    unique,
    until,
    within,
)

WAIT_1, WAIT_2 = 1500, 800  # ms: long enough to see each stage with 0.2 s looks, short enough for a quick suite
ORDER = ["wait_1", "index_a", "index_b", "wait_2", "index_c"]
AFTER = {"wait_1": [], "index_a": ["wait_1"], "index_b": [], "wait_2": ["index_a", "index_b"], "index_c": ["wait_2"]}


def test_steps_follow_a_provisioning_graph_stage_by_stage(plugin: Plugin, client: FlaskClient,
                                                          components: Components) -> None:
    # wait_1 -> index_a (through previous_node_inputs), index_b alone; both -> wait_2 -> index_c
    nodes = [noop("wait_1", WAIT_1), create_index("index_a", unique("steps-a"), after_input="wait_1"),
             create_index("index_b", unique("steps-b")), noop("wait_2", WAIT_2),
             create_index("index_c", unique("steps-c"))]
    edges = [("index_a", "wait_2"), ("index_b", "wait_2"), ("wait_2", "index_c")]
    workflow_id = str(plugin.ok("POST", FF, template(nodes, edges), (201,))["workflow_id"])

    before, _ = steps_of(client, workflow_id)
    assert {s["state"] for s in before["steps"]} == {"pending"} and before["state"] == "NOT_STARTED"
    assert [s["id"] for s in before["steps"]] == ORDER

    plugin.provision(workflow_id)
    stages: list[frozenset[str]] = []
    for _ in range(40):  # each round ends with a long poll that returns on a change
        status, answer, tag = same_moment(plugin, client, workflow_id)
        done = frozenset(check_against_the_plugin(status, answer, ORDER, AFTER, quiet={"wait_1", "wait_2"}))
        if not stages or stages[-1] != done:
            stages.append(done)
        running = {s["id"] for s in answer["steps"] if s["state"] == "running"}
        if status["state"] == "PROVISIONING" and not done:
            assert running == {"wait_1", "index_b"}, answer  # what has no dependency starts at once
        if status["state"] == "COMPLETED":
            break
        steps_of(client, workflow_id, "?wait_for_completion_timeout=5s", tag)
    assert stages[-1] == frozenset(ORDER)
    # The stages the delays make visible: index_b alone; then index_a (wait_1 inferred done) but not index_c.
    assert frozenset({"index_b"}) in stages, stages
    assert frozenset({"wait_1", "index_a", "index_b"}) in stages, stages

    final = until(lambda: steps_of(client, workflow_id)[0],
                  lambda body: body["steps"][4]["end"] and body["steps"][4]["end"]["basis"] == "first_seen")
    steps = {s["id"]: s for s in final["steps"]}
    end = final["provision_end_time"]
    # index_c appeared after the observer's previous look: its end lies between two looks.
    index_c = steps["index_c"]["end"]
    assert index_c["earliest"] is not None and index_c["latest"] <= end
    assert index_c["latest"] - index_c["earliest"] <= 3000
    # The noops created nothing: their ends are inferred, never later than what waited for them.
    assert steps["wait_2"]["end"]["basis"] == "inferred" and steps["wait_2"]["end"]["latest"] <= index_c["latest"]
    assert steps["wait_1"]["note"] == "a step that depends on it started"
    # Honest bounds: each noop's true duration (its delay) lies within what flowstatus claims.
    assert within(WAIT_1, steps["wait_1"]["duration_ms"]), steps["wait_1"]
    assert within(WAIT_2, steps["wait_2"]["duration_ms"]), steps["wait_2"]
    assert all(s["source"] == "observed" for s in steps.values())


def test_a_failing_step_is_shown_failed_with_the_plugins_error(plugin: Plugin, client: FlaskClient) -> None:
    taken = unique("steps-taken")
    plugin.put_index(taken)  # create_index of an index that already exists fails
    nodes = [noop("wait_1", 300), create_index("dup", taken), create_index("after_dup", unique("steps-never")),
             create_index("side", unique("steps-side"))]
    workflow_id = str(plugin.ok("POST", FF, template(nodes, [("wait_1", "dup"), ("dup", "after_dup")]),
                                (201,))["workflow_id"])
    plugin.provision(workflow_id)
    answer, _ = steps_of(client, workflow_id, "?wait_for_completion_timeout=30s")
    status = plugin.wait_until(workflow_id, "FAILED")
    answer = until(lambda: steps_of(client, workflow_id)[0], lambda body: body["state"] == "FAILED")
    steps = {s["id"]: s for s in answer["steps"]}
    assert "already exists during step dup, restStatus: BAD_REQUEST" in status["error"]
    assert answer["error"] == status["error"]
    assert (steps["dup"]["state"], steps["dup"]["error"], steps["dup"]["source"]) == ("failed", status["error"],
                                                                                     "observed")
    assert steps["dup"]["end"]["latest"] == status["provision_end_time"]
    assert steps["wait_1"]["state"] == "completed"  # dup started, so what it waited for ended
    assert (steps["after_dup"]["state"], steps["after_dup"]["note"]) == ("pending", "never started: dup failed")
    side_done = any(r["workflow_step_id"] == "side" for r in status.get("resources_created", []))
    assert steps["side"]["state"] == ("completed" if side_done else "unknown")
