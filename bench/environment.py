"""What a benchmark ran on: the machine, the versions of everything measured, the server's settings."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import wrk
from bench.rawhttp import OpenSearchHttp
from bench.server import flowstatus_command

ROOT = Path(__file__).resolve().parent.parent


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
    return {"cpu_count": os.cpu_count(), "cpu_model": model, "memory_gib": round(mem_kib / 2**20, 1) if mem_kib else None,
            "load_average": os.getloadavg(), "platform": platform.platform(), "hostname": platform.node()}


def package_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def git_revision() -> str | None:
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], check=False, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], check=False,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{rev}{'+dirty' if dirty else ''}" if rev else None


def versions(client: OpenSearchHttp, wrk_path: str) -> dict[str, Any]:
    _, root = client.request("GET", "/")
    return {
        "opensearch": (root or {}).get("version", {}).get("number") if isinstance(root, dict) else None,
        "python": platform.python_version(),
        "flowstatus": package_version("flowstatus"),
        "git": git_revision(),
        "gunicorn": package_version("gunicorn"),
        "flask": package_version("flask"),
        "opensearch-py": package_version("opensearch-py"),
        "marshmallow": package_version("marshmallow"),
        "orjson": package_version("orjson"),
        "wrk": wrk.wrk_version(wrk_path),
    }


def server_settings(args: argparse.Namespace) -> dict[str, Any]:
    from flowstatus.server.gunicorn import ServerOptions
    from flowstatus.settings import load_settings

    env = dict(kv.split("=", 1) for kv in args.server_env)
    defaults = ServerOptions()
    settings = load_settings({**os.environ, **env})
    return {"serve_command": [*flowstatus_command(), "serve", *args.serve_arg],
            "default_workers": defaults.workers, "default_threads": defaults.threads,
            "default_worker_class": getattr(defaults, "worker_class", "gthread"),
            "pool_size": settings.pool_size, "request_timeout": settings.request_timeout,
            "refresh": settings.refresh, "server_env": env}
