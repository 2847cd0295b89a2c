"""The ``GET /_flowstatus/workflow/<workflow_id>/_steps`` answer, rendered from :class:`WorkflowSteps`.

Every key is always present (``null`` when unknown), so a client never has
to tell "absent" from "unknown".  The same schema describes the answer in the
OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from flowstatus.domain.steps import Basis, Step, StepSource, StepState, WorkflowSteps
from flowstatus.schemas.state import Resources


def _enum(values: type[Basis | StepState | StepSource], description: str) -> fields.Enum:
    return fields.Enum(values, by_value=True, required=True, metadata={"description": description})


def _millis(description: str) -> fields.Integer:
    return fields.Integer(required=True, allow_none=True, metadata={"description": f"{description} (epoch ms)."})


def _nullable(**kwargs: Any) -> Any:
    return fields.String(required=True, allow_none=True, **kwargs)


class MomentSchema(Schema):
    """A time and how it is known: exactly (``time``), or between ``earliest`` and ``latest``."""

    basis = _enum(Basis, "`reported` (a step event), `first_seen` (flowstatus's observer: within its polling "
                         "interval) or `inferred` (bounded by other steps and the workflow's start and end).")
    time = _millis("The time, when known exactly; else null")
    earliest = _millis("It is not before this (null: unbounded)")
    latest = _millis("It is not after this (null: unbounded)")


class StepSchema(Schema):
    """One step."""

    id = fields.String(required=True, metadata={"description": "The step's id in the template."})
    type = _nullable(metadata={"description": "The step's type, e.g. `create_index`."})
    state = _enum(StepState, "pending, running, completed, failed or unknown (see docs/steps.md).")
    source = _enum(StepSource, "`reported` by an engine's step events, `observed` from the plugin's documents, "
                               "or `unknown`.")
    depends_on = fields.List(fields.String(), required=True, allow_none=True,
                             metadata={"description": "The steps it waits for; null without a template."})
    start = fields.Nested(MomentSchema, required=True, allow_none=True)
    end = fields.Nested(MomentSchema, required=True, allow_none=True)
    duration_ms = fields.Method("_duration", required=True, metadata={
        "type": ["object", "null"], "required": ["min", "max"], "additionalProperties": False,
        "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
        "description": "The shortest and longest duration its start and end allow (ms, equal when both are "
                       "exact) once it ended; null otherwise."})
    resources = Resources(required=True, metadata={"description": "What it created (entries of `resources_created`)."})
    error = _nullable()
    note = _nullable(metadata={"description": "Why a state or time is what it is."})

    def _duration(self, step: Step) -> dict[str, int] | None:
        span = step.duration()
        return None if span is None else {"min": span[0], "max": span[1]}


class StepsSchema(Schema):
    """A workflow's steps."""

    workflow_id = fields.String(required=True)
    state = _nullable(metadata={"description": "The workflow's state, as `_status` shows it."})
    error = _nullable(metadata={"description": "The workflow's error, as `_status` shows it."})
    provision_start_time = _millis("When provisioning started, as the state records it")
    provision_end_time = _millis("When provisioning ended, as the state records it")
    listed_from = fields.String(required=True, metadata={"enum": ["template", "events"], "description":
                                          "`template`: the plugin's template lists the steps; `events`: no "
                                          "template, steps known from step events and resources only."})
    steps = fields.List(fields.Nested(StepSchema), required=True)


STEPS = StepsSchema()


def render_steps(steps: WorkflowSteps) -> dict[str, Any]:
    """The answer body for ``steps``."""
    body: dict[str, Any] = STEPS.dump(steps)
    return body

