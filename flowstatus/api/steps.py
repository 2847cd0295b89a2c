"""``GET /_flowstatus/workflow/<workflow_id>/_steps``: a workflow's steps, which ran, which runs, how long each took.

The same access rules, not-found answers, ``ETag`` and long poll as
``_status`` (:mod:`flowstatus.api.status`): the tag names the versions of
the three documents the answer is made of (state, step records, template),
and ``wait_for_completion_timeout`` returns once the workflow is COMPLETED
or FAILED or, with ``If-None-Match``, once any of them changes.  The answer
is described in docs/steps.md.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from flowstatus.api import etag
from flowstatus.api.auth import requires
from flowstatus.api.components import components
from flowstatus.api.etag import representation_digest
from flowstatus.api.identity import current_caller
from flowstatus.api.openapi import documented, json_content
from flowstatus.api.params import check_workflow_id, last, parse_time_value, reject_unrecognized
from flowstatus.api.response import json_response, options
from flowstatus.api.status import FINISHED, PARAMETERS, RESPONSES, WAIT_PARAM
from flowstatus.domain.access import Permission
from flowstatus.repository.port import Versioned
from flowstatus.repository.step_port import Version
from flowstatus.schemas.step_answer import StepsSchema, render_steps
from flowstatus.services.step_reads import Probe

bp = Blueprint("steps", __name__)

STEPS_PATH = "/_flowstatus/workflow/<workflow_id:workflow_id>/_steps"
# Bump when the rendering of steps changes, so cached tags of the old rendering stop matching.
RENDERING = "1"

STEPS_PARAMETERS = [p for p in PARAMETERS if p["name"] != "all"]
STEPS_RESPONSES = {
    **RESPONSES,
    "200": {"description": "The workflow's steps", "content": json_content(StepsSchema),
            "headers": {"ETag": {"schema": {"type": "string"}}}},
}


def _version(version: Version | None) -> str:
    return "n" if version is None else f"{version.primary_term}.{version.seq_no}"


def representation() -> str:
    """A digest of this request's representation (``pretty``, ``filter_path``): part of every tag."""
    opts = options()
    return representation_digest(f"steps{RENDERING}|{int(opts.pretty)}|{opts.filter_path or ''}")


def steps_etag(state: Versioned, records: Version | None, template: Version | None, digest: str) -> str:
    """The (unquoted) strong ETag of the steps made of these document versions, in the representation ``digest``."""
    return f"{state.primary_term}.{state.seq_no}-{_version(records)}-{_version(template)}-{digest}"


@bp.get(STEPS_PATH)
@requires(Permission.READ, "cluster:admin/opensearch/flow_framework/workflow_state/get", "Failed to get workflow status.")
@documented("A workflow's steps: state, start, end and duration of each, and where each fact comes from.",
            parameters=STEPS_PARAMETERS, responses=STEPS_RESPONSES)
def get_workflow_steps(workflow_id: str) -> Response:
    """The workflow's steps; a request body is ignored.  Parameters are checked as ``_status`` checks them."""
    wait_value = last(request.args, WAIT_PARAM)
    wait = parse_time_value(wait_value, WAIT_PARAM) if wait_value is not None else 0.0
    reject_unrecognized(request.path, request.args, ("workflow_id", WAIT_PARAM))
    check_workflow_id(workflow_id)
    reads = components().step_reads
    digest = representation()
    current = reads.read(workflow_id, current_caller())
    if wait != 0.0:
        cap = components().settings.long_poll_max
        timeout = cap if wait is None else min(wait, cap)
        client_tags = request.if_none_match  # captured: the watcher runs outside the request
        template = current.template

        def settled(probe: Probe | None) -> bool:
            """Finished, gone or unreadable, or, for a client that sent its ETag, changed."""
            if probe is None or not isinstance(probe.state, Versioned) or probe.state.state.state in FINISHED:
                return True
            tag = steps_etag(probe.state, probe.records, template, digest)
            return bool(client_tags) and not client_tags.contains_weak(tag)

        current = reads.wait(workflow_id, current_caller(), current, settled, timeout)
    tag = steps_etag(current.state, current.records, current.template, digest)
    if request.if_none_match.contains_weak(tag):
        return etag.not_modified(tag)
    return etag.tag(json_response(render_steps(current.steps)), tag)
