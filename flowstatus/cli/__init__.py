"""The ``flowstatus`` command line (click)."""

from __future__ import annotations

import dataclasses
import ipaddress
import sys
import time

import click

from flowstatus.server.gunicorn import WORKER_CLASSES, ServerOptions, default_workers, shared_metrics
from flowstatus.server.gunicorn import serve as run_server
from flowstatus.settings import load_settings

EXAMPLE_ID = "8xL8bowB8y25Tqfenm50"


def _settings():  # type: ignore[no-untyped-def]
    try:
        return load_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _repository(settings):  # type: ignore[no-untyped-def]
    from flowstatus.repository.opensearch_state import OpenSearchStateRepository

    return OpenSearchStateRepository.from_settings(settings)


@click.group()
@click.version_option(package_name="flowstatus")
def main() -> None:
    """flowstatus: Flow Framework workflow status on OpenSearch."""


@main.command("init-index")
def init_index() -> None:
    """Create the state index with the plugin's mapping, or upgrade an older one in place."""
    from flowstatus.repository.errors import StoreError

    settings = _settings()
    try:
        report = _repository(settings).ensure_index()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{settings.state_index}: {report.value}")


@main.command("watch")
@click.argument("workflow_id")
@click.option("--url", envvar="FLOWSTATUS_URL", default="http://127.0.0.1:8080", show_default=True,
              help="The flowstatus server (env FLOWSTATUS_URL).")
@click.option("--wait", default=30, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds per long poll.")
def watch_command(workflow_id: str, url: str, wait: int) -> None:
    """Follow WORKFLOW_ID until it ends: exit 0 on COMPLETED, 1 on FAILED, 3 if it cannot be followed."""
    from flowstatus.cli.watch import EXIT_ERROR, StatusClient, WatchError, watch

    try:
        code = watch(StatusClient(url, workflow_id, wait=wait))
    except WatchError as exc:
        click.echo(f"flowstatus watch: {exc}", err=True)
        code = EXIT_ERROR
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


@main.command("events-doc")
def events_doc() -> None:
    """Print the event reference (Markdown) generated from the event schemas."""
    from flowstatus.cli.event_reference import events_markdown

    click.echo(events_markdown())


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def ingest(source, batch_size: int) -> None:  # type: ignore[no-untyped-def]
    """Apply provisioning events (NDJSON) from SOURCE, a file or - for stdin.

    Exits 1 and lists the line numbers of rejected events if any were.
    """
    import os

    from flowstatus.cli.ingest import Tally, apply_batch, batches
    from flowstatus.cli.progress import progress_bar
    from flowstatus.repository.errors import StoreUnavailable
    from flowstatus.services.indexer import StatusIndexer

    settings = _settings()
    indexer = StatusIndexer(_repository(settings), retries=settings.conflict_retries)
    tally = Tally()
    total = os.fstat(source.fileno()).st_size if source.seekable() else None
    started = time.monotonic()
    with progress_bar(f"ingesting {source.name}", total) as advance:
        try:
            for batch in batches(source, batch_size, on_bytes=advance):
                for outcome in apply_batch(indexer, batch):
                    tally.add(outcome)
        except StoreUnavailable as exc:
            raise click.ClickException(
                f"{exc}; lines up to {tally.last_line} were applied, re-run to continue "
                "(events already recorded are no-ops)"
            ) from None
    elapsed = time.monotonic() - started
    click.echo(
        f"{tally.lines} events in {elapsed:.1f}s: {tally.applied} applied, {tally.noops} already recorded, "
        f"{len(tally.rejected)} rejected",
        err=True,
    )
    if tally.rejected:
        for line, reason in tally.rejected[:50]:
            click.echo(f"  line {line}: {reason}", err=True)
        if len(tally.rejected) > 50:
            click.echo(f"  ... and {len(tally.rejected) - 50} more", err=True)
        click.echo("rejected lines: " + ", ".join(str(line) for line, _ in tally.rejected), err=True)
        sys.exit(1)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=default_workers(), show_default=True, type=click.IntRange(1, 64))
@click.option("--worker-class", type=click.Choice(WORKER_CLASSES), default="gevent", show_default=True,
              help="gevent: a waiting request costs a greenlet (long polls); gthread: OS threads.")
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Threads per gthread worker.")
@click.option("--access-log/--no-access-log", default=None, help="One JSON line per request (env FLOWSTATUS_ACCESS_LOG).")
@click.option("--init-index", "init", is_flag=True, help="Create or upgrade the state index before serving.")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback address without authentication.")
def serve(host: str, port: int, workers: int, worker_class: str, threads: int, access_log: bool | None,
          init: bool, insecure: bool) -> None:
    """Serve the API under gunicorn until Ctrl-C.

    Secure by default: without users (FLOWSTATUS_USERS_FILE) or a trusted
    proxy (FLOWSTATUS_PROXY_TRUSTED), only a loopback address is served.
    """
    if worker_class == "gevent":
        # Before anything imports ssl or urllib3 (--init-index does): patching
        # late leaves some modules with blocking, unpatched references.
        from gevent import monkey

        monkey.patch_all()
    settings = _settings()
    if access_log is not None:
        settings = dataclasses.replace(settings, access_log=access_log)
    _check_front_door(settings, host, insecure)
    options = ServerOptions(host=host, port=port, workers=workers, worker_class=worker_class, threads=threads,
                            access_log=settings.access_log, log_level=settings.log_level)
    with shared_metrics():
        if init:
            from flowstatus.repository.errors import StoreError

            try:
                report = _repository(settings).ensure_index()
            except StoreError as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(f"state index {settings.state_index}: {report.value}", err=True)

        def announce() -> None:
            url = f"{options.url}/_plugins/_flow_framework/workflow/{EXAMPLE_ID}/_status?pretty"
            hosts = ", ".join(settings.opensearch_hosts)
            click.echo(f"\nflowstatus is serving on {options.url} (OpenSearch: {hosts})", err=True)
            click.echo(f"try:  curl -s '{url}'\n", err=True)

        from flowstatus.app import create_app

        run_server(lambda: create_app(settings), options, on_ready=announce)
    sys.exit(0)


def _check_front_door(settings, host: str, insecure: bool) -> None:  # type: ignore[no-untyped-def]
    """Refuse to expose an unauthenticated service; say loudly when it is unauthenticated."""
    if settings.users_file:
        from flowstatus.services.authentication import UsersFileError, load_users

        try:
            load_users(settings.users_file)
        except UsersFileError as exc:
            raise click.ClickException(str(exc)) from None
        return
    if settings.proxy_trusted:
        return
    if not _is_loopback(host) and not insecure:
        raise click.ClickException(
            f"refusing to serve {host} without authentication: set FLOWSTATUS_USERS_FILE "
            "(or FLOWSTATUS_PROXY_TRUSTED), or pass --insecure to accept the risk"
        )
    click.secho(
        f"WARNING: no users are configured (FLOWSTATUS_USERS_FILE): every request to {host} is allowed, "
        "with all permissions.",
        fg="red", bold=True, err=True,
    )


@main.command("hash-password")
@click.option("--rounds", default=12, show_default=True, type=click.IntRange(10, 16))
def hash_password_command(rounds: int) -> None:
    """Print a bcrypt hash for the users file (reads the password from a prompt or stdin)."""
    from flowstatus.services.authentication import hash_password

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.ClickException("an empty password cannot be hashed")
    click.echo(hash_password(password, rounds))
