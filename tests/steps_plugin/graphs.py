"""Templates of ``noop`` and ``create_index`` steps in a dependency graph, and checks of flowstatus's steps
against what the plugin itself shows (its ``_status``) at the same moment."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from tests.interop.plugin import Plugin

Node = dict[str, Any]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def noop(step_id: str, delay_ms: int) -> Node:
    return {"id": step_id, "type": "noop", "user_inputs": {"delay": f"{delay_ms}ms"}}


def create_index(step_id: str, index: str, *, after_input: str | None = None) -> Node:
    """A ``create_index`` step; ``after_input`` makes it depend on that step through ``previous_node_inputs``."""
    node: Node = {"id": step_id, "type": "create_index", "user_inputs": {
        "index_name": index,
        "configurations": {"settings": {"number_of_shards": 1, "number_of_replicas": 0}}}}
    if after_input:
        node["previous_node_inputs"] = {after_input: "unused"}
    return node


def template(nodes: list[Node], edges: list[tuple[str, str]]) -> dict[str, Any]:
    return {"name": unique("steps"), "description": "steps of noop and create_index", "use_case": "TEST",
            "version": {"template": "1.0.0", "compatibility": ["2.19.0", "3.0.0"]},
            "workflows": {"provision": {"nodes": nodes,
                                        "edges": [{"source": s, "dest": d} for s, d in edges]}}}


def steps_of(client: FlaskClient, workflow_id: str, query: str = "", etag: str | None = None) -> tuple[dict, str]:
    """flowstatus's ``_steps`` answer (200) and its ETag."""
    headers = {"If-None-Match": etag} if etag else {}
    answer = client.get(f"/_flowstatus/workflow/{workflow_id}/_steps{query}", headers=headers)
    assert answer.status_code in (200, 304), (answer.status_code, answer.get_data())
    if answer.status_code == 304:
        return steps_of(client, workflow_id)
    return answer.get_json(), answer.headers["ETag"]


def entries(resources: list[dict[str, str]]) -> list[dict[str, str]]:
    """Resource entries compared as maps (the plugin's key order changes between requests)."""
    return sorted((dict(sorted(r.items())) for r in resources), key=lambda r: sorted(r.items()))


def same_moment(plugin: Plugin, client: FlaskClient, workflow_id: str) -> tuple[dict, dict, str]:
    """The plugin's ``_status?all=true`` and flowstatus's ``_steps`` (with its ETag), read while the state
    did not change."""
    deadline = time.monotonic() + 20
    while True:
        before = plugin.status(workflow_id)
        steps, tag = steps_of(client, workflow_id)
        if plugin.status(workflow_id) == before or time.monotonic() > deadline:
            return before, steps, tag
        time.sleep(0.05)


def check_against_the_plugin(status: dict, answer: dict, order: list[str], after: dict[str, list[str]],
                             quiet: set[str]) -> set[str]:
    """Assert flowstatus's steps agree with the plugin's state and template; return the completed steps.

    ``order`` is the expected list, ``after`` what each step depends on,
    ``quiet`` the steps that create no resource.
    """
    steps = {s["id"]: s for s in answer["steps"]}
    assert [s["id"] for s in answer["steps"]] == order
    assert {i: s["depends_on"] for i, s in steps.items()} == after
    assert answer["state"] == status["state"] and answer["listed_from"] == "template"
    made: dict[str, list[dict[str, str]]] = {}
    for resource in status.get("resources_created", []):
        made.setdefault(resource["workflow_step_id"], []).append(resource)
    for step_id, step in steps.items():
        assert entries(step["resources"]) == entries(made.get(step_id, [])), step_id
        if made.get(step_id):  # a step whose resource the plugin recorded is done: the done-mark
            assert step["state"] == "completed" and step["source"] == "observed", step
        elif status["state"] == "PROVISIONING" and step_id not in quiet:
            assert step["state"] in ("pending", "running"), step
    if status["state"] == "COMPLETED":
        assert {s["state"] for s in steps.values()} == {"completed"}
    return {i for i, s in steps.items() if s["state"] == "completed"}


def until(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 20.0) -> Any:
    """Read until ``done``; AssertionError with the last value after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"not done after {timeout} s: {value}"
        time.sleep(0.1)


def within(truth_ms: int, bounds: dict[str, int] | None) -> bool:
    """Whether a claimed ``{min, max}`` duration holds the true one (50 ms for scheduling and clock reads)."""
    return bounds is not None and bounds["min"] - 50 <= truth_ms <= bounds["max"] + 50
