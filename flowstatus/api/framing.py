"""Facts about a request's body framing, shared by the app and the server that runs it.

Nothing here imports the app: the server layer reads these without pulling
in the collaborators (and, with them, the metrics storage) before it forks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BODY_READ = "flowstatus.body_read"  # environ key: the request body was read to its end


def is_chunked(environ: Mapping[str, Any]) -> bool:
    """Whether the request body comes in chunked framing."""
    return "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()


def has_unread_body(environ: Mapping[str, Any]) -> bool:
    """Whether the request has a body that the app did not read to its end."""
    if environ.get(BODY_READ):
        return False
    length = environ.get("CONTENT_LENGTH") or ""
    return length not in ("", "0") or is_chunked(environ)
