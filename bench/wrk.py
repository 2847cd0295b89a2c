"""Drive HTTP load with wrk and read its figures.

* :func:`ensure_wrk` returns wrk's path, installing Debian's package
  (``apt-get install -y wrk``, idempotent) when it is missing.
* :func:`run` runs one wrk load (a script of bench/lua, its arguments, a
  connection count, a duration) and returns :class:`WrkResult`, parsed from the
  ``BENCH_JSON`` line the scripts' ``done()`` prints (see lua/common.lua).
* :func:`parse_output` is the pure parsing step (unit-tested).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent / "lua"
MARKER = "BENCH_JSON "


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed (apt-get install -y wrk)")
    return found


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "-v"], check=False, capture_output=True, text=True)
    text = out.stdout or out.stderr
    return text.splitlines()[0].split(" Copyright")[0].strip() if text else "unknown"


@dataclass(frozen=True)
class WrkResult:
    """One load's figures: rates per second, latencies in milliseconds."""

    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: dict[str, int]
    statuses: dict[str, int]
    bulk_errors: int = 0
    updated: int = 0
    noops: int = 0
    error_sample: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def parse_output(stdout: str) -> WrkResult:
    """The :class:`WrkResult` in wrk's ``stdout``; raises ValueError if the line is absent."""
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER):])
            break
    else:
        raise ValueError(f"no {MARKER.strip()} line in wrk output:\n{stdout[-2000:]}")
    duration = data["duration_us"] / 1e6
    lat = data["latency_us"]
    errors = {k: int(v) for k, v in (data.get("errors") or {}).items()}
    statuses = {str(k): int(v) for k, v in (data.get("statuses") or {}).items()}
    return WrkResult(
        requests=int(data["requests"]),
        duration_s=duration,
        rps=data["requests"] / duration if duration else 0.0,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        socket_errors=errors,
        statuses=statuses,
        bulk_errors=int(data.get("bulk_errors", 0)),
        updated=int(data.get("updated", 0)),
        noops=int(data.get("noops", 0)),
        error_sample=data.get("error_sample"),
        raw=data,
    )


def _ticker(label: str, seconds: float, stop: threading.Event) -> None:
    started = time.monotonic()
    while not stop.wait(1.0):
        elapsed = time.monotonic() - started
        sys.stderr.write(f"\r{label} {elapsed:4.0f}/{seconds:.0f} s")
        sys.stderr.flush()


def run(
    wrk: str,
    url: str,
    script: str,
    args: Sequence[str],
    *,
    connections: int,
    duration: float,
    headers: Sequence[str] = (),
    label: str = "",
    timeout_s: int = 10,
) -> WrkResult:
    """Run ``wrk`` against ``url`` with ``bench/lua/<script>``; one thread per core at most.

    ``duration`` is rounded to whole seconds (at least 1), all wrk accepts.
    """
    threads = max(1, min(connections, os.cpu_count() or 1))
    seconds = max(1, round(duration))  # wrk takes whole seconds only
    cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
           "--timeout", f"{timeout_s}s", "-s", script]
    for header in headers:
        cmd += ["-H", header]
    cmd += [url, "--", *args]
    env = {**os.environ, "BENCH_THREADS": str(threads)}
    stop = threading.Event()
    ticker = None
    if label and sys.stderr.isatty():
        ticker = threading.Thread(target=_ticker, args=(label, duration, stop), daemon=True)
        ticker.start()
    try:
        proc = subprocess.run(cmd, check=False, cwd=LUA_DIR, env=env, capture_output=True, text=True,
                              timeout=seconds + timeout_s + 30)
    finally:
        stop.set()
        if ticker:
            ticker.join()
            sys.stderr.write("\r\033[K")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr[-2000:]}\n{proc.stdout[-2000:]}")
    return parse_output(proc.stdout)
