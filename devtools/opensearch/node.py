"""One local OpenSearch node: a foreground child process bound to 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from .distribution import ensure_distribution
from .plugins import PluginInstall, PluginSet, ensure_plugin_install
from .privileges import check_access, chown_tree, ensure_node_user, exec_prefix, node_user
from .runconfig import child_env, node_settings, prepare_run_dir
from .settings import DEFAULT_HEAP, LauncherError, resolve_settings
from .util import Leftovers, free_ports, http_request, poll_until, progress, tail

# Nodes started and not yet stopped; killed at interpreter exit so a forgotten
# stop() leaves no process and no temp folder (pdeathsig covers abrupt death).
_LIVE: Leftovers[LocalNode] = Leftovers(lambda node: node.stop(timeout=10.0))


class LocalNode:
    """A local OpenSearch node process with its own run directory.

    Construction only resolves settings and picks free ports; :meth:`start`
    fetches the distribution if needed, writes the run directory and spawns
    the node. The node can be started again after :meth:`stop` or
    :meth:`kill` with the same ports and data (if its run dir was kept).

    Without ``seed_hosts`` the node is a single-node cluster in which new
    indices default to 0 replicas (so it can be green); with them it is a
    member of a multi-node cluster (see LocalCluster). Keyword arguments
    left None fall back to the FLOWSTATUS_* environment (see settings.py).
    With ``plugins`` the node runs from that set's own install folder (see
    plugins.py), with the set's settings under the caller's and the set's
    heap unless one is given. The node dies with the *thread* that started it (PR_SET_PDEATHSIG), so
    start nodes from a thread that outlives them, normally the main thread.
    """

    def __init__(self, *, version: str | None = None, java_home: str | os.PathLike[str] | None = None,
                 heap: str | None = None, cache_dir: str | os.PathLike[str] | None = None,
                 start_timeout: float | None = None, name: str = "node-0",
                 cluster_name: str = "flowstatus-local", http_port: int | None = None,
                 transport_port: int | None = None, seed_hosts: Sequence[str] | None = None,
                 initial_cluster_managers: Sequence[str] | None = None,
                 settings: Mapping[str, object] | None = None,
                 run_dir: str | os.PathLike[str] | None = None, keep_run_dir: bool = False,
                 plugins: PluginSet | None = None) -> None:
        self.plugins = plugins
        self.config = resolve_settings(version, java_home, heap, cache_dir, start_timeout,
                                       default_heap=(plugins and plugins.heap) or DEFAULT_HEAP)
        # The install the latest start ran from (None before the first start).
        self.install: PluginInstall | None = None
        self.name = name
        ports = free_ports(2) if not (http_port and transport_port) else [0, 0]
        self.http_port = http_port or ports[0]
        self.transport_port = transport_port or ports[1]
        self._owns_run_dir = run_dir is None
        # Only a name for now: the folder is made by start(), so a node that is
        # never started leaves nothing behind.
        self.run_dir = Path(run_dir) if run_dir else Path(tempfile.gettempdir()) / (
            f"flowstatus-opensearch-{name}-{secrets.token_hex(4)}")
        self.keep_run_dir = keep_run_dir
        self.log_path = self.run_dir / "console.log"
        self._settings = node_settings(
            run_dir=self.run_dir, name=name, cluster_name=cluster_name, http_port=self.http_port,
            transport_port=self.transport_port, seed_hosts=seed_hosts,
            initial_cluster_managers=initial_cluster_managers,
            extra={**(plugins.settings if plugins else {}), **(settings or {})})
        # Persistent cluster settings put once the node is healthy. A lone node
        # can host no replica, so new indices default to 0 and it goes green.
        self._cluster_settings: dict[str, object] = (
            {"cluster.default_number_of_replicas": 0} if seed_hosts is None else {})
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def scheme(self) -> str:
        """``http``; ``https`` for a node that serves TLS (see SecureNode)."""
        return "http"

    def _tls_context(self) -> ssl.SSLContext | None:
        """TLS context of the launcher's own requests (None: plain HTTP)."""
        return None

    def client_env(self) -> dict[str, str]:
        """Environment variables a client of this node needs (flowstatus reads
        these names): ``OPENSEARCH_URL``, plus the certificates on a secured node."""
        return {"OPENSEARCH_URL": self.url}

    @property
    def url(self) -> str:
        """Base URL of the node's HTTP API, e.g. ``http://127.0.0.1:23456``."""
        return f"{self.scheme}://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int | None:
        """Pid of the node's JVM (bin/opensearch execs java), None if never started."""
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        """True while the node process has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, wait: bool = True) -> Self:
        """Spawn the node; with ``wait``, block until its health answers yellow.

        On any failure (including KeyboardInterrupt) the process is killed and a
        run dir created by this first start is removed, then the error is
        re-raised; LauncherError messages carry the tail of the node's log.
        """
        if self.running:
            raise LauncherError(f"{self.name} is already running (pid {self.pid})")
        fresh = not (self.run_dir / "config").exists()
        try:
            self._spawn()
            if wait:
                self.wait_until_ready()
        except BaseException:
            self._kill_now()
            if fresh and not self.keep_run_dir:
                self._remove_run_dir()
            raise
        return self

    def _home(self) -> Path:
        """The install to run: the plain one, or the plugin set's (made once)."""
        if self.plugins is None:
            return ensure_distribution(self.config.version, self.config.cache_dir).home
        self.install = ensure_plugin_install(self.config, self.plugins)
        return self.install.home

    def _configure(self, conf: Path) -> None:
        """Hook run after the run dir's ``config/`` is written and before the
        node starts (and before it is chowned to the node user)."""

    def _spawn(self) -> None:
        """Write the run dir and start bin/opensearch in its own session."""
        home = self._home()
        if self._owns_run_dir:
            self.run_dir.mkdir(mode=0o700, exist_ok=True)
        prepare_run_dir(self.run_dir, home, self._settings)
        self._configure(self.run_dir / "config")
        user = node_user()
        if user is not None:
            uid, gid = ensure_node_user(user)
            chown_tree(self.run_dir, uid, gid)
            check_access(user, [home, self.run_dir])
        env = child_env(self.run_dir, self.config.java_home, self.config.heap, user)
        cmd = exec_prefix(user) + [str(home / "bin" / "opensearch")]
        with open(self.log_path, "ab") as log:
            self._log_offset = log.tell()
            log.write(f"=== flowstatus launcher: starting {self.name} {time.ctime()}\n".encode())
            log.flush()
            # Own session: a Ctrl-C in the terminal must not reach the node
            # directly; the launcher stops it in order. stdin is closed so the
            # keystore prompt can never block.
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, cwd=self.run_dir, env=env,
                                          start_new_session=True)
        _LIVE.add(self)
        progress(f"started {self.name} (OpenSearch {self.config.version}, pid {self.pid}, "
                 f"{self.url}), log {self.log_path}")

    def check_alive(self) -> None:
        """Raise LauncherError (with the log tail) if the node process has exited."""
        if self._proc is None:
            raise LauncherError(f"{self.name} was never started")
        code = self._proc.poll()
        if code is not None:
            raise LauncherError(f"{self.name} exited with code {code}; "
                                f"last lines of {self.log_path}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """Last ``lines`` lines the node printed since its latest start."""
        return tail(self.log_path, lines, self._log_offset)

    def request(self, method: str, path: str, body: Any | None = None, *,
                timeout: float = 10.0) -> tuple[int, bytes]:
        """Send one request to the node as the launcher does (on a secured
        node: with the admin certificate); return (status, body).

        ``body`` as for :func:`util.http_request`. Raises OSError when no
        HTTP answer came.
        """
        return http_request(method, self.url + path, body, timeout, context=self._tls_context())

    def get_json(self, path: str, timeout: float = 10.0) -> Any:
        """GET ``path`` (see :meth:`request`) and decode it; OSError unless 200."""
        status, body = self.request("GET", path, timeout=timeout)
        if status != 200:
            raise OSError(f"GET {self.url}{path} answered {status}: {body[:300]!r}")
        return json.loads(body)

    def answers(self, path: str = "/", timeout: float = 5.0) -> int | None:
        """HTTP status of GET ``path`` on this node, or None if nothing answered."""
        try:
            return self.request("GET", path, timeout=timeout)[0]
        except OSError:
            return None

    def _ready(self, status: str) -> bool:
        """One readiness probe: ``_cluster/health`` reached ``status``."""
        return self.answers(f"/_cluster/health?wait_for_status={status}&timeout=2s") == 200

    def wait_until_ready(self, timeout: float | None = None, status: str = "yellow") -> float:
        """Block until ``_cluster/health`` reaches ``status``; return seconds waited.

        Raises LauncherError with the log tail if the process exits or
        ``timeout`` (default: the start timeout) passes; the node keeps running
        in the timeout case, callers decide (start() kills it).
        """
        limit = self.config.start_timeout if timeout is None else timeout
        try:
            took = poll_until(lambda: self._ready(status), what=f"{self.name} at {self.url}",
                              timeout=limit, alive=self.check_alive)
        except TimeoutError as err:
            raise LauncherError(f"{err}; last lines of {self.log_path}:\n{self.log_tail()}") from None
        progress(f"{self.name} is {status} after {took:.1f} s")
        if self._cluster_settings:
            code, body = self.request("PUT", "/_cluster/settings", {"persistent": self._cluster_settings})
            if code != 200:
                raise LauncherError(f"{self.name}: PUT _cluster/settings answered {code}: {body!r}")
        return took

    def stop(self, timeout: float = 30.0, *, keep_run_dir: bool | None = None) -> None:
        """SIGTERM the node, SIGKILL it after ``timeout`` s, then clean up.

        The run dir is removed unless ``keep_run_dir`` (default: the
        constructor's) is true or the caller supplied the run dir. Idempotent.
        """
        if self.running:
            assert self._proc is not None
            started = time.monotonic()
            self._signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                progress(f"{self.name} ignored SIGTERM for {timeout:.0f} s; killing it")
                self._kill_now()
            progress(f"stopped {self.name} in {time.monotonic() - started:.1f} s")
        _LIVE.discard(self)
        keep = self.keep_run_dir if keep_run_dir is None else keep_run_dir
        if not keep:
            self._remove_run_dir()

    def kill(self) -> None:
        """SIGKILL the node now and reap it (for failure tests).

        The run dir stays, so start() can bring the node back on its data;
        call stop() afterwards to remove it.
        """
        self._kill_now()

    def _kill_now(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._signal(signal.SIGKILL)
            self._proc.wait()
        _LIVE.discard(self)

    def _signal(self, sig: int) -> None:
        """Signal the node's whole process group (its session), so helper JVMs
        that bin/opensearch runs before ``exec java`` die too. Only called while
        the leader is unreaped, so the group id cannot have been reused."""
        assert self._proc is not None
        try:
            os.killpg(self._proc.pid, sig)
        except ProcessLookupError:
            pass

    def _remove_run_dir(self) -> None:
        """Delete the run dir if the launcher made it (never a caller's folder)."""
        if self._owns_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<LocalNode {self.name} {self.url} {state}>"

