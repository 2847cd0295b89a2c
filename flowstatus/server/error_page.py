"""gunicorn's answer to a request it cannot parse, in OpenSearch's error shape.

gunicorn refuses some requests before any application code runs (a request
line or header it cannot read, a ``Content-Length`` given twice, a header
line too long) and answers them with an HTML page.  Every other refusal of
flowstatus is OpenSearch's JSON error, so these are too: the same status,
gunicorn's reason, ``Connection: close``.  Nothing of such a request reached
the app, so nothing was applied.
"""

from __future__ import annotations

from typing import Any

import orjson
from gunicorn import util


def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """What gunicorn's ``util.write_error`` sends, as ``{"error": {...}, "status": ...}``."""
    kind = "parse_exception" if status_int < 500 else "exception"
    said = mesg or reason
    cause = {"type": kind, "reason": said}
    body = orjson.dumps({"error": {"root_cause": [cause], **cause}, "status": status_int})
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json; charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    """Make gunicorn's workers answer their own refusals with :func:`write_error`."""
    util.write_error = write_error
