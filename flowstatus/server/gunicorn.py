"""The production WSGI server: gunicorn, configured in code.

Workers are gevent workers by default: a request waiting on OpenSearch, and
above all a long poll waiting for a workflow to finish, costs a greenlet, not
an OS thread, so a few hundred waiters cost little.  Each worker builds its
own app (and so its own OpenSearch connection pool) after the fork;
connection pools must never be shared across processes.  Metrics of all
workers are aggregated through a per-server ``PROMETHEUS_MULTIPROC_DIR``;
logs are JSON lines (:mod:`flowstatus.observability.logs`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from flowstatus.observability.logs import logging_config
from flowstatus.server import error_page, one_send
from flowstatus.server.connections import close_unread_bodies
from flowstatus.server.repeated_headers import marking_repeated

WORKER_CLASSES = ("gevent", "gthread")


def default_workers() -> int:
    """One worker per core: requests spend most of their time waiting on OpenSearch."""
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = default_workers()
    worker_class: str = "gevent"
    threads: int = 16  # gthread workers only
    # gevent workers: concurrent connections per worker (long polls included). A
    # waiting connection costs a greenlet; slow request bodies are bounded per
    # client and in time by the app (flowstatus.api.body), not by this cap.
    connections: int = 4000
    timeout: int = 30
    access_log: bool = False
    log_level: str = "INFO"
    # Headers a request may not repeat unnoticed (the trusted proxy's identity and role headers).
    watched_headers: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def _mark_worker_dead(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class ServerLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger without gunicorn's access log.

    flowstatus writes its own access lines (``flowstatus.access``, with the
    request id); gunicorn, seeing a logging configuration, would build every
    request's log atoms only for its line to be dropped.
    """

    access_log_enabled = False

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn driven from Python instead of its own command line."""

    def __init__(
        self, app_factory: Callable[[], Any], options: ServerOptions, on_ready: Callable[[], None] | None = None,
        on_reload: Callable[[], None] | None = None,
    ) -> None:
        self._factory = app_factory
        self._options = options
        self._on_ready = on_ready
        self._on_reload = on_reload
        super().__init__()

    def load_config(self) -> None:
        opts = self._options
        bind = f"[{opts.host}]:{opts.port}" if ":" in opts.host else f"{opts.host}:{opts.port}"
        settings: dict[str, Any] = {
            "bind": [bind],
            "workers": opts.workers,
            "worker_class": opts.worker_class,
            "threads": opts.threads,
            "worker_connections": opts.connections,
            # A long poll may legitimately hold a request for the long-poll cap;
            # gevent workers keep heart-beating meanwhile, so this only bounds hangs.
            "timeout": opts.timeout,
            "graceful_timeout": 10,
            "keepalive": 5,
            # flowstatus logs its own access lines (with the request id); gunicorn's are off.
            "accesslog": None,
            "logger_class": ServerLogger,
            "logconfig_dict": logging_config(opts.log_level, opts.access_log),
            "proc_name": "flowstatus",
            # gunicorn 24+ opens a control socket at one fixed path per user;
            # several flowstatus servers on one host would fight over it.
            "control_socket_disable": True,
            "child_exit": _mark_worker_dead,
        }
        if opts.watched_headers:  # otherwise gunicorn's own hook: no pass over every request's headers
            settings["pre_request"] = marking_repeated(opts.watched_headers)
        if self._on_ready is not None:
            ready = self._on_ready
            settings["when_ready"] = lambda server: ready()
        if self._on_reload is not None:
            # SIGHUP: run in the main process before it starts the new workers, which inherit its work.
            reload = self._on_reload
            settings["on_reload"] = lambda server: reload()
        for key, value in settings.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        one_send.install()  # in the worker, after the fork
        error_page.install()
        return close_unread_bodies(self._factory())


@contextmanager
def shared_metrics() -> Iterator[None]:
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` for this server's workers, removed when the server stops.

    Enter it before anything imports prometheus_client: the client picks its
    storage when first imported, and workers inherit the master's modules.
    Workers are forked inside this block and leave it too, whenever they
    exit (a graceful restart on SIGHUP, TTOU, a timeout, max requests): only
    the process that entered it may remove the folder, or every later
    worker would lose its metric files.
    """
    owner = os.getpid()
    metrics_dir = tempfile.mkdtemp(prefix="flowstatus-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        yield
    finally:
        if os.getpid() == owner:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def serve(
    app_factory: Callable[[], Any], options: ServerOptions, on_ready: Callable[[], None] | None = None,
    on_reload: Callable[[], None] | None = None,
) -> None:
    """Run gunicorn in the foreground until it is stopped (SIGINT/SIGTERM).

    ``on_ready`` runs once it serves; ``on_reload`` on every SIGHUP, in the
    main process, before the workers are replaced.
    """
    GunicornServer(app_factory, options, on_ready, on_reload).run()
