"""Command line of the launcher: ``python -m flowstatus.launcher fetch|start|run``.

Exit codes: 0 success; for ``run`` the command's own code (128+N if it died
of signal N); 1 launcher error; 2 usage error; 130 interrupted while starting.
stdout carries only results (paths, URLs, export lines); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .cluster import LocalCluster
from .distribution import ensure_distribution
from .node import LocalNode
from .settings import LauncherError
from .util import progress

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for all subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--opensearch-version", dest="version", metavar="X.Y.Z",
                        help="OpenSearch version (env FLOWSTATUS_OPENSEARCH_VERSION, default 2.19.6)")
    common.add_argument("--java-home", help="JDK folder (env FLOWSTATUS_OPENSEARCH_JAVA_HOME)")
    common.add_argument("--heap", help="heap per node, e.g. 512m (env FLOWSTATUS_OPENSEARCH_HEAP)")
    common.add_argument("--cache-dir", help="download/unpack cache (env FLOWSTATUS_CACHE_DIR)")
    common.add_argument("--start-timeout", type=float, metavar="SECONDS",
                        help="give up starting after this long (default 180)")
    parser = argparse.ArgumentParser(prog="python -m flowstatus.launcher",
                                     description="Run a local OpenSearch on 127.0.0.1 for dev and tests.")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("fetch", parents=[common], help="download and unpack only; print the install path")
    start = sub.add_parser("start", parents=[common],
                           help="start node(s) in the foreground until Ctrl-C or SIGTERM")
    start.add_argument("--nodes", type=int, default=1, help="cluster size (default 1)")
    start.add_argument("--keep-run-dir", action="store_true", help="keep data and logs at stop")
    run = sub.add_parser("run", parents=[common],
                         help="run CMD with OPENSEARCH_URL set, starting a node unless it is set")
    run.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default sys.argv[1:]), run the subcommand, return the exit code."""
    args = build_parser().parse_args(argv)
    kwargs: dict[str, Any] = {k: getattr(args, k) for k in
                              ("version", "java_home", "heap", "cache_dir", "start_timeout")}
    try:
        if args.action == "fetch":
            del kwargs["java_home"], kwargs["heap"], kwargs["start_timeout"]
            print(ensure_distribution(**kwargs).home, flush=True)
            return 0
        if args.action == "start":
            return _start(args.nodes, args.keep_run_dir, kwargs)
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            print("run: missing command, e.g. run -- pytest -q", file=sys.stderr)
            return 2
        return _run(command, kwargs)
    except LauncherError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress("interrupted")
        return 130


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
    with _signals_interrupt():
        try:
            if nodes == 1:
                target = LocalNode(keep_run_dir=keep, **kwargs).start()
                members = [target]
            else:
                target = LocalCluster(nodes, keep_run_dir=keep, **kwargs).start()
                members = target.nodes
            urls = [node.url for node in members]
            print("\n".join(urls), flush=True)
            print(f"export OPENSEARCH_URL={urls[0]}", flush=True)
            if len(urls) > 1:
                print(f"export OPENSEARCH_URLS={','.join(urls)}", flush=True)
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
    with _signals_interrupt():
        node = LocalNode(**kwargs).start()
    try:
        return _run_child(command, dict(os.environ, OPENSEARCH_URL=node.url))
    finally:
        with _signals_ignored():
            node.stop()


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
