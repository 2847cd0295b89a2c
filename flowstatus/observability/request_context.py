"""Per-request context that outlives the Flask layer (read by the repository and the logs)."""

from __future__ import annotations

from contextvars import ContextVar

# The id of the request being served, written on every log line.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The caller's own id of the request (its X-Request-Id or X-Opaque-Id), sent to
# OpenSearch as X-Opaque-Id, so a request can be followed into OpenSearch's
# slow logs and tasks.  An id flowstatus made up is not sent: OpenSearch writes
# a deprecation log line for each distinct X-Opaque-Id of a request that
# touches a system index (the state index, where the Flow Framework plugin
# runs), which would be one line, and its cost, per request.
opaque_id: ContextVar[str | None] = ContextVar("opaque_id", default=None)
