"""Every transition, allowed and refused, as one table used by several suites.

Each case: a starting stored document (or none), an event line, and the
expected outcome: the HTTP-style status, the result, and the state after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

R1 = {"workflow_step_name": "create_connector", "workflow_step_id": "create_connector_1",
      "resource_type": "connector_id", "resource_id": "conn-1"}
R2 = {"workflow_step_name": "register_remote_model", "workflow_step_id": "register_model_2",
      "resource_type": "model_id", "resource_id": "model-2"}


def stored(start: str | None, **extra: Any) -> dict[str, Any] | None:
    """A stored document in one of the named starting states, for workflow ``{id}``."""
    base = {
        "not_started": {"state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED"},
        "provisioning": {"state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
                         "provision_start_time": 1000, "resources_created": [R1]},
        "completed": {"state": "COMPLETED", "provisioning_progress": "DONE", "provision_start_time": 1000,
                      "provision_end_time": 2000, "resources_created": [R1]},
        "completed_empty": {"state": "COMPLETED", "provisioning_progress": "DONE",
                            "provision_start_time": 1000, "provision_end_time": 2000},
        "failed": {"state": "FAILED", "provisioning_progress": "FAILED", "error": "boom",
                   "provision_start_time": 1000, "provision_end_time": 2000, "resources_created": [R1]},
    }
    if start is None:
        return None
    return {"workflow_id": "{id}", **base[start], **extra}


@dataclass(frozen=True)
class Case:
    name: str
    start: str | None
    event: dict[str, Any]
    status: int
    result: str | None  # created / updated / deleted / noop; None when refused
    after: dict[str, Any] | None  # expected stored document after (None: no document)

    def doc(self, workflow_id: str, which: dict[str, Any] | None) -> dict[str, Any] | None:
        if which is None:
            return None
        return {k: (workflow_id if v == "{id}" else v) for k, v in which.items()}

    def event_for(self, workflow_id: str) -> dict[str, Any]:
        return {**self.event, "workflow_id": workflow_id}

    @property
    def before(self) -> dict[str, Any] | None:
        return stored(self.start)


def _unchanged(start: str | None) -> dict[str, Any] | None:
    return stored(start)


def ev(kind: str, **fields: Any) -> dict[str, Any]:
    return {"event": kind, **fields}


FRESH = stored("not_started")
CASES = [
    # create
    Case("create/absent", None, ev("create"), 201, "created", FRESH),
    Case("create/again", "not_started", ev("create"), 200, "noop", FRESH),
    Case("create/replayed-later", "provisioning", ev("create"), 200, "noop", _unchanged("provisioning")),
    Case("create/other-creator", "not_started", ev("create", user={"name": "alice"}), 409, None, FRESH),
    # provision_started
    Case("start/absent", None, ev("provision_started", time=3000), 404, None, None),
    Case("start/not_started", "not_started", ev("provision_started", time=3000), 200, "updated",
         {"workflow_id": "{id}", "state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
          "provision_start_time": 3000}),
    Case("start/redelivered", "provisioning", ev("provision_started", time=1000), 200, "noop", _unchanged("provisioning")),
    Case("start/provisioning", "provisioning", ev("provision_started", time=3000), 409, None, _unchanged("provisioning")),
    Case("start/completed", "completed", ev("provision_started", time=3000), 409, None, _unchanged("completed")),
    Case("start/replayed-after-completion", "completed", ev("provision_started", time=1000), 200, "noop",
         _unchanged("completed")),
    Case("start/failed", "failed", ev("provision_started", time=3000), 409, None, _unchanged("failed")),
    Case("reprovision/completed", "completed", ev("provision_started", time=3000, reprovision=True), 200, "updated",
         stored("completed", state="PROVISIONING", provisioning_progress="IN_PROGRESS", provision_start_time=3000)),
    Case("reprovision/failed", "failed", ev("provision_started", time=3000, reprovision=True), 200, "updated",
         {k: v for k, v in stored("failed", state="PROVISIONING", provisioning_progress="IN_PROGRESS",
                                  provision_start_time=3000).items() if k != "error"}),
    Case("reprovision/not_started", "not_started", ev("provision_started", time=3000, reprovision=True), 409, None, FRESH),
    # resource_created
    Case("add/provisioning", "provisioning", ev("resource_created", **R2), 200, "updated",
         stored("provisioning", resources_created=[R1, R2])),
    Case("add/redelivered", "provisioning", ev("resource_created", **R1), 200, "noop", _unchanged("provisioning")),
    Case("add/completed", "completed", ev("resource_created", **R2), 409, None, _unchanged("completed")),
    Case("add/completed-redelivered", "completed", ev("resource_created", **R1), 200, "noop", _unchanged("completed")),
    Case("add/not_started", "not_started", ev("resource_created", **R2), 409, None, FRESH),
    Case("add/absent", None, ev("resource_created", **R2), 404, None, None),
    # resource_deleted
    Case("remove/completed", "completed", ev("resource_deleted", **R1), 200, "updated", stored("completed_empty")),
    Case("remove/provisioning", "provisioning", ev("resource_deleted", **R1), 200, "updated",
         {k: v for k, v in stored("provisioning").items() if k != "resources_created"}),
    Case("remove/already-gone", "completed", ev("resource_deleted", **R2), 200, "noop", _unchanged("completed")),
    Case("remove/absent", None, ev("resource_deleted", **R1), 404, None, None),
    # provision_completed
    Case("complete/provisioning", "provisioning", ev("provision_completed", time=2000), 200, "updated", stored("completed")),
    Case("complete/redelivered", "completed", ev("provision_completed", time=2000), 200, "noop", _unchanged("completed")),
    Case("complete/completed-later", "completed", ev("provision_completed", time=5000), 409, None, _unchanged("completed")),
    Case("complete/not_started", "not_started", ev("provision_completed"), 409, None, FRESH),
    Case("complete/failed", "failed", ev("provision_completed", time=2000), 409, None, _unchanged("failed")),
    # provision_failed
    Case("fail/provisioning", "provisioning", ev("provision_failed", error="boom", time=2000), 200, "updated", stored("failed")),
    Case("fail/redelivered", "failed", ev("provision_failed", error="boom", time=2000), 200, "noop", _unchanged("failed")),
    Case("fail/other-error", "failed", ev("provision_failed", error="other", time=2000), 409, None, _unchanged("failed")),
    Case("fail/completed", "completed", ev("provision_failed", error="boom"), 409, None, _unchanged("completed")),
    # deprovisioned
    Case("deprovision/completed", "completed", ev("deprovisioned"), 200, "updated", FRESH),
    Case("deprovision/failed", "failed", ev("deprovisioned"), 200, "updated", FRESH),
    Case("deprovision/provisioning", "provisioning", ev("deprovisioned"), 200, "updated", FRESH),
    Case("deprovision/redelivered", "not_started", ev("deprovisioned"), 200, "noop", FRESH),
    Case("deprovision/absent", None, ev("deprovisioned"), 404, None, None),
    # deleted
    Case("delete/not_started", "not_started", ev("deleted"), 200, "deleted", None),
    Case("delete/completed-empty", "completed_empty", ev("deleted"), 200, "deleted", None),
    Case("delete/with-resources", "completed", ev("deleted"), 409, None, _unchanged("completed")),
    Case("delete/clear_status", "completed", ev("deleted", clear_status=True), 200, "deleted", None),
    Case("delete/in-progress", "provisioning", ev("deleted", clear_status=True), 409, None, _unchanged("provisioning")),
    Case("delete/redelivered", None, ev("deleted"), 200, "noop", None),
]
