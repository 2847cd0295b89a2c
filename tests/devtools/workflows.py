"""Drive the real Flow Framework plugin: create, provision, poll ``_status``.

Used in-process by the launcher tests and as a command run by
``python -m devtools.opensearch run --plugins flow-framework -- python -m
tests.devtools.workflows`` (it reads OPENSEARCH_URL, prints the plugins,
the index and the final ``_status`` as JSON and exits 0 only if the workflow
COMPLETED).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any

from devtools.opensearch.util import http_request

FF = "/_plugins/_flow_framework/workflow"


def template(index: str) -> dict[str, Any]:
    """A workflow of a ``noop`` step then a ``create_index`` step (no ML model needed)."""
    return {
        "name": f"launcher-{index}",
        "description": "noop then create_index",
        "use_case": "TEST",
        "version": {"template": "1.0.0", "compatibility": ["2.19.0", "3.0.0"]},
        "workflows": {"provision": {
            "nodes": [
                {"id": "wait_1", "type": "noop", "user_inputs": {"delay": "0s"}},
                {"id": "create_index_1", "type": "create_index", "user_inputs": {
                    "index_name": index,
                    "configurations": {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                                       "mappings": {"properties": {"a": {"type": "keyword"}}}}}},
            ],
            "edges": [{"source": "wait_1", "dest": "create_index_1"}],
        }},
    }


def _call(method: str, url: str, body: Any | None = None) -> tuple[int, Any]:
    status, raw = http_request(method, url, body, timeout=30.0)
    return status, json.loads(raw) if raw else None


def provision_and_wait(url: str, index: str, *, separate_provision: bool, timeout: float = 120.0) -> dict[str, Any]:
    """Create the workflow of :func:`template` and provision it, either with
    ``?provision=true`` on create or by a separate ``_provision`` call; poll
    ``_status?all=true`` until it leaves NOT_STARTED/PROVISIONING and return it.

    Raises AssertionError on an unexpected answer, TimeoutError after ``timeout``.
    """
    query = "" if separate_provision else "?provision=true"
    status, body = _call("POST", f"{url}{FF}{query}", template(index))
    assert status == 201, (status, body)
    workflow_id = body["workflow_id"]
    if separate_provision:
        status, body = _call("POST", f"{url}{FF}/{workflow_id}/_provision")
        assert status in (200, 202), (status, body)  # 200 on 2.x, 202 on 3.x
    deadline = time.monotonic() + timeout
    while True:
        status, body = _call("GET", f"{url}{FF}/{workflow_id}/_status?all=true")
        assert status == 200, (status, body)
        if body["state"] not in ("NOT_STARTED", "PROVISIONING"):
            return body
        if time.monotonic() > deadline:
            raise TimeoutError(f"workflow {workflow_id} still {body['state']} after {timeout:.0f} s")
        time.sleep(0.2)


def plugins(url: str) -> list[str]:
    """Sorted component names of ``_cat/plugins``."""
    status, rows = _call("GET", f"{url}/_cat/plugins?format=json")
    assert status == 200, (status, rows)
    return sorted(row["component"] for row in rows)


def main() -> int:
    url = os.environ["OPENSEARCH_URL"]
    index = f"launcher-wf-{uuid.uuid4().hex[:8]}"
    final = provision_and_wait(url, index, separate_provision=False)
    print(json.dumps({"plugins": plugins(url), "index": index, "status": final}))
    return 0 if final["state"] == "COMPLETED" else 1


if __name__ == "__main__":
    sys.exit(main())
