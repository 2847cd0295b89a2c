"""Wire shapes the API answers with besides the status: error bodies, the bulk answer, readiness.

They describe the bodies in the OpenAPI document; the bodies themselves are
built by :mod:`flowstatus.api.errors`, :mod:`flowstatus.schemas.bulk` and the
health routes, and the fuzz suite checks every live answer against these.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from flowstatus.domain.outcomes import Result


class PluginErrorSchema(Schema):
    """The plugin's error body."""

    error = fields.String(required=True)


class _Cause(Schema):
    type = fields.String(required=True)
    reason = fields.String(required=True)


class _NestedError(_Cause):
    root_cause = fields.List(fields.Nested(_Cause), required=True)


class OpenSearchErrorSchema(Schema):
    """OpenSearch's own error body (bad parameters)."""

    error = fields.Nested(_NestedError, required=True)
    status = fields.Integer(required=True)


class FlatStatusErrorSchema(Schema):
    """OpenSearch's 405/406 body."""

    error = fields.String(required=True)
    status = fields.Integer(required=True)


class _BulkItem(Schema):
    workflow_id = fields.String()
    line = fields.Integer()
    status = fields.Integer(required=True)
    result = fields.String(metadata={"enum": [r.value for r in Result]})
    _seq_no = fields.Integer(data_key="_seq_no")
    _primary_term = fields.Integer(data_key="_primary_term")
    error = fields.Nested(_Cause)


class BulkResponseSchema(Schema):
    """The bulk events answer: one item per line, keyed by the event kind (or ``invalid``)."""

    took = fields.Integer(required=True)
    errors = fields.Boolean(required=True)
    items = fields.List(fields.Dict(keys=fields.String(), values=fields.Nested(_BulkItem)), required=True)


class ReadySchema(Schema):
    """The health and readiness answers."""

    status = fields.String(required=True, metadata={"enum": ["ok", "ready", "not_ready"]})
    reason = fields.String()
