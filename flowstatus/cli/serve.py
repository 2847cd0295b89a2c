"""``flowstatus serve``: the API under gunicorn, secure by default."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING

import click

from flowstatus.cli.common import components, ensure_index, is_loopback, settings_or_exit
from flowstatus.server.gunicorn import WORKER_CLASSES, ServerOptions, default_workers, shared_metrics
from flowstatus.server.gunicorn import serve as run_server
from flowstatus.settings import Settings

if TYPE_CHECKING:
    from flowstatus.composition import Components

EXAMPLE_ID = "8xL8bowB8y25Tqfenm50"
UI_PATH = "/_flowstatus/ui"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=default_workers(), show_default=True, type=click.IntRange(1, 64))
@click.option("--worker-class", type=click.Choice(WORKER_CLASSES), default="gevent", show_default=True,
              help="gevent: a waiting request costs a greenlet (long polls); gthread: OS threads.")
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Threads per gthread worker.")
@click.option("--worker-timeout", default=30, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds a worker may go without a heartbeat before it is killed and replaced.")
@click.option("--access-log/--no-access-log", default=None, help="One JSON line per request (env FLOWSTATUS_ACCESS_LOG).")
@click.option("--init-index", "init", is_flag=True, help="Create or upgrade the state index before serving.")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback address without authentication.")
def serve(host: str, port: int, workers: int, worker_class: str, threads: int, worker_timeout: int,
          access_log: bool | None, init: bool, insecure: bool) -> None:
    """Serve the API under gunicorn until Ctrl-C.

    Secure by default: without users (FLOWSTATUS_USERS_FILE) or a trusted
    proxy (FLOWSTATUS_PROXY_TRUSTED), only a loopback address is served.
    """
    if worker_class == "gevent":
        # Before anything imports ssl or urllib3 (--init-index does): patching
        # late leaves some modules with blocking, unpatched references.
        from gevent import monkey

        monkey.patch_all()
    settings = settings_or_exit()
    if access_log is not None:
        settings = dataclasses.replace(settings, access_log=access_log)
    _check_front_door(settings, host, insecure)
    options = ServerOptions(host=host, port=port, workers=workers, worker_class=worker_class, threads=threads,
                            timeout=worker_timeout, access_log=settings.access_log, log_level=settings.log_level,
                            # Only a trusted proxy's headers are read, so only then are their repeats looked for.
                            watched_headers=(settings.proxy_user_header, settings.proxy_roles_header,
                                             settings.proxy_backend_roles_header) if settings.proxy_trusted else ())
    with shared_metrics():
        from flowstatus.app import create_app

        built = components(settings)
        if init:
            click.echo(f"state index {ensure_index(built)}", err=True)
        _report_readiness(built)

        def announce() -> None:
            url = f"{options.url}/_plugins/_flow_framework/workflow/{EXAMPLE_ID}/_status?pretty"
            hosts = ", ".join(_without_credentials(h) for h in settings.opensearch_hosts)
            click.echo(f"\nflowstatus is serving on {options.url} (OpenSearch: {hosts})", err=True)
            click.echo(f"status page: {options.url}{UI_PATH}", err=True)
            click.echo(f"try:  curl -s '{url}'\n", err=True)

        # Each worker builds its own app, hence its own collaborators and
        # connection pools, after the fork.
        def reload_users() -> None:
            if settings.users_file:
                from flowstatus.services.users_file import reload

                reload(settings.users_file)

        run_server(lambda: create_app(settings, observe=True), options, on_ready=announce, on_reload=reload_users)
    sys.exit(0)


def _without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part, for printing."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


def _report_readiness(built: Components) -> None:
    """Say at start whether flowstatus can do its work on the state index, and why not.

    A TLS handshake that fails (a CA bundle that did not sign OpenSearch's
    certificate, a refused client certificate) ends the start (exit 1): it
    will not fix itself.  Anything OpenSearch can change later (it is down,
    the index is missing, a permission is not granted yet) is a warning:
    the server starts and ``/_ready`` answers 503 with the same reason.
    """
    from flowstatus.repository.errors import StoreError, StoreTLSError

    index = built.settings.state_index
    try:
        readiness = built.repository.readiness()
    except StoreTLSError as exc:
        raise click.ClickException(str(exc)) from None
    except StoreError as exc:
        click.secho(f"WARNING: {exc}; /_ready answers 503 until this is fixed", fg="yellow", err=True)
        return
    if readiness.ready:
        click.echo(f"state index {index}: ready (flowstatus may read, search and write it)", err=True)
    else:
        click.secho(f"WARNING: state index {index} is not ready: {readiness.reason}; /_ready answers 503 "
                    "until this is fixed", fg="red", bold=True, err=True)


def _check_front_door(settings: Settings, host: str, insecure: bool) -> None:
    """Refuse to expose an unauthenticated service; say loudly when it is unauthenticated or trusts everyone."""
    if settings.proxy_trusted:
        _warn_if_internet_wide(settings, host)
    if settings.users_file:
        from flowstatus.services.passwords import UsersFileError
        from flowstatus.services.users_file import UsersFile

        try:
            UsersFile(settings.users_file)  # read here first: the workers start with these users
        except UsersFileError as exc:
            raise click.ClickException(str(exc)) from None
        return
    if settings.proxy_trusted:
        return
    if not is_loopback(host) and not insecure:
        raise click.ClickException(
            f"refusing to serve {host} without authentication: set FLOWSTATUS_USERS_FILE "
            "(or FLOWSTATUS_PROXY_TRUSTED), or pass --insecure to accept the risk"
        )
    click.secho(
        f"WARNING: no users are configured (FLOWSTATUS_USERS_FILE): every request to {host} is allowed, "
        "with all permissions.",
        fg="red", bold=True, err=True,
    )


def _warn_if_internet_wide(settings: Settings, host: str) -> None:
    """A trusted proxy range as wide as the internet lets anyone claim any identity: say so at start."""
    from flowstatus.services.authentication import internet_wide

    wide = internet_wide(settings.proxy_trusted)
    if wide:
        click.secho(
            f"WARNING: FLOWSTATUS_PROXY_TRUSTED trusts {', '.join(wide)}, a large part of the internet: anyone who "
            f"can reach {host} can claim any user and role with the {settings.proxy_user_header} and "
            f"{settings.proxy_roles_header} headers. Trust only the addresses of your proxy.",
            fg="red", bold=True, err=True,
        )
