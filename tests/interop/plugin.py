"""Driving the real Flow Framework plugin: workflows of ``noop`` and ``create_index`` steps (no ML model).

Every wait is a bounded poll of ``_status``: provisioning runs in the
background, and deprovision answers before its state write lands.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.interop.answers import Answer, HttpEndpoint, poll

FF = "/_plugins/_flow_framework/workflow"
STATE_INDEX = ".plugins-flow-framework-state"
FINISHED = ("COMPLETED", "FAILED")


def status_path(workflow_id: str, query: str = "") -> str:
    return f"{FF}/{workflow_id}/_status{query}"


def unique(prefix: str = "interop") -> str:
    """A name no other test uses (indices, workflow ids)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def template(index: str, *, delay: str = "0s", extra_noop: bool = False) -> dict[str, Any]:
    """A ``noop`` step (waiting ``delay``) then a ``create_index`` step creating ``index``.

    ``extra_noop`` adds a second, independent ``noop`` step: a template that
    differs from the first only by a step that creates nothing, as a
    reprovision needs.
    """
    nodes: list[dict[str, Any]] = [
        {"id": "wait_1", "type": "noop", "user_inputs": {"delay": delay}},
        {"id": "create_index_1", "type": "create_index", "user_inputs": {
            "index_name": index,
            "configurations": {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                               "mappings": {"properties": {"a": {"type": "keyword"}}}}}},
    ]
    if extra_noop:
        nodes.append({"id": "wait_2", "type": "noop", "user_inputs": {"delay": "0s"}})
    return {
        "name": f"interop-{index}",
        "description": "noop then create_index",
        "use_case": "TEST",
        "version": {"template": "1.0.0", "compatibility": ["2.19.0", "3.0.0"]},
        "workflows": {"provision": {"nodes": nodes, "edges": [{"source": "wait_1", "dest": "create_index_1"}]}},
    }


class Plugin(HttpEndpoint):
    """The node with the plugin: its REST API, plus the few index calls the tests need."""

    def ok(self, method: str, path: str, body: Any = None, expected: tuple[int, ...] = (200,)) -> Any:
        """Call and return the JSON body; AssertionError unless the status is one of ``expected``."""
        answer = self.call(method, path, body)
        assert answer.status in expected, (method, path, answer.status, answer.body[:500])
        return answer.json()

    def create(self, index: str, **template_options: Any) -> str:
        """Create a workflow of :func:`template`; its id."""
        return str(self.ok("POST", FF, template(index, **template_options), (201,))["workflow_id"])

    def provision(self, workflow_id: str) -> None:
        self.ok("POST", f"{FF}/{workflow_id}/_provision", expected=(200, 202))  # 202 from 3.0 on

    def status(self, workflow_id: str) -> dict[str, Any]:
        """``_status?all=true``; AssertionError unless it answers 200."""
        return dict(self.ok("GET", status_path(workflow_id, "?all=true")))

    def wait_until(self, workflow_id: str, *states: str, timeout: float = 60.0) -> dict[str, Any]:
        """Poll ``_status?all=true`` until ``state`` is one of ``states``; that status."""
        return poll(lambda: self.status(workflow_id), lambda body: body.get("state") in states,
                    timeout=timeout, what=" or ".join(states))

    def provisioned(self, index: str, **template_options: Any) -> str:
        """A workflow created and provisioned until it finished (COMPLETED or FAILED)."""
        workflow_id = self.create(index, **template_options)
        self.provision(workflow_id)
        self.wait_until(workflow_id, *FINISHED)
        return workflow_id

    def reprovision(self, workflow_id: str, index: str) -> None:
        """Update the template to :func:`template` plus an independent ``noop`` step, and reprovision."""
        self.ok("PUT", f"{FF}/{workflow_id}?reprovision=true", template(index, extra_noop=True), (201, 202))

    def deprovision(self, workflow_id: str, allow_delete: str | None = None) -> Answer:
        query = f"?allow_delete={allow_delete}" if allow_delete else ""
        return self.call("POST", f"{FF}/{workflow_id}/_deprovision{query}")

    def deprovisioned(self, workflow_id: str, allow_delete: str | None = None) -> dict[str, Any]:
        """Deprovision (200), then poll until the state write has landed: NOT_STARTED."""
        answer = self.deprovision(workflow_id, allow_delete)
        assert answer.status == 200, (answer.status, answer.body)
        return self.wait_until(workflow_id, "NOT_STARTED")

    def delete(self, workflow_id: str) -> None:
        """Delete the template and, with ``clear_status``, its state (the state delete is asynchronous)."""
        self.ok("DELETE", f"{FF}/{workflow_id}?clear_status=true")
        poll(lambda: self.call("GET", status_path(workflow_id)).status, lambda status: status == 404,
             what="deleted")

    def refresh_state(self) -> None:
        """Make the state index's latest writes searchable (flowstatus writes without a refresh)."""
        self.ok("POST", f"/{STATE_INDEX}/_refresh")

    def delete_state_index(self) -> None:
        self.ok("DELETE", f"/{STATE_INDEX}", expected=(200, 404))

    def state_mapping(self) -> dict[str, Any]:
        (entry,) = self.ok("GET", f"/{STATE_INDEX}/_mapping").values()
        return dict(entry["mappings"])

    def put_index(self, index: str) -> None:
        self.ok("PUT", f"/{index}", {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})

    def index_exists(self, index: str) -> bool:
        return self.call("HEAD", f"/{index}").status == 200

    def store(self, workflow_id: str, source: dict[str, Any]) -> None:
        """Write a state document verbatim, as some other writer might have."""
        self.ok("PUT", f"/{STATE_INDEX}/_doc/{workflow_id}?refresh=true", source, (200, 201))
