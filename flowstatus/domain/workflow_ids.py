"""Which workflow ids flowstatus accepts.

OpenSearch refuses document ids over 512 bytes.  Control characters and
slashes are refused as well: no id the plugin generates holds them, and they
only ever arrive by mistake or malice (log injection, path confusion).
"""

from __future__ import annotations

import re

MAX_ID_BYTES = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def workflow_id_problem(workflow_id: str) -> str | None:
    """Why ``workflow_id`` is unacceptable, or ``None`` if it is fine."""
    if not workflow_id:
        return "workflow_id must not be empty"
    size = len(workflow_id.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        return f"workflow_id is too long: {size} bytes, at most {MAX_ID_BYTES} are allowed"
    if _CONTROL.search(workflow_id):
        return "workflow_id must not contain control characters"
    if "/" in workflow_id:
        return "workflow_id must not contain '/'"
    return None
