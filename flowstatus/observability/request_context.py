"""Per-request context that outlives the Flask layer (read by the repository and the logs)."""

from __future__ import annotations

from contextvars import ContextVar

# The id of the request being served; sent to OpenSearch as X-Opaque-Id and
# written on every log line, so one request can be followed into OpenSearch's
# slow logs and tasks.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
