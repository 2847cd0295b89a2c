"""The read rows of one index size: raw ``GET _doc``, the plugin's ``_status`` and flowstatus's, side by side.

At each concurrency, every load of the size runs interleaved in ``--rounds``
passes (see :func:`bench.loads.measure_all`): random ids of the seeded
workflows through raw ``GET /<index>/_doc/<id>``, the plugin's
``GET /_plugins/_flow_framework/workflow/<id>/_status`` and ``?all=true``
(inside OpenSearch), flowstatus's same two paths, and ids that do not exist
on all three.  Without the plugin its loads are left out and its column is
None.
"""

from __future__ import annotations

from bench import wrk
from bench.figures import Row
from bench.loads import Context, Load, measure_all

STATUS_PATH = "/_plugins/_flow_framework/workflow/%s/_status"
ALL_PATH = STATUS_PATH + "?all=true"

# (row name, key of the raw load, key of the plugin/flowstatus loads' path)
ROWS = (("status", "raw", "status"), ("status?all=true", "raw", "all"), ("missing id", "raw_missing", "missing"))


def loads_for(ctx: Context, size: int, c: int) -> list[Load]:
    """Every read load of one size and concurrency (the plugin's only when the node has it)."""
    tag, n, fs, os_ = f"N={size:,} c={c}", str(size), ctx.server.url, ctx.os_url
    raw_get = f"/{ctx.index}/_doc/%s"
    loads = [
        Load("raw", f"{tag} raw GET _doc", os_, "read.lua", (raw_get, n), c, raw=True),
        Load("plugin/status", f"{tag} plugin _status", os_, "read.lua", (STATUS_PATH, n), c, raw=True),
        Load("plugin/all", f"{tag} plugin _status?all=true", os_, "read.lua", (ALL_PATH, n), c, raw=True),
        Load("fs/status", f"{tag} flowstatus _status", fs, "read.lua", (STATUS_PATH, n), c),
        Load("fs/all", f"{tag} flowstatus _status?all=true", fs, "read.lua", (ALL_PATH, n), c),
        Load("raw_missing", f"{tag} raw GET missing id", os_, "read.lua", (raw_get, n, "missing"), c,
             expected="404", raw=True),
        Load("plugin/missing", f"{tag} plugin missing id", os_, "read.lua", (STATUS_PATH, n, "missing"), c,
             expected="404", raw=True),
        Load("fs/missing", f"{tag} flowstatus missing id", fs, "read.lua", (STATUS_PATH, n, "missing"), c,
             expected="404"),
    ]
    return [load for load in loads if ctx.plugin or not load.key.startswith("plugin/")]


def loads_per_size(ctx: Context) -> int:
    """How many loads one size measures (for the progress count)."""
    return len(loads_for(ctx, 1, 1)) * len(ctx.args.concurrency)


def warm_up(ctx: Context, size: int) -> None:
    """Unrecorded load on every read path (connections, caches, JIT) before a size's measurements."""
    for url, path, raw in ((ctx.os_url, f"/{ctx.index}/_doc/%s", True), (ctx.os_url, ALL_PATH, True),
                           (ctx.server.url, STATUS_PATH, False), (ctx.server.url, ALL_PATH, False)):
        if raw and path == ALL_PATH and not ctx.plugin:
            continue
        wrk.run(ctx.wrk, url, "read.lua", [path, str(size)], connections=8, duration=ctx.args.warmup,
                headers=ctx.raw_headers if raw else ())


def read_rows(ctx: Context, size: int) -> list[Row]:
    """The read rows of ``size`` workflows (already seeded), by concurrency."""
    warm_up(ctx, size)
    rows = []
    for c in ctx.args.concurrency:
        m = measure_all(ctx, loads_for(ctx, size, c))
        for name, raw, path in ROWS:
            rows.append(Row("read", name, size, c, "req/s", m[raw], m[f"fs/{path}"], m.get(f"plugin/{path}")))
    return rows
