"""marshmallow schemas of provisioning events (one JSON object per event).

The event reference in docs/events.md is generated from these schemas
(:mod:`flowstatus.cli.event_reference`), so the documentation and the parser cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema
from marshmallow_oneofschema import OneOfSchema

from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import RESOURCE_TYPE_BY_STEP, ResourceCreated
from flowstatus.domain.workflow_ids import workflow_id_problem
from flowstatus.schemas.state import UserSchema

MAX_TEXT = 32_766  # longest keyword term Lucene indexes; longer values never belong here


def _workflow_id(value: str) -> None:
    problem = workflow_id_problem(value)
    if problem:
        raise ValidationError(problem)


def _text(description: str, **kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Length(min=1, max=MAX_TEXT), metadata={"description": description}, **kwargs
    )


class _EventSchema(Schema):
    class Meta:
        unknown = RAISE

    kind: EventKind
    workflow_id = fields.String(
        required=True, validate=_workflow_id, metadata={"description": "The workflow's id (the state document `_id`)."}
    )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Event:
        return Event(kind=self.kind, **data)


def _time() -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=253402300799999),
        metadata={"description": "When it happened, epoch milliseconds; default: when recorded. "
                  "Give it to make re-deliveries exact no-ops."},
    )


class CreateSchema(_EventSchema):
    """A workflow was created: a fresh NOT_STARTED / NOT_STARTED state."""

    kind = EventKind.CREATE
    user = fields.Nested(UserSchema, metadata={"description": "The creator, stored as the plugin stores `user`."})
    tenant_id = _text("The tenant, when multi-tenancy is on.")


class ProvisionStartedSchema(_EventSchema):
    """Provisioning started: PROVISIONING / IN_PROGRESS with a start time and an empty resource list.

    Allowed from NOT_STARTED; with `reprovision`, from COMPLETED or FAILED
    (resources are kept, the old error is cleared).
    """

    kind = EventKind.PROVISION_STARTED
    time = _time()
    reprovision = fields.Boolean(
        load_default=False, metadata={"description": "Start again on a COMPLETED or FAILED workflow."}
    )


class _ResourceSchema(_EventSchema):
    workflow_step_name = _text("The step's type, e.g. `create_connector`.", required=True)
    workflow_step_id = _text("The step's id in the template, e.g. `create_connector_1`.", required=True)
    resource_type = _text("What the id names, e.g. `connector_id`; default: the plugin's type for the step.")
    resource_id = _text("The created resource's id.", required=True)

    @validates_schema
    def _known_type(self, data: dict[str, Any], **kwargs: Any) -> None:
        step = data.get("workflow_step_name")
        if step and "resource_type" not in data and step not in RESOURCE_TYPE_BY_STEP:
            raise ValidationError(f"Unable to find resource type for step: {step}", "workflow_step_name")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Event:
        step = data.pop("workflow_step_name")
        resource = ResourceCreated(
            workflow_step_name=step,
            workflow_step_id=data.pop("workflow_step_id"),
            resource_type=data.pop("resource_type", None) or RESOURCE_TYPE_BY_STEP[step],
            resource_id=data.pop("resource_id"),
        )
        return Event(kind=self.kind, resource=resource, **data)


class ResourceCreatedSchema(_ResourceSchema):
    """A step created a resource: appended to `resources_created` while PROVISIONING (once, however often it is sent)."""

    kind = EventKind.RESOURCE_CREATED


class ResourceDeletedSchema(_ResourceSchema):
    """A resource was deleted (deprovision): the equal entry is removed; absent is a no-op."""

    kind = EventKind.RESOURCE_DELETED


class ProvisionCompletedSchema(_EventSchema):
    """Provisioning succeeded: COMPLETED / DONE with an end time. Allowed from PROVISIONING."""

    kind = EventKind.PROVISION_COMPLETED
    time = _time()


class ProvisionFailedSchema(_EventSchema):
    """Provisioning failed: FAILED / FAILED with the error and an end time. Allowed from PROVISIONING."""

    kind = EventKind.PROVISION_FAILED
    time = _time()
    error = _text("What failed, e.g. `WorkflowStepException during step create_index, restStatus: BAD_REQUEST`.",
                  required=True)


class DeprovisionedSchema(_EventSchema):
    """Every resource was deleted: the state is reset to a fresh NOT_STARTED one (creator and tenant kept)."""

    kind = EventKind.DEPROVISIONED


class DeletedSchema(_EventSchema):
    """The workflow was deleted: its state is removed, unless provisioning is IN_PROGRESS, and
    only when no resources remain or `clear_status` is true."""

    kind = EventKind.DELETED
    clear_status = fields.Boolean(
        load_default=False, metadata={"description": "Remove the state even if resources remain."}
    )


class _StepSchema(_EventSchema):
    workflow_step_id = _text("The step's id in the template, e.g. `create_index_1`.", required=True)
    workflow_step_name = _text("The step's type, e.g. `create_index` or `noop`.")
    time = _time()

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Event:
        step_id, step_type = data.pop("workflow_step_id"), data.pop("workflow_step_name", None)
        return Event(kind=self.kind, step_id=step_id, step_type=step_type, **data)


class StepStartedSchema(_StepSchema):
    """A step started. Recorded beside the state (in flowstatus's companion index) while PROVISIONING;
    a step starts once per run."""

    kind = EventKind.STEP_STARTED


class StepCompletedSchema(_StepSchema):
    """A step ended well. Recorded while PROVISIONING; a step ends once per run, never before it started."""

    kind = EventKind.STEP_COMPLETED


class StepFailedSchema(_StepSchema):
    """A step failed, with its error. Recorded while PROVISIONING; send `provision_failed` for the workflow too."""

    kind = EventKind.STEP_FAILED
    error = _text("What failed, e.g. `index [docs] already exists`.", required=True)


class EventSchema(OneOfSchema):
    """Any event; its ``event`` key names the kind."""

    type_field = "event"
    # Instances, not classes: OneOfSchema would build (and deep-copy) a new
    # schema for every event otherwise, a third of a bulk request's CPU.
    type_schemas: dict[str, Schema] = {  # noqa: RUF012 - marshmallow-oneofschema's convention
        schema.kind.value: schema()
        for schema in (
            CreateSchema,
            ProvisionStartedSchema,
            ResourceCreatedSchema,
            ResourceDeletedSchema,
            ProvisionCompletedSchema,
            ProvisionFailedSchema,
            DeprovisionedSchema,
            DeletedSchema,
            StepStartedSchema,
            StepCompletedSchema,
            StepFailedSchema,
        )
    }


EVENT_SCHEMA = EventSchema()


class EventParseError(ValueError):
    """An event line that is not valid JSON or not a valid event; ``str()`` is the reason."""


def _flatten(messages: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """marshmallow's nested messages as ``[field.path] message`` lines."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, (*path, str(key)))
        return
    text = " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
    yield f"[{'.'.join(path)}] {text}" if path else text


def parse_event(line: bytes | str) -> Event:
    """One NDJSON line -> :class:`Event`; raises :class:`EventParseError` naming the field."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise EventParseError(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EventParseError("an event is a JSON object")
    if not isinstance(data.get("event", ""), str):
        raise EventParseError("[event] must be a string")
    try:
        return EVENT_SCHEMA.load(data)
    except ValidationError as exc:
        raise EventParseError("; ".join(_flatten(exc.messages))) from None
