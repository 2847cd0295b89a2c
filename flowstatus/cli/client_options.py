"""The options of the commands that talk to a flowstatus server (``watch``, ``ingest --url``).

``--url``, ``--user`` (password from ``FLOWSTATUS_PASSWORD``, ``~/.netrc`` or a
prompt: see :mod:`flowstatus.cli.credentials`), ``--tenant``, ``--ca-certs``
and ``--insecure-skip-verify``.  The HTTP client itself is imported only
when a command runs (see :mod:`flowstatus.cli.common`).
"""

from __future__ import annotations

import contextlib
import functools
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from flowstatus.cli.common import is_loopback

if TYPE_CHECKING:
    from flowstatus.cli.http_client import ServerClient

F = TypeVar("F", bound=Callable[..., Any])
USER_ENV = "FLOWSTATUS_USER"
# The options that only mean something with a server URL.
CLIENT_ONLY = ("user", "tenant", "ca_certs", "insecure_skip_verify")


@dataclass(frozen=True)
class Target:
    """The server a command was pointed at, as given on the command line (no password yet)."""

    url: str
    user: str | None = None
    tenant: str | None = None
    ca_certs: str | None = None
    insecure_skip_verify: bool = False


def _check_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urllib.parse.urlsplit(value)
    try:
        parts.port  # noqa: B018 - read for its check: a port that is not a number raises
    except ValueError:
        raise click.BadParameter(f"{value!r} has a port that is not a number from 0 to 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{value!r} is not an http:// or https:// URL")
    if parts.username or parts.password:
        raise click.BadParameter("credentials do not belong in the URL: use --user (the password then comes from "
                                 "FLOWSTATUS_PASSWORD, ~/.netrc or a prompt)")
    if parts.query or parts.fragment:
        raise click.BadParameter(f"{value!r}: give the server's base URL, without a query or fragment")
    return value


def _check_user(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (":" in value or not value.strip()):
        raise click.BadParameter("a user name may not be empty or contain ':' (HTTP Basic)")
    return value


def server_options(*, url_help: str, url_envvar: str | None = None, url_default: str | None = None,
                   also_needing_url: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Add the server options to a command, which then receives ``server: Target | None`` in their stead.

    ``server`` is ``None`` when no URL was given; naming one of the other
    options (or of the command's own ``also_needing_url``) on the command line
    without a URL is then a usage error (environment defaults are ignored).
    """
    options = [
        click.option("--url", envvar=url_envvar, default=url_default, show_default=url_default is not None,
                     callback=_check_url, help=url_help),
        click.option("--user", envvar=USER_ENV, callback=_check_user, metavar="NAME",
                     help=f"Authenticate as NAME (env {USER_ENV}); the password comes from FLOWSTATUS_PASSWORD, "
                          "else ~/.netrc (machine = the URL's host, login = NAME), else a prompt on the terminal."),
        click.option("--tenant", metavar="TENANT",
                     help="Send x-tenant-id: TENANT (required by servers with FLOWSTATUS_MULTI_TENANCY)."),
        click.option("--ca-certs", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                     help="CA bundle (PEM) that signed the server's certificate (default: the system's CAs)."),
        click.option("--insecure-skip-verify", is_flag=True,
                     help="Do not verify the server's TLS certificate (warns on every run)."),
    ]

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def with_target(*args: Any, url: str | None, user: str | None, tenant: str | None, ca_certs: str | None,
                        insecure_skip_verify: bool, **kwargs: Any) -> Any:
            if url is None:
                _refuse_without_url(CLIENT_ONLY + also_needing_url)
                return command(*args, server=None, **kwargs)
            return command(*args, server=Target(url, user, tenant, ca_certs, insecure_skip_verify), **kwargs)

        wrapped: Any = with_target
        for option in reversed(options):
            wrapped = option(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate


def _refuse_without_url(names: tuple[str, ...]) -> None:
    ctx = click.get_current_context()
    given = [name for name in names
             if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE]
    if given:
        options = ", ".join("--" + name.replace("_", "-") for name in given)
        verb = "applies" if len(given) == 1 else "apply"
        raise click.UsageError(f"{options} {verb} to a flowstatus server: give its --url too")


def warn(message: str) -> None:
    """A warning the user must not miss: bold red on stderr."""
    click.secho(f"WARNING: {message}", fg="red", bold=True, err=True)


def connect(target: Target) -> ServerClient:
    """The client for ``target``: asks for the password if needed, and warns about what is insecure.

    Raises :class:`flowstatus.cli.http_client.AccessDenied` when no password can be had.
    """
    from flowstatus.cli.credentials import NoPassword, password_for
    from flowstatus.cli.http_client import AccessDenied, ServerAccess, ServerClient

    parts = urllib.parse.urlsplit(target.url)
    host = parts.hostname or ""
    password, source = None, ""
    if target.user is not None:
        try:
            password, source = password_for(target.user, host)
        except NoPassword as exc:
            raise AccessDenied(str(exc)) from None
    if target.insecure_skip_verify:
        warn(f"--insecure-skip-verify: the TLS certificate of {host} is not verified; anyone on the network path "
             "can pose as the server and read the credentials and data sent to it.")
    if target.user is not None and parts.scheme == "http" and not is_loopback(host):
        warn(f"the password of {target.user} crosses the network to {host} in clear (http://): use https://.")
    access = ServerAccess(url=target.url, user=target.user, password=password, password_source=source,
                          tenant=target.tenant, ca_certs=target.ca_certs, verify=not target.insecure_skip_verify)
    return ServerClient(access)


@contextlib.contextmanager
def exit_on_client_error(command: str) -> Iterator[None]:
    """Turn a client failure into its one-line message on stderr and its exit code (no traceback)."""
    from flowstatus.cli.http_client import ClientError

    try:
        yield
    except ClientError as exc:
        click.echo(f"flowstatus {command}: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
