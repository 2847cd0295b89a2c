"""Seed the bench index with workflow states in the plugin's stored format.

Pure part (unit-tested in tests/unit/test_bench_report.py):

* :func:`read_doc` ``(i)`` is the state of read workflow ``bench-%07d``: every
  third one (``i % 3 == 0``) is COMPLETED/DONE with 10 resources, the others
  NOT_STARTED/NOT_STARTED; all carry a ``user``.
* :func:`write_doc` ``(wid)`` is an empty PROVISIONING/IN_PROGRESS state, the
  target of resource appends.
* :func:`bulk_body` turns ``(id, doc)`` pairs into a raw ``_bulk`` NDJSON body
  of ``index`` actions.

Each doc is exactly what ``flowstatus.schemas.dump_state`` writes (keys in
the plugin's order), so flowstatus reads it as the plugin would have stored it.

:func:`seed` writes a range of read workflows (plus any extra docs) with raw
``_bulk`` requests of ``chunk`` docs and raises if any item failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from bench.rawhttp import OpenSearchHttp

READ_PREFIX = "bench-"
START_MS = 1_710_435_961_112

# Step name -> the plugin's resource type for it (a subset of WorkflowResources).
STEPS = (
    ("create_connector", "connector_id"),
    ("register_remote_model", "model_id"),
    ("deploy_model", "model_id"),
    ("create_ingest_pipeline", "pipeline_id"),
    ("create_index", "index_name"),
)
USER = {
    "name": "bench",
    "backend_roles": ["bench"],
    "roles": ["all_access"],
    "user_requested_tenant": None,
    "user_requested_tenant_access": None,
    "custom_attribute_names": [],
}


def read_id(i: int) -> str:
    return f"{READ_PREFIX}{i:07d}"


def read_doc(i: int) -> dict[str, Any]:
    wid = read_id(i)
    if i % 3:
        return {"workflow_id": wid, "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED", "user": USER}
    resources = [
        {
            "workflow_step_name": STEPS[k % len(STEPS)][0],
            "workflow_step_id": f"{STEPS[k % len(STEPS)][0]}_{k + 1}",
            "resource_type": STEPS[k % len(STEPS)][1],
            "resource_id": f"r{i:09d}x{k:02d}abcdefgh",
        }
        for k in range(10)
    ]
    return {
        "workflow_id": wid,
        "state": "COMPLETED",
        "provisioning_progress": "DONE",
        "provision_start_time": START_MS + i,
        "provision_end_time": START_MS + i + 90_000,
        "user": USER,
        "resources_created": resources,
    }


def write_doc(wid: str) -> dict[str, Any]:
    return {
        "workflow_id": wid,
        "state": "PROVISIONING",
        "provisioning_progress": "IN_PROGRESS",
        "provision_start_time": START_MS,
        "user": USER,
    }


def bulk_body(index: str, docs: Iterable[tuple[str, dict[str, Any]]]) -> bytes:
    lines: list[str] = []
    for wid, doc in docs:
        lines.append(json.dumps({"index": {"_index": index, "_id": wid}}))
        lines.append(json.dumps(doc, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def _send(client: OpenSearchHttp, index: str, docs: list[tuple[str, dict[str, Any]]]) -> None:
    status, body = client.request("POST", "/_bulk", bulk_body(index, docs), ndjson=True)
    if status != 200 or body.get("errors"):
        first = next((i for i in body.get("items", []) if next(iter(i.values())).get("error")), body)
        raise RuntimeError(f"seeding {index} failed ({status}): {str(first)[:500]}")


def seed(
    client: OpenSearchHttp,
    index: str,
    start: int,
    stop: int,
    *,
    extra: Iterable[tuple[str, dict[str, Any]]] = (),
    chunk: int = 5000,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Index read workflows ``start .. stop-1`` and ``extra`` docs; no refresh."""
    batch: list[tuple[str, dict[str, Any]]] = list(extra)
    for i in range(start, stop):
        batch.append((read_id(i), read_doc(i)))
        if len(batch) >= chunk:
            _send(client, index, batch)
            batch = []
            if on_progress:
                on_progress(i + 1)
    if batch:
        _send(client, index, batch)
    if on_progress:
        on_progress(stop)
