"""The production WSGI server: gunicorn, threaded workers, configured in code.

Each worker builds its own app (and so its own OpenSearch connection pool)
after the fork; connection pools must never be shared across processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    """One worker per core: requests spend most of their time waiting on OpenSearch."""
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = default_workers()
    threads: int = 16
    timeout: int = 30
    access_log: bool = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn driven from Python instead of its own command line."""

    def __init__(self, app_factory: Callable[[], Any], options: ServerOptions, on_ready: Callable[[], None] | None = None) -> None:
        self._factory = app_factory
        self._options = options
        self._on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        opts = self._options
        settings: dict[str, Any] = {
            "bind": [f"{opts.host}:{opts.port}" if ":" not in opts.host else f"[{opts.host}]:{opts.port}"],
            "workers": opts.workers,
            "worker_class": "gthread",
            "threads": opts.threads,
            "timeout": opts.timeout,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": "-" if opts.access_log else None,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "flowstatus",
            # gunicorn 24+ opens a control socket at one fixed path per user;
            # several flowstatus servers on one host would fight over it.
            "control_socket_disable": True,
        }
        if self._on_ready is not None:
            ready = self._on_ready
            settings["when_ready"] = lambda server: ready()
        for key, value in settings.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self._factory()


def serve(app_factory: Callable[[], Any], options: ServerOptions, on_ready: Callable[[], None] | None = None) -> None:
    """Run gunicorn in the foreground until it is stopped (SIGINT/SIGTERM)."""
    GunicornServer(app_factory, options, on_ready).run()
