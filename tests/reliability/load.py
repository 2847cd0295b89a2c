"""The failover test's clients: writers streaming events and re-sending what was not acknowledged, readers
polling status, and what they recorded."""

from __future__ import annotations

import collections
import http.client
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.reliability.conftest import Flowstatus

BATCH = 6               # events per batch
PACE = 0.05             # seconds a writer waits between batches
DRAIN = 60.0            # how long a writer keeps re-sending its last batch after the stream ends
CLIENT_TIMEOUT = 60.0   # the clients' own socket timeout


Key = tuple[str, str, str]  # (workflow_id, event, resource_id or "")


@dataclass
class Record:
    """What the client threads observed; every mutation under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: set[Key] = field(default_factory=set)
    lines_posted: int = 0
    lines_resent: int = 0
    batches: int = 0
    batches_resent: int = 0
    acked: dict[Key, float] = field(default_factory=dict)
    acked_resources: collections.Counter[str] = field(default_factory=collections.Counter)
    created: list[str] = field(default_factory=list)
    write_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    refused: list[tuple[Key, int, Any]] = field(default_factory=list)
    batch_log: list[tuple[float, float, bool]] = field(default_factory=list)  # (start, end, fully acked)
    bulk_latency: list[float] = field(default_factory=list)
    unacked_at_end: list[Key] = field(default_factory=list)
    reads: int = 0
    read_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    read_latency: list[float] = field(default_factory=list)
    stale_reads: list[tuple[str, int, int]] = field(default_factory=list)
    thread_errors: list[str] = field(default_factory=list)


def event(wid: str, kind: str, **fields: Any) -> tuple[Key, dict[str, Any]]:
    rid = fields.get("resource_id", "")
    return (wid, kind, rid), {"event": kind, "workflow_id": wid, **fields}


def stream(workflows: list[str], start_times: dict[str, int], stop: threading.Event) -> Iterator[tuple[Key, dict[str, Any]]]:
    """One writer's events, in an order that keeps every workflow's own order: create, start, then resources."""
    for wid in workflows:
        yield event(wid, "create")
    for wid in workflows:
        yield event(wid, "provision_started", time=start_times[wid])
    n = 0
    while not stop.is_set():
        for wid in workflows:
            yield event(wid, "resource_created", workflow_step_name="create_index",
                        workflow_step_id=f"create_index_{n}", resource_id=f"{wid}-index-{n}")
        n += 1


def classify(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CLIENT_TIMEOUT:.0f} s"  # a hung request
    return "connection error" if isinstance(exc, OSError) else f"other ({type(exc).__name__})"


def writer(servers: list[Flowstatus], events: Iterator[tuple[Key, dict[str, Any]]], stop: threading.Event,
           rec: Record) -> None:
    """Post batches in order; a batch not wholly acknowledged is re-sent until it is (or DRAIN passes)."""
    turn = random.randrange(len(servers))
    try:
        while not stop.is_set():
            batch = [e for _, e in zip(range(BATCH), events)]
            if not batch:
                return
            keys = [k for k, _ in batch]
            lines = [line for _, line in batch]
            with rec.lock:
                rec.sent.update(keys)
                rec.batches += 1
            first = True
            drain_deadline: float | None = None
            while True:
                if stop.is_set() and drain_deadline is None:
                    drain_deadline = time.monotonic() + DRAIN
                server = servers[turn % len(servers)]
                turn += 1
                with rec.lock:
                    rec.lines_posted += len(lines)
                    if not first:
                        rec.lines_resent += len(lines)
                        rec.batches_resent += 1
                first = False
                started = time.monotonic()
                done = False
                try:
                    reply = server.bulk(lines, timeout=CLIENT_TIMEOUT)
                except (OSError, http.client.HTTPException) as exc:  # no answer: not acknowledged
                    with rec.lock:
                        rec.write_errors[classify(exc)] += 1
                else:
                    done = record_bulk(reply, keys, rec)
                ended = time.monotonic()
                with rec.lock:
                    rec.batch_log.append((started, ended, done))
                    rec.bulk_latency.append(ended - started)
                if done:
                    break
                if drain_deadline is not None and time.monotonic() > drain_deadline:
                    with rec.lock:
                        rec.unacked_at_end.extend(k for k in keys if k not in rec.acked)
                    return
                time.sleep(0.2)  # a real client backs off before re-sending
            time.sleep(PACE)
    except Exception as exc:  # noqa: BLE001 - surfaced by the assertion on thread_errors
        with rec.lock:
            rec.thread_errors.append(f"writer: {exc!r}")


def record_bulk(reply: Any, keys: list[Key], rec: Record) -> bool:
    """Record a bulk answer; True if every event of the batch is acknowledged."""
    if reply.status != 200:
        kind = "503" if reply.status == 503 else f"other ({reply.status})"
        with rec.lock:
            rec.write_errors[kind] += 1
            if reply.status == 503 and "retry-after" not in reply.headers:
                rec.write_errors["503 without Retry-After"] += 1
        return False
    items = reply.json()["items"]
    assert len(items) == len(keys)
    now = time.monotonic()
    done = True
    with rec.lock:
        for key, item in zip(keys, items):
            (result,) = item.values()
            status = result["status"]
            if 200 <= status < 300:
                if key not in rec.acked:
                    rec.acked[key] = now
                    if key[1] == "create":
                        rec.created.append(key[0])
                    elif key[1] == "resource_created":
                        rec.acked_resources[key[0]] += 1
                continue
            done = False
            error_type = (result.get("error") or {}).get("type")
            if status == 503:
                rec.write_errors["item 503"] += 1
            elif status == 409 and error_type == "version_conflict_engine_exception":
                rec.write_errors["item 409 (conflicts exhausted)"] += 1
            else:
                rec.write_errors[f"item other ({status})"] += 1
                rec.refused.append((key, status, result.get("error")))
    return done


def reader(servers: list[Flowstatus], stop: threading.Event, rec: Record) -> None:
    """Poll the status of workflows whose create was acknowledged; flag answers missing acknowledged resources."""
    turn = random.randrange(len(servers))
    try:
        while not stop.is_set():
            with rec.lock:
                if not rec.created:
                    wid = None
                else:
                    wid = random.choice(rec.created)
                    expected = rec.acked_resources[wid]
            if wid is None:
                time.sleep(0.05)
                continue
            server = servers[turn % len(servers)]
            turn += 1
            started = time.monotonic()
            try:
                reply = server.status(wid, timeout=CLIENT_TIMEOUT)
            except (OSError, http.client.HTTPException) as exc:
                with rec.lock:
                    rec.reads += 1
                    rec.read_errors[classify(exc)] += 1
                continue
            with rec.lock:
                rec.reads += 1
                rec.read_latency.append(time.monotonic() - started)
                if reply.status == 200:
                    seen = len(reply.json().get("resources_created", []))
                    if seen < expected:
                        rec.stale_reads.append((wid, expected, seen))
                elif reply.status == 503:
                    rec.read_errors["503"] += 1
                    if "retry-after" not in reply.headers:
                        rec.read_errors["503 without Retry-After"] += 1
                else:
                    rec.read_errors[f"other ({reply.status})"] += 1
            time.sleep(0.02)
    except Exception as exc:  # noqa: BLE001 - surfaced by the assertion on thread_errors
        with rec.lock:
            rec.thread_errors.append(f"reader: {exc!r}")


def present(key: Key, source: dict[str, Any] | None, start_times: dict[str, int]) -> bool:
    """Whether the stored document shows the event ``key``."""
    if source is None:
        return False
    wid, kind, rid = key
    if kind == "create":
        return True
    if kind == "provision_started":
        return bool(source.get("provision_start_time") == start_times[wid])
    return any(r.get("resource_id") == rid for r in source.get("resources_created", []))


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)
