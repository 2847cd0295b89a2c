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


# Packages that serve WSGI (or give a server its workers), reported with their versions where installed.
SERVER_PACKAGES = ("gunicorn", "granian", "uvicorn", "waitress", "bjoern", "meinheld", "pyuwsgi", "uwsgi",
                   "cheroot", "gevent", "eventlet")


def wsgi_server(summary: str) -> dict[str, str]:
    """Installed server packages, with their versions; those named in ``summary`` (what ``flowstatus serve``
    says it serves under) when any is, else every installed one."""
    installed = {name: v for name in SERVER_PACKAGES if (v := package_version(name))}
    named = {name: v for name, v in installed.items() if name in summary.lower()}
    workers = {name: v for name, v in installed.items() if name in ("gevent", "eventlet")}
    return {**named, **workers} if named else installed


def serve_defaults() -> dict[str, Any]:
    """What ``flowstatus serve`` runs without options: its summary line and each option's default."""
    import click

    from flowstatus.cli import main as cli

    command = cli.commands["serve"]
    with click.Context(command) as ctx:
        defaults = {p.name: p.get_default(ctx) for p in command.params if isinstance(p, click.Option) and p.name}
    return {"summary": (command.help or "").strip().splitlines()[0] if command.help else "", **defaults}


def versions(client: OpenSearchHttp, wrk_path: str, plugin: str | None, summary: str) -> dict[str, Any]:
    """Versions of everything measured; ``plugin`` is the Flow Framework plugin's (None if absent)."""
    _, root = client.request("GET", "/")
    return {
        "opensearch": (root or {}).get("version", {}).get("number") if isinstance(root, dict) else None,
        "flow_framework_plugin": plugin,
        "python": platform.python_version(),
        "flowstatus": package_version("flowstatus"),
        "git": git_revision(),
        "wsgi_server": wsgi_server(summary),
        "flask": package_version("flask"),
        "opensearch-py": package_version("opensearch-py"),
        "marshmallow": package_version("marshmallow"),
        "orjson": package_version("orjson"),
        "wrk": wrk.wrk_version(wrk_path),
    }


def server_settings(args: argparse.Namespace) -> dict[str, Any]:
    """How the bench ran flowstatus: the command, ``flowstatus serve``'s defaults, the settings that shape reads."""
    from flowstatus.settings import load_settings

    env = dict(kv.split("=", 1) for kv in args.server_env)
    settings = load_settings({**os.environ, **env})
    return {"serve_command": [*flowstatus_command(), "serve", *args.serve_arg], "serve_extra": list(args.serve_arg),
            "serve_defaults": serve_defaults(),
            "pool_size": getattr(settings, "pool_size", None),
            "request_timeout": getattr(settings, "request_timeout", None),
            "refresh": getattr(settings, "refresh", None), "server_env": env}
