"""URL converters."""

from __future__ import annotations

from werkzeug.routing import BaseConverter


class WorkflowIdConverter(BaseConverter):
    """Any non-empty path segment(s), control characters and decoded slashes included.

    Matching widely lets the view refuse an odd id with a clear 400
    (:func:`flowstatus.api.params.check_workflow_id`) instead of the route
    silently not matching.
    """

    regex = r"[^/][\s\S]*?"
    part_isolating = False


CONVERTERS = {"workflow_id": WorkflowIdConverter}
