"""``flowstatus watch``: follow one workflow until it ends.

It long-polls the status endpoint (``wait_for_completion_timeout`` with
``If-None-Match``), so it costs one request per change rather than one per
second.  On a terminal it draws a live panel (state, progress, elapsed time,
resources as they appear); piped, it prints one plain line per change.
"""

from __future__ import annotations

import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import click

from flowstatus.cli.client_options import Target, connect, exit_on_client_error, server_options
from flowstatus.cli.retries import backoff

if TYPE_CHECKING:
    from flowstatus.cli.http_client import ServerClient

COMPLETED, FAILED = "COMPLETED", "FAILED"
EXIT_COMPLETED, EXIT_FAILED, EXIT_ERROR = 0, 1, 3
WAIT_CAP = 5.0  # seconds: the longest pause between tries while the server is unavailable


class WatchError(Exception):
    """The workflow cannot be followed (unknown, or the server refuses)."""


@dataclass
class Snapshot:
    """What is known of the workflow now."""

    started: float = field(default_factory=time.monotonic)
    status: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def state(self) -> str:
        return self.status.get("state", "…")

    @property
    def resources(self) -> list[dict[str, Any]]:
        return self.status.get("resources_created", [])

    def elapsed(self) -> float:
        """Seconds since provisioning started (since watching started if unknown)."""
        start_ms = self.status.get("provision_start_time")
        end_ms = self.status.get("provision_end_time")
        if start_ms is None:
            return time.monotonic() - self.started
        if self.state in (COMPLETED, FAILED) and end_ms and end_ms >= start_ms:
            return (end_ms - start_ms) / 1000
        return max(0.0, time.time() - start_ms / 1000)


class StatusClient:
    """Long-polls one workflow's status on a flowstatus server."""

    def __init__(self, client: ServerClient, workflow_id: str, wait: int = 30):
        self.client = client
        self.path = f"/_plugins/_flow_framework/workflow/{urllib.parse.quote(workflow_id, safe='')}/_status"
        self.wait = wait
        self.etag: str | None = None

    def next(self) -> dict[str, Any] | None:
        """The status once it differs from the last one seen (``None``: unchanged when the wait ended).

        Raises :class:`~flowstatus.cli.http_client.Unavailable` (worth waiting
        out), :class:`~flowstatus.cli.http_client.AccessDenied` (401/403), and
        :class:`WatchError` for any other refusal (an unknown workflow).
        """
        headers = {}
        query = {"all": "true"}
        if self.etag:  # the first request shows the state at once; later ones wait for a change
            headers["If-None-Match"] = self.etag
            query["wait_for_completion_timeout"] = f"{self.wait}s"
        # The server answers within the wait (it caps it); allow for slow networks on top.
        answer = self.client.call("GET", self.path, query=query, headers=headers, timeout=self.wait + 30)
        if answer.status == 304:
            return None
        if answer.status != 200:
            raise WatchError(f"{answer.status}: {answer.reason()}")
        self.etag = answer.headers.get("etag")
        status = answer.json()
        if not isinstance(status, dict):
            raise WatchError(f"the server answered a status that is not an object: {answer.body[:200]!r}")
        return status


def _line(snapshot: Snapshot, previous: int) -> str:
    new = snapshot.resources[previous:]
    added = "".join(
        f"\n    + {r.get('workflow_step_name')} {r.get('resource_type')} {r.get('resource_id')}" for r in new
    )
    error = f" error: {snapshot.status['error']}" if snapshot.status.get("error") else ""
    return (f"{snapshot.elapsed():7.1f}s {snapshot.state:<13} {snapshot.status.get('provisioning_progress', '')}"
            f" resources={len(snapshot.resources)}{error}{added}")


def _panel(snapshot: Snapshot) -> Any:
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    colour = {COMPLETED: "green", FAILED: "red"}.get(snapshot.state, "yellow")
    table.add_row("state", f"[bold {colour}]{snapshot.state}[/] {snapshot.status.get('provisioning_progress', '')}")
    table.add_row("elapsed", f"{snapshot.elapsed():.1f}s")
    for r in snapshot.resources:
        table.add_row("", f"{r.get('workflow_step_name')} → {r.get('resource_type')} [bold]{r.get('resource_id')}[/]")
    if snapshot.status.get("error"):
        table.add_row("error", f"[red]{snapshot.status['error']}[/]")
    if snapshot.note:
        table.add_row("", f"[dim]{snapshot.note}[/]")
    return table


class _LivePanel:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def __rich__(self) -> Any:  # re-rendered by rich's refresh thread, so the clock ticks
        return _panel(self.snapshot)


def watch(client: StatusClient, out: TextIO = sys.stdout, live: bool | None = None,
          sleep: Callable[[float], None] = time.sleep) -> int:
    """Follow the workflow until COMPLETED (returns 0) or FAILED (returns 1).

    Raises :class:`WatchError` if it cannot be followed, and
    :class:`~flowstatus.cli.http_client.ClientError` (``AccessDenied`` for
    401/403) if the server cannot be used.  Outages of the server or of
    OpenSearch are waited out.
    """
    snapshot = Snapshot()
    live = out.isatty() if live is None else live
    if live:
        from rich.console import Console
        from rich.live import Live

        with Live(_LivePanel(snapshot), console=Console(file=out), refresh_per_second=4):
            return _follow(client, snapshot, lambda previous: None, sleep)
    return _follow(client, snapshot, lambda previous: print(_line(snapshot, previous), file=out, flush=True), sleep)


def _follow(client: StatusClient, snapshot: Snapshot, report: Callable[[int], None],
            sleep: Callable[[float], None]) -> int:
    from flowstatus.cli.http_client import Unavailable

    failures = 0
    while True:
        try:
            status = client.next()
            snapshot.note = ""
            failures = 0
        except Unavailable as exc:
            # Outages of the server or of OpenSearch are waited out, as long as they last.
            delay = backoff(min(failures, 3), exc.retry_after, cap=WAIT_CAP)
            snapshot.note = f"unavailable ({exc}), retrying in {delay:.0f}s"
            failures += 1
            sleep(delay)
            continue
        if status is not None:
            previous = len(snapshot.resources)
            snapshot.status = status
            report(previous)
        if snapshot.state == COMPLETED:
            return EXIT_COMPLETED
        if snapshot.state == FAILED:
            return EXIT_FAILED


@click.command("watch")
@click.argument("workflow_id")
@server_options(url_envvar="FLOWSTATUS_URL", url_default="http://127.0.0.1:8080",
                url_help="The flowstatus server (env FLOWSTATUS_URL).")
@click.option("--wait", default=30, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds per long poll.")
def watch_command(workflow_id: str, server: Target, wait: int) -> None:
    """Follow WORKFLOW_ID until it ends.

    Exit status: 0 on COMPLETED; 1 on FAILED; 2 for a usage error; 3 if it
    cannot be followed (unknown workflow, TLS failure, unexpected answer);
    4 when credentials are missing or refused (401), or the user may not
    see the workflow (403).  Outages are waited out.
    """
    with exit_on_client_error("watch"):
        try:
            code = watch(StatusClient(connect(server), workflow_id, wait=wait))
        except WatchError as exc:
            click.echo(f"flowstatus watch: {exc}", err=True)
            code = EXIT_ERROR
    sys.exit(code)
