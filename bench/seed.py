"""Seed the bench index with workflow states in the plugin's stored format.

Pure part (unit-tested in tests/unit/bench/test_seed.py):

* :func:`user_for` ``(version)`` is the ``user`` object exactly as the
  plugin of that OpenSearch version writes it (common-utils ``User``: its
  keys and their order changed in 3.2 and 3.3).
* :func:`read_doc` ``(i, user)`` is the state of read workflow
  ``bench-%07d``: every third one (``i % 3 == 0``) is COMPLETED/DONE with 10
  resources, the others NOT_STARTED/NOT_STARTED; all carry ``user``.
* :func:`write_doc` ``(wid, user)`` is an empty PROVISIONING/IN_PROGRESS
  state, the target of resource appends.
* :func:`bulk_body` turns ``(id, doc)`` pairs into a raw ``_bulk`` NDJSON body
  of ``index`` actions.

Each doc is exactly what ``flowstatus.schemas.dump_state`` writes (keys in
the plugin's order), so flowstatus and the plugin read it as the plugin would
have stored it.

:func:`seed` writes docs with raw ``_bulk`` requests of ``chunk`` docs and
raises if any item failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bench.rawhttp import OpenSearchHttp
from flowstatus.schemas.state import USER_SHAPES

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
# The first OpenSearch version of each of the plugin's ``user`` shapes (flowstatus's USER_SHAPES, newest first).
USER_SHAPE_SINCE = ((3, 3), (3, 2), (0, 0))
USER_VALUES: dict[str, Any] = {"name": "bench", "backend_roles": ["bench"], "roles": ["all_access"],
                               "custom_attribute_names": [], "user_requested_tenant": None,
                               "user_requested_tenant_access": None}


def user_for(version: str | None) -> dict[str, Any]:
    """The bench's ``user`` in the shape the plugin of OpenSearch ``version`` writes (the newest if unknown)."""
    try:
        major_minor = tuple(int(x) for x in (version or "").split(".")[:2])
    except ValueError:
        major_minor = ()
    if len(major_minor) < 2:
        major_minor = USER_SHAPE_SINCE[0]
    keys = next(keys for since, keys in zip(USER_SHAPE_SINCE, USER_SHAPES, strict=True) if major_minor >= since)
    return {k: USER_VALUES[k] for k in keys}


USER = user_for(None)


def read_id(i: int) -> str:
    return f"{READ_PREFIX}{i:07d}"


def read_doc(i: int, user: dict[str, Any] = USER) -> dict[str, Any]:
    wid = read_id(i)
    if i % 3:
        return {"workflow_id": wid, "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED", "user": user}
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
        "user": user,
        "resources_created": resources,
    }


def read_docs(start: int, stop: int, user: dict[str, Any] = USER) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(id, doc)`` of read workflows ``start .. stop-1``."""
    return ((read_id(i), read_doc(i, user)) for i in range(start, stop))


def write_doc(wid: str, user: dict[str, Any] = USER) -> dict[str, Any]:
    return {
        "workflow_id": wid,
        "state": "PROVISIONING",
        "provisioning_progress": "IN_PROGRESS",
        "provision_start_time": START_MS,
        "user": user,
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
    docs: Iterable[tuple[str, dict[str, Any]]],
    *,
    chunk: int = 5000,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Index ``docs`` with ``_bulk`` requests of ``chunk`` docs, no refresh; how many were sent.

    Raises RuntimeError on the first request with a failed item (idempotent:
    sending the same docs again overwrites them).
    """
    batch: list[tuple[str, dict[str, Any]]] = []
    sent = 0
    for doc in docs:
        batch.append(doc)
        if len(batch) >= chunk:
            _send(client, index, batch)
            sent += len(batch)
            batch = []
            if on_progress:
                on_progress(sent)
    if batch:
        _send(client, index, batch)
        sent += len(batch)
    if on_progress:
        on_progress(sent)
    return sent
