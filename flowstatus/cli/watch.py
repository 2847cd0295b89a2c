"""``flowstatus watch``: follow one workflow until it ends.

It long-polls the workflow's steps (``wait_for_completion_timeout`` with
``If-None-Match``) and reads its status at each change, so it costs two
requests per change rather than one per second.  On a terminal it draws a
live panel (state, progress, elapsed time, steps and resources as they
appear); piped, it prints one plain line per change, then a line per step
that started (▶) or ended (✓ completed, ✗ failed, ? unknown, – never
started).
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
    steps: list[dict[str, Any]] | None = None
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


STATUS_PATH = "/_plugins/_flow_framework/workflow/{}/_status"
STEPS_PATH = "/_flowstatus/workflow/{}/_steps"


class LongPoll:
    """Long-polls one resource of a server with ``If-None-Match`` and ``wait_for_completion_timeout``."""

    def __init__(self, client: ServerClient, path: str, query: dict[str, str], wait: int) -> None:
        self.client = client
        self.path = path
        self.query = query
        self.wait = wait
        self.etag: str | None = None

    def next(self) -> dict[str, Any] | None:
        """The answer once it differs from the last one seen (``None``: unchanged when the wait ended).

        Raises :class:`~flowstatus.cli.http_client.Unavailable` (worth waiting
        out), :class:`~flowstatus.cli.http_client.AccessDenied` (401/403),
        :class:`NoRoute` for a server without the route, and :class:`WatchError`
        for any other refusal (an unknown workflow).
        """
        headers, query = {}, dict(self.query)
        if self.etag:  # the first request shows the state at once; later ones wait for a change
            headers["If-None-Match"] = self.etag
            query["wait_for_completion_timeout"] = f"{self.wait}s"
        return self._get(query, headers)

    def fetch(self) -> dict[str, Any]:
        """The answer now, without waiting."""
        answer = self._get(dict(self.query), {})
        assert answer is not None  # no If-None-Match: never 304
        return answer

    def _get(self, query: dict[str, str], headers: dict[str, str]) -> dict[str, Any] | None:
        # The server answers within the wait (it caps it); allow for slow networks on top.
        answer = self.client.call("GET", self.path, query=query, headers=headers, timeout=self.wait + 30)
        if answer.status == 304:
            return None
        if answer.status != 200:
            raise WatchError(f"{answer.status}: {answer.reason()}")
        self.etag = answer.headers.get("etag")
        body = answer.json()
        if not isinstance(body, dict):
            raise WatchError(f"the server answered a body that is not an object: {answer.body[:200]!r}")
        return body


class StatusClient:
    """Follows one workflow on a flowstatus server: long-polls its steps, reads its status at each change."""

    def __init__(self, client: ServerClient, workflow_id: str, wait: int = 30):
        quoted = urllib.parse.quote(workflow_id, safe="")
        self.status = LongPoll(client, STATUS_PATH.format(quoted), {"all": "true"}, wait)
        self.steps = LongPoll(client, STEPS_PATH.format(quoted), {}, wait)

    def next(self) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The status and the steps once they changed (``None``: unchanged when the wait ended).

        Raises what :meth:`LongPoll.next` raises.
        """
        steps = self.steps.next()
        return None if steps is None else (self.status.fetch(), steps.get("steps") or [])


MARKS = {"running": "▶", "completed": "✓", "failed": "✗", "unknown": "?", "never": "–"}


def _took(step: dict[str, Any]) -> str:
    span = step.get("duration_ms")
    if not isinstance(span, dict):
        return ""
    low, high = span.get("min", 0) / 1000, span.get("max", 0) / 1000
    return f" in {low:.1f}s" if low == high else f" in {low:.1f}–{high:.1f}s"


def _step_line(step: dict[str, Any], state: str) -> str:
    """One step as it started or ended: ``▶ id (type) started``, ``✓ id completed in 1.2s``, ..."""
    mark, name = MARKS[state], step.get("id")
    if state == "running":
        return f"{mark} {name} ({step.get('type') or 'type unknown'}) started"
    if state == "completed":
        return f"{mark} {name} completed{_took(step)}"
    if state == "failed":
        return f"{mark} {name} failed{_took(step)}" + (f": {step['error']}" if step.get("error") else "")
    if state == "never":
        return f"{mark} {name} never started"
    return f"{mark} {name} unknown" + (f" ({step['note']})" if step.get("note") else "")


def step_changes(snapshot: Snapshot, seen: dict[str, str]) -> list[str]:
    """Lines for the steps whose state changed since ``seen`` (updated in place), in the answer's order.

    Pending steps are not news until the workflow ends without them: then
    they never started.
    """
    ended = snapshot.state in (COMPLETED, FAILED)
    lines = []
    for step in snapshot.steps or []:
        state = str(step.get("state"))
        if state == "pending":
            if not ended:
                continue
            state = "never"
        if state not in MARKS or seen.get(str(step.get("id"))) == state:
            continue
        seen[str(step.get("id"))] = state
        lines.append(_step_line(step, state))
    return lines


def _line(snapshot: Snapshot, previous: int, seen: dict[str, str]) -> str:
    new = snapshot.resources[previous:]
    added = "".join(
        f"\n    + {r.get('workflow_step_name')} {r.get('resource_type')} {r.get('resource_id')}" for r in new
    )
    steps = "".join(f"\n    {line}" for line in step_changes(snapshot, seen))
    error = f" error: {snapshot.status['error']}" if snapshot.status.get("error") else ""
    return (f"{snapshot.elapsed():7.1f}s {snapshot.state:<13} {snapshot.status.get('provisioning_progress', '')}"
            f" resources={len(snapshot.resources)}{error}{added}{steps}")


def _panel(snapshot: Snapshot) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    colour = {COMPLETED: "green", FAILED: "red"}.get(snapshot.state, "yellow")
    table.add_row("state", f"[bold {colour}]{snapshot.state}[/] {snapshot.status.get('provisioning_progress', '')}")
    table.add_row("elapsed", f"{snapshot.elapsed():.1f}s")
    ended = snapshot.state in (COMPLETED, FAILED)
    for step in snapshot.steps or []:
        state = str(step.get("state"))
        if state == "pending":
            table.add_row("", f"[dim]{'– never started: ' if ended else '· '}{escape(str(step.get('id')))}[/]")
        elif state in MARKS:
            style = {"running": "bold yellow", "completed": "green", "failed": "red"}.get(state, "dim")
            table.add_row("", f"[{style}]{escape(_step_line(step, state))}[/]")
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
    seen: dict[str, str] = {}
    return _follow(client, snapshot, lambda previous: print(_line(snapshot, previous, seen), file=out, flush=True),
                   sleep)


def _follow(client: StatusClient, snapshot: Snapshot, report: Callable[[int], None],
            sleep: Callable[[float], None]) -> int:
    from flowstatus.cli.http_client import Unavailable

    failures = 0
    while True:
        try:
            change = client.next()
            snapshot.note = ""
            failures = 0
        except Unavailable as exc:
            # Outages of the server or of OpenSearch are waited out, as long as they last.
            delay = backoff(min(failures, 3), exc.retry_after, cap=WAIT_CAP)
            snapshot.note = f"unavailable ({exc}), retrying in {delay:.0f}s"
            failures += 1
            sleep(delay)
            continue
        if change is not None:
            previous = len(snapshot.resources)
            snapshot.status, snapshot.steps = change
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
