"""Status reads leave OpenSearch's deprecation log alone.

Where the plugin runs, the state index is a system index, and OpenSearch
writes a deprecation line ("this request accesses system indices") for each
distinct ``X-Opaque-Id`` of a request that touches it.  flowstatus sends only
a caller's own request id, so reads without one add no line, and each
caller's id adds one.
"""

from __future__ import annotations

import time
import uuid

from devtools.opensearch import LocalNode
from flowstatus.composition import Components
from flowstatus.domain.events import Event, EventKind
from tests.conftest import new_id
from tests.interop.answers import AppEndpoint

STATUS = "/_plugins/_flow_framework/workflow/{}/_status"
MESSAGE = "accesses system indices"


def deprecation_lines(node: LocalNode) -> int:
    return sum(log.read_text().count(MESSAGE) for log in (node.run_dir / "logs").glob("*_deprecation.json"))


def settled(node: LocalNode) -> int:
    """The lines once none was added for a second (OpenSearch writes its logs asynchronously)."""
    count = deprecation_lines(node)
    while True:
        time.sleep(1)
        if (now := deprecation_lines(node)) == count:
            return count
        count = now


def lines_after(node: LocalNode, before: int, expected: int) -> int:
    """The lines added since ``before``, once ``expected`` are there or after a few seconds."""
    deadline = time.monotonic() + 5
    while deprecation_lines(node) - before < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return deprecation_lines(node) - before


def test_reads_add_a_deprecation_line_only_for_a_callers_own_id(
        plugin_node: LocalNode, flowstatus: AppEndpoint, components: Components) -> None:
    wid = new_id()
    assert all(result.ok for result in components.indexer.apply([Event(EventKind.CREATE, wid)]))
    flowstatus.client.get(STATUS.format(wid))  # whatever an earlier request without an id left
    before = settled(plugin_node)
    for _ in range(20):
        assert flowstatus.client.get(STATUS.format(wid)).status_code == 200
    assert settled(plugin_node) - before == 0
    traced = [f"trace-{uuid.uuid4().hex[:8]}-{n}" for n in range(3)]
    for rid in traced:
        assert flowstatus.client.get(STATUS.format(wid), headers={"X-Request-Id": rid}).status_code == 200
    assert lines_after(plugin_node, before, 3) == 3
