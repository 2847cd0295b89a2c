"""The write rows: bulk events and one hot workflow, raw ``_bulk`` against flowstatus, in the state index.

Their targets are PROVISIONING workflows with their own id prefixes
(``bench-w-raw-``, ``bench-w-fs-``, ``bench-hot-...``), added to the state
index after the reads, so the reads see exactly the seeded workflows.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.figures import Row
from bench.loads import Context, Load, measure_all
from bench.seed import write_doc

WRITE_RAW, WRITE_FS = "bench-w-raw-", "bench-w-fs-"
HOT_RAW, HOT_FS = "bench-hot-raw-", "bench-hot-fs-"
LOADS = 4  # for the progress count


def write_targets(args: argparse.Namespace, user: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The documents the write rows append to, in the plugin's stored format."""
    ids = [f"{p}{i:05d}" for p in (WRITE_RAW, WRITE_FS) for i in range(args.write_workflows)]
    ids += [f"{HOT_RAW}00000", f"{HOT_FS}00000"]
    return [(wid, write_doc(wid, user)) for wid in ids]


def _resources_in(ctx: Context, wid: str) -> int | None:
    status, body = ctx.client.request("GET", f"/{ctx.index}/_doc/{wid}")
    if status != 200 or not isinstance(body, dict):
        return None
    return len(body.get("_source", {}).get("resources_created") or [])


def write_rows(ctx: Context) -> list[Row]:
    """The write rows, against the state index (which holds :func:`write_targets`)."""
    a, w, b, index = ctx.args, str(ctx.args.write_workflows), str(ctx.args.batch), ctx.index
    c, h, run = a.write_concurrency, a.hot_writers, f"{ctx.tag}p{{pass}}"
    m = measure_all(ctx, [
        Load("raw", f"c={c} raw _bulk update x{b}", ctx.os_url, "writes.lua",
             ("raw", WRITE_RAW, w, b, index, run), c, per_request=a.batch, raw=True),
        Load("fs", f"c={c} flowstatus _bulk events x{b}", ctx.server.url, "writes.lua",
             ("events", WRITE_FS, w, b, index, run), c, per_request=a.batch),
    ])
    rows = [Row("write", "bulk events", None, c, "events/s", m["raw"], m["fs"])]
    m = measure_all(ctx, [
        Load("raw", f"c={h} raw _bulk update, one hot workflow", ctx.os_url, "writes.lua",
             ("raw", HOT_RAW, "1", "1", index, run), h, raw=True),
        Load("fs", f"c={h} flowstatus events, one hot workflow", ctx.server.url, "writes.lua",
             ("events", HOT_FS, "1", "1", index, run), h),
    ])
    # After the load: how many appends the hot documents really hold (raw
    # writers overwrite each other's lists; flowstatus must lose none).
    m["raw"].extra["resources_in_doc"] = _resources_in(ctx, f"{HOT_RAW}00000")
    m["fs"].extra["resources_in_doc"] = _resources_in(ctx, f"{HOT_FS}00000")
    rows.append(Row("write", "hot workflow", None, h, "events/s", m["raw"], m["fs"]))
    return rows
