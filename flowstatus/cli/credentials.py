"""Where a client's password comes from: never the command line.

A password given as an argument shows in every ``ps`` listing and in shell
histories, so there is no ``--password``.  For ``--user NAME`` the password
comes, in order, from ``FLOWSTATUS_PASSWORD``, from the ``~/.netrc`` entry of
the server's host whose login is NAME (``NETRC`` names another file), or from
a prompt on the terminal.  It is never read from a pipe: ``flowstatus ingest -``
reads its events there.
"""

from __future__ import annotations

import getpass
import netrc
import os
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

PASSWORD_ENV = "FLOWSTATUS_PASSWORD"
NETRC_ENV = "NETRC"


class NoPassword(Exception):
    """No source gave a password; ``str()`` says which sources were tried."""


def netrc_path(environ: Mapping[str, str]) -> Path:
    """The netrc file: ``NETRC`` if set, else ``~/.netrc``."""
    return Path(environ.get(NETRC_ENV) or Path.home() / ".netrc")


def netrc_password(path: Path, host: str, user: str) -> str | None:
    """The password of ``user`` for ``host`` in the netrc file ``path`` (``None``: no such entry or file).

    Raises :class:`NoPassword` for a file others may read or that does not
    parse: a password file must be private, as curl and ftp insist too.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise NoPassword(f"cannot read {path}: {exc.strerror}") from None
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise NoPassword(f"{path} may be read by other users: make it yours with mode 600 (chmod 600 {path})")
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (netrc.NetrcParseError, OSError) as exc:
        raise NoPassword(f"cannot read {path}: {exc}") from None
    if entry is None:
        return None
    login, _account, password = entry
    return password if login == user and password else None


def terminal_available() -> bool:
    """Whether a prompt can be answered: a controlling terminal, or a terminal on stdin."""
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return sys.stdin.isatty()
    return True


def password_for(user: str, host: str, environ: Mapping[str, str] = os.environ,
                 prompt: Callable[[str], str] | None = None) -> tuple[str, str]:
    """``(password, where it came from)`` for ``user`` at ``host``.

    ``prompt`` asks on the terminal (default: :func:`getpass.getpass`, which
    reads ``/dev/tty``); it is used only when a terminal is available.
    Raises :class:`NoPassword` when no source has one.
    """
    if environ.get(PASSWORD_ENV):
        return environ[PASSWORD_ENV], PASSWORD_ENV
    path = netrc_path(environ)
    found = netrc_password(path, host, user)
    if found is not None:
        return found, str(path)
    if prompt is None and terminal_available():
        prompt = getpass.getpass
    if prompt is None:
        raise NoPassword(f"no password for user {user!r}: set {PASSWORD_ENV}, add a 'machine {host} login {user} "
                         f"password ...' entry to {path}, or run on a terminal to be asked")
    password = prompt(f"Password for {user} at {host}: ")
    if not password:
        raise NoPassword(f"an empty password was given for user {user!r}")
    return password, "the prompt"
