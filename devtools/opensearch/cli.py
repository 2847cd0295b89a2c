"""Command line of the launcher (click): ``python -m devtools.opensearch fetch|start|run``.

Exit codes: 0 success; for ``run`` the command's own code (128+N if it died
of signal N); 1 launcher error; 2 usage error; 130 interrupted while starting.
stdout carries only results (paths, URLs, export lines); progress goes to stderr
(with the passwords of a secured node's users).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from .cluster import LocalCluster
from .node import LocalNode
from .presets import PRESETS, preset_install, preset_node, resolve_preset
from .security import SecureNode
from .settings import LauncherError
from .util import progress

F = TypeVar("F", bound=Callable[..., Any])
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _common(command: F) -> F:
    """The options every subcommand takes (each also read from its environment variable)."""
    options = [
        click.option("--opensearch-version", "version", metavar="X.Y.Z",
                     help="OpenSearch version (env FLOWSTATUS_OPENSEARCH_VERSION, default 2.19.6)."),
        click.option("--java-home", help="JDK folder (env FLOWSTATUS_OPENSEARCH_JAVA_HOME)."),
        click.option("--heap", help="Heap per node, e.g. 512m (env FLOWSTATUS_OPENSEARCH_HEAP)."),
        click.option("--cache-dir", help="Download/unpack cache (env FLOWSTATUS_CACHE_DIR)."),
        click.option("--start-timeout", type=float, metavar="SECONDS",
                     help="Give up starting after this long (default 180)."),
        click.option("--plugins", type=click.Choice([*PRESETS, "none"]),
                     help="Node kind (env FLOWSTATUS_OPENSEARCH_PLUGINS): flow-framework (job-scheduler, "
                          "ml-commons, flow-framework; default version 2.19.6) or security (TLS, users; "
                          "default version 2.19.4)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _exit_code(action: Callable[[], int]) -> None:
    """Run ``action`` and exit with its code; launcher errors and Ctrl-C become exit codes 1 and 130."""
    try:
        code = action()
    except LauncherError as err:
        click.echo(f"error: {err}", err=True)
        code = 1
    except KeyboardInterrupt:
        progress("interrupted")
        code = 130
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Run a local OpenSearch on 127.0.0.1 for development and tests."""


@main.command()
@_common
def fetch(version: str | None, java_home: str | None, heap: str | None, cache_dir: str | None,
          start_timeout: float | None, plugins: str | None) -> None:
    """Download and unpack (and install plugins) only; print the install path."""

    def action() -> int:
        click.echo(preset_install(plugins, version=version, java_home=java_home, cache_dir=cache_dir))
        return 0

    _exit_code(action)


@main.command()
@_common
@click.option("--nodes", type=click.IntRange(1, 9), default=1, show_default=True, help="Cluster size.")
@click.option("--keep-run-dir", is_flag=True, help="Keep data and logs at stop.")
def start(nodes: int, keep_run_dir: bool, **kwargs: Any) -> None:
    """Start node(s) in the foreground until Ctrl-C or SIGTERM."""
    _exit_code(lambda: _start(nodes, keep_run_dir, kwargs))


@main.command(context_settings={"ignore_unknown_options": True})
@_common
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(command: tuple[str, ...], **kwargs: Any) -> None:
    """Run COMMAND with OPENSEARCH_URL set, starting a node unless it is set.

    Write it after ``--``: ``run -- pytest -q``.  Exits with COMMAND's code
    (128+N if it died of signal N). For a secured node COMMAND also gets
    OPENSEARCH_CA_CERTS, OPENSEARCH_CLIENT_CERT and OPENSEARCH_CLIENT_KEY
    (the admin certificate).
    """
    _exit_code(lambda: _run(list(command), kwargs))


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt, like Ctrl-C, so every
    way of stopping runs the same cleanup; restore the handlers afterwards."""
    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    old = {sig: signal.signal(sig, interrupt) for sig in _STOP_SIGNALS[1:]}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ignore stop signals while cleaning up, so a second Ctrl-C cannot leave
    a half-stopped node (stop() is bounded by its own SIGKILL timeout)."""
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _start(nodes: int, keep: bool, kwargs: dict[str, Any]) -> int:
    """Start ``nodes`` node(s), print their URLs, wait for a stop signal."""
    target: LocalNode | LocalCluster | None = None
    ready = False
    plugins = kwargs.pop("plugins")
    if nodes > 1 and resolve_preset(plugins) is not None:
        raise LauncherError("--plugins starts one node only (use --nodes 1)")
    with _signals_interrupt():
        try:
            if nodes == 1:
                target = preset_node(plugins, keep_run_dir=keep, **kwargs).start()
                members = [target]
            else:
                target = LocalCluster(nodes, keep_run_dir=keep, **kwargs).start()
                members = target.nodes
            urls = [node.url for node in members]
            print("\n".join(urls), flush=True)
            for key, value in members[0].client_env().items():
                print(f"export {key}={value}", flush=True)
            if len(urls) > 1:
                print(f"export OPENSEARCH_URLS={','.join(urls)}", flush=True)
            _report_users(members[0])
            progress("running; stop with Ctrl-C or SIGTERM")
            ready = True
            while True:  # a node dying on its own ends the command with its log tail
                for node in members:
                    node.check_alive()
                time.sleep(1.0)
        except KeyboardInterrupt:
            progress("stopping…" if ready else "interrupted while starting")
            return 0 if ready else 130
        finally:
            if target is not None:
                with _signals_ignored():
                    target.stop()


def _run(command: list[str], kwargs: dict[str, Any]) -> int:
    """Run ``command`` with OPENSEARCH_URL, starting (and stopping) a node if unset."""
    if os.environ.get("OPENSEARCH_URL"):
        progress(f"using OPENSEARCH_URL={os.environ['OPENSEARCH_URL']}")
        return _run_child(command, dict(os.environ))
    plugins = kwargs.pop("plugins")
    with _signals_interrupt():
        node = preset_node(plugins, **kwargs).start()
    _report_users(node)
    try:
        return _run_child(command, dict(os.environ, **node.client_env()))
    finally:
        with _signals_ignored():
            node.stop()


def _report_users(node: LocalNode) -> None:
    """On stderr, the internal users of a secured node and their passwords."""
    if isinstance(node, SecureNode):
        users = ", ".join(f"{user}:{password}" for user, password in node.users.items())
        progress(f"users (basic auth over https, CA {node.ca_path}): {users}")


def _run_child(command: list[str], env: dict[str, str]) -> int:
    """Run ``command``; forward stop signals to it; return its exit code."""
    try:
        child = subprocess.Popen(command, env=env)
    except OSError as err:
        print(f"error: cannot run {command[0]}: {err}", file=sys.stderr)
        return 127

    def forward(signum: int, _frame: object) -> None:
        # A Ctrl-C typed in our terminal already reached the child (same
        # foreground process group); forwarding it too would send it twice.
        if signum == signal.SIGINT and _terminal_signals_us():
            return
        child.send_signal(signum)

    old = {sig: signal.signal(sig, forward) for sig in _STOP_SIGNALS}
    try:
        code = child.wait()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return code if code >= 0 else 128 - code


def _terminal_signals_us() -> bool:
    """True if we are in the foreground process group of a controlling terminal."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)
