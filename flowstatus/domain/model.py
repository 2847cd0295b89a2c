"""The workflow-state domain model: plain values, no I/O.

These classes hold one state document of the Flow Framework plugin's
``.plugins-flow-framework-state`` index after marshmallow has loaded it
(see :mod:`flowstatus.schemas.state`).  They are immutable so that the indexer can
compute a new state from an old one and compare the two.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple


class State(str, enum.Enum):
    """The plugin's ``State`` enum (stored as its name)."""

    NOT_STARTED = "NOT_STARTED"
    PROVISIONING = "PROVISIONING"
    FAILED = "FAILED"
    COMPLETED = "COMPLETED"


class ProvisioningProgress(str, enum.Enum):
    """The plugin's ``ProvisioningProgress`` enum (stored as its name)."""

    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    FAILED = "FAILED"


# The plugin's WorkflowResources table: which resource a step creates.
RESOURCE_TYPE_BY_STEP: Mapping[str, str] = {
    "create_connector": "connector_id",
    "register_remote_model": "model_id",
    "register_local_custom_model": "model_id",
    "register_local_sparse_encoding_model": "model_id",
    "register_local_pretrained_model": "model_id",
    "deploy_model": "model_id",
    "register_model_group": "model_group_id",
    "create_ingest_pipeline": "pipeline_id",
    "create_search_pipeline": "pipeline_id",
    "create_index": "index_name",
    "reindex": "index_name",
    "register_agent": "agent_id",
}


class ResourceCreated(NamedTuple):
    """One entry of ``resources_created``: what a workflow step created.

    Two entries are the same resource only when all four values are equal,
    which is how the plugin matches an entry to remove on deprovision.  A
    named tuple: documents are loaded with all their entries on every read,
    and a tuple is made several times faster than a frozen dataclass.
    """

    workflow_step_name: str
    workflow_step_id: str
    resource_type: str
    resource_id: str


@dataclass(frozen=True)
class User:
    """The ``user`` object the Security plugin stamps on a state (common-utils ``User``).

    ``shape`` is the key order of the JSON object it was read from when that
    is the complete shape of some plugin version (common-utils changed it in
    3.2 and 3.3), so that it is written and rendered back the way that plugin
    wrote it; ``None`` means the newest shape.  It is representation only and
    takes no part in equality.
    """

    name: str
    backend_roles: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    custom_attribute_names: tuple[str, ...] = ()
    user_requested_tenant: str | None = None
    user_requested_tenant_access: str | None = None
    shape: tuple[str, ...] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class WorkflowState:
    """One workflow's provisioning state, as the plugin stores it.

    ``state`` and ``provisioning_progress`` are kept as strings, not enums:
    the plugin does not validate them on read (its sync-timeout fallback even
    emits ``UNKNOWN``), and a status read must show whatever is stored.
    Times are epoch milliseconds.  ``extra`` keeps top-level keys this version
    does not know (written by a newer plugin) so that a rewrite preserves them.
    """

    workflow_id: str | None = None
    error: str | None = None
    state: str | None = None
    provisioning_progress: str | None = None
    provision_start_time: int | None = None
    provision_end_time: int | None = None
    user: User | None = None
    user_outputs: Mapping[str, Any] = field(default_factory=dict)
    resources_created: tuple[ResourceCreated, ...] = ()
    tenant_id: str | None = None
    all_shared_principals: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def fresh(
        cls,
        workflow_id: str,
        *,
        user: User | None = None,
        tenant_id: str | None = None,
        all_shared_principals: tuple[str, ...] = (),
    ) -> WorkflowState:
        """The document the plugin writes on create and on a full deprovision."""
        return cls(
            workflow_id=workflow_id,
            state=State.NOT_STARTED.value,
            provisioning_progress=ProvisioningProgress.NOT_STARTED.value,
            user=user,
            tenant_id=tenant_id,
            all_shared_principals=all_shared_principals,
        )

    @property
    def nested_objects(self) -> int:
        """How many nested documents this state makes in the plugin's mapping: one per resource, one for the user.

        OpenSearch refuses a document past the index's ``index.mapping.nested_objects.limit``.
        """
        return len(self.resources_created) + (1 if self.user is not None else 0)

    def evolve(self, **changes: Any) -> WorkflowState:
        """A copy with ``changes`` applied (the value is immutable)."""
        return replace(self, **changes)
