"""Provisioning events: what a provisioning engine reports about a workflow.

Plain values, no I/O.  :mod:`flowstatus.schemas.events` parses them from JSON;
:mod:`flowstatus.domain.transitions` says what each does to a state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flowstatus.domain.model import ResourceCreated, User


class EventKind(str, enum.Enum):
    CREATE = "create"
    PROVISION_STARTED = "provision_started"
    RESOURCE_CREATED = "resource_created"
    RESOURCE_DELETED = "resource_deleted"
    PROVISION_COMPLETED = "provision_completed"
    PROVISION_FAILED = "provision_failed"
    DEPROVISIONED = "deprovisioned"
    DELETED = "deleted"
    STEP_STARTED = "step_started"
    STEP_COMPLETED = "step_completed"
    STEP_FAILED = "step_failed"


# Events about one step of a workflow: recorded in flowstatus's companion
# index (flowstatus.services.step_events), never in the plugin's state document.
STEP_KINDS = frozenset({EventKind.STEP_STARTED, EventKind.STEP_COMPLETED, EventKind.STEP_FAILED})


@dataclass(frozen=True)
class Event:
    """One event.  Which optional fields matter depends on ``kind``.

    ``time`` is epoch milliseconds; ``None`` means "when it is recorded".
    Giving it makes a re-delivered start, completion or failure recognisable
    as the same event.
    """

    kind: EventKind
    workflow_id: str
    time: int | None = None
    resource: ResourceCreated | None = None
    error: str | None = None
    reprovision: bool = False
    clear_status: bool = False
    user: User | None = None
    tenant_id: str | None = None
    step_id: str | None = None  # step events: the step's id in the template
    step_type: str | None = None  # step events: the step's type (``workflow_step_name``), when given
