"""marshmallow schemas of the step documents: the plugin's template graph, and flowstatus's companion index.

* :func:`load_graph`: the ``workflows.provision`` part of a template document
  in ``.plugins-flow-framework-templates`` (read with source filtering, so no
  user input but ``deploy`` ever leaves OpenSearch: credentials stay there);
* :class:`StepRecordsSchema`: one workflow's step records in the companion
  index, loaded strictly and written in one fixed shape;
* :class:`LeaseSchema`: the step observer's lease document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_dump, post_load, validate

from flowstatus.domain.model import RESOURCE_TYPE_BY_STEP
from flowstatus.domain.step_observations import Lease
from flowstatus.domain.steps import Outcome, ReportedStep, Sighting, StepGraph, StepNode, StepRecords

# The template fields flowstatus reads; nothing else of a template is fetched.
GRAPH_FIELDS = (
    "workflows.provision.nodes.id",
    "workflows.provision.nodes.type",
    "workflows.provision.nodes.previous_node_inputs",
    "workflows.provision.nodes.user_inputs.deploy",
    "workflows.provision.edges",
)
# Register steps that, with `deploy: true`, also append a `deploy_model` entry under their own step id.
DEPLOYING = frozenset({
    "register_remote_model", "register_local_custom_model", "register_local_sparse_encoding_model",
    "register_local_pretrained_model",
})


class _Node(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True)
    type = fields.String(required=True)
    previous_node_inputs = fields.Dict(keys=fields.String(), load_default=dict)
    user_inputs = fields.Dict(keys=fields.String(), load_default=dict)


class _Edge(Schema):
    class Meta:
        unknown = EXCLUDE

    source = fields.String(required=True)
    dest = fields.String(required=True)


class _Provision(Schema):
    class Meta:
        unknown = EXCLUDE

    nodes = fields.List(fields.Nested(_Node), load_default=list)
    edges = fields.List(fields.Nested(_Edge), load_default=list)

    @post_load
    def _graph(self, data: dict[str, Any], **kwargs: Any) -> StepGraph:
        after: dict[str, list[str]] = {node["id"]: [] for node in data["nodes"]}
        # The plugin adds an edge from every previous_node_inputs key, as it parses a template.
        pairs = [(e["source"], e["dest"]) for e in data["edges"]]
        pairs += [(source, node["id"]) for node in data["nodes"] for source in node["previous_node_inputs"]]
        for source, dest in pairs:
            if dest in after and source not in after[dest]:
                after[dest].append(source)
        return StepGraph(tuple(StepNode(n["id"], n["type"], tuple(after[n["id"]]), _creates(n)) for n in data["nodes"]))


def _creates(node: Mapping[str, Any]) -> tuple[str, ...]:
    kind = node["type"]
    if kind not in RESOURCE_TYPE_BY_STEP:
        return ()
    deploy = node["user_inputs"].get("deploy")
    if kind in DEPLOYING and (deploy is True or str(deploy).lower() == "true"):
        return kind, "deploy_model"
    return (kind,)


_PROVISION = _Provision()


def load_graph(source: Mapping[str, Any]) -> StepGraph | None:
    """The provision graph of a template ``_source`` (``None`` if it has no provision workflow).

    Raises ``marshmallow.ValidationError`` for one the plugin could not have stored.
    """
    workflows = source.get("workflows")
    if not isinstance(workflows, Mapping) or "provision" not in workflows:
        return None
    graph: StepGraph = _PROVISION.load(workflows["provision"])
    return graph


def _text(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1), **kwargs)


def _millis(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


class _Reported(Schema):
    class Meta:
        unknown = RAISE

    workflow_step_id = _text(required=True)
    workflow_step_name = _text(allow_none=True)
    started = _millis(allow_none=True)
    ended = _millis(allow_none=True)
    outcome = fields.Enum(Outcome, by_value=True, allow_none=True)
    error = fields.String(allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> ReportedStep:
        return ReportedStep(data.pop("workflow_step_id"), step_type=data.pop("workflow_step_name", None), **data)

    @post_dump(pass_original=True)
    def _shape(self, data: dict[str, Any], original: ReportedStep, **kwargs: Any) -> dict[str, Any]:
        out = {"workflow_step_id": original.step_id, "workflow_step_name": original.step_type, **data}
        return {k: v for k, v in out.items() if v is not None}


class _Sighting(Schema):
    class Meta:
        unknown = RAISE

    workflow_step_id = fields.String(required=True, attribute="step_id")
    workflow_step_name = fields.String(required=True, attribute="step_name")
    first_seen = _millis(required=True)
    last_not_seen = _millis(allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Sighting:
        return Sighting(**data)


class StepRecordsSchema(Schema):
    """One workflow's step records in the companion index (``_id`` = workflow id)."""

    class Meta:
        unknown = RAISE

    workflow_id = fields.String(required=True)
    run_start = _millis(allow_none=True, load_default=None)
    reported = fields.List(fields.Nested(_Reported), load_default=list)
    sightings = fields.List(fields.Nested(_Sighting), load_default=list)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> StepRecords:
        return StepRecords(data["workflow_id"], data["run_start"], tuple(data["reported"]), tuple(data["sightings"]))


class LeaseSchema(Schema):
    """The step observer's lease: ``{"lease": {"holder": ..., "expires": <epoch ms>}}``."""

    class Meta:
        unknown = RAISE

    holder = fields.String(required=True, validate=validate.Length(min=1, max=200))
    expires = _millis(required=True)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Lease:
        return Lease(**data)


RECORDS = StepRecordsSchema()
LEASE = LeaseSchema()


def load_records(source: Mapping[str, Any]) -> StepRecords:
    """A stored companion document; raises ``marshmallow.ValidationError`` if it is not one."""
    records: StepRecords = RECORDS.load(source)
    return records


def dump_records(records: StepRecords) -> dict[str, Any]:
    """The ``_source`` to store for ``records``."""
    return RECORDS.dump(records)


def load_lease(source: Mapping[str, Any]) -> Lease:
    """A stored lease document; raises ``marshmallow.ValidationError`` if it is not one."""
    if not isinstance(source.get("lease"), Mapping):
        raise ValidationError("not a lease document", "lease")
    lease: Lease = LEASE.load(source["lease"])
    return lease


def dump_lease(lease: Lease) -> dict[str, Any]:
    return {"lease": LEASE.dump(lease)}
