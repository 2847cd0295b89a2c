"""The bulk events response: one item per line, shaped like an item of OpenSearch's ``_bulk``.

This is where an event's outcome gets its wire form: the HTTP-style
``status`` and OpenSearch-style error ``type`` of each rejection
(:data:`REJECTIONS`).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, post_dump

from flowstatus.domain.outcomes import EventResult, LineOutcome, Rejection, Result

# status, error type
REJECTIONS: dict[Rejection, tuple[int, str]] = {
    Rejection.NOT_FOUND: (404, "document_missing_exception"),
    Rejection.ILLEGAL_TRANSITION: (409, "illegal_state_transition_exception"),
    Rejection.FORBIDDEN: (403, "security_exception"),
    Rejection.CONFLICT: (409, "version_conflict_engine_exception"),
    Rejection.CORRUPT: (502, "parse_exception"),
    Rejection.UNAVAILABLE: (503, "store_exception"),
    Rejection.STORE_FAILED: (502, "store_exception"),
    Rejection.TOO_MANY_NESTED: (400, "illegal_argument_exception"),
    Rejection.TOO_MANY_STEPS: (400, "illegal_argument_exception"),
}
INVALID_LINE = (400, "parse_exception")


def item_status(result: EventResult) -> int:
    """The item's ``status``: 201 for a created document, 200 for another applied event, else the rejection's."""
    if result.rejection is not None:
        return REJECTIONS[result.rejection][0]
    return 201 if result.result is Result.CREATED else 200


class LineOutcomeSchema(Schema):
    """One item of the bulk response:
    ``{"<event>": {"workflow_id", "status", "result", "_seq_no", "_primary_term"}}`` or,
    on failure, ``{"<event>": {"workflow_id", "status", "error": {"type", "reason"}}}``;
    a line that does not parse is ``{"invalid": {"line", "status": 400, "error"}}``.
    """

    @post_dump(pass_original=True)
    def _item(self, data: dict[str, Any], outcome: LineOutcome, **kwargs: Any) -> dict[str, Any]:
        result = outcome.result
        if result is None:
            status, error_type = INVALID_LINE
            error = {"type": error_type, "reason": outcome.parse_error}
            return {"invalid": {"line": outcome.line, "status": status, "error": error}}
        item: dict[str, Any] = {"workflow_id": result.event.workflow_id, "status": item_status(result)}
        if result.rejection is None:
            assert result.result is not None
            item["result"] = result.result.value
            if result.seq_no is not None:
                item["_seq_no"] = result.seq_no
                item["_primary_term"] = result.primary_term
        else:
            item["error"] = {"type": REJECTIONS[result.rejection][1], "reason": result.reason}
        return {result.event.kind.value: item}


LINE_OUTCOMES = LineOutcomeSchema(many=True)
