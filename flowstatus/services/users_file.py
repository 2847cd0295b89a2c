"""The users file, kept current: re-read when it changes or on SIGHUP, never replaced by a broken one.

An operator edits ``internal_users.yml`` (a user added, a password changed,
someone revoked) and expects it to apply without restarting anything, and
without a typo taking the service down.  So:

* each process checks the file's identity (inode, size, modification time)
  at most once per ``interval`` seconds, and re-reads it when it changed;
* ``flowstatus serve``'s main process re-reads it on SIGHUP before starting
  new workers (:func:`reload`), which start with what it read;
* a file that cannot be used (unreadable, not YAML, a malformed hash) is
  refused with an error in the log, and the users read last stay in force;
  only a file that was never usable stops the start.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from flowstatus.services.passwords import Account, UsersFileError, load_users

log = logging.getLogger(__name__)

# The last usable users of each file in this process; forked workers inherit it.
_LAST_GOOD: dict[str, dict[str, Account]] = {}


def _identity(path: str) -> tuple[int, int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns


def read_users(path: str) -> dict[str, Account] | None:
    """The users of ``path``, remembered as its last usable ones; ``None`` (and an error in the log) if unusable."""
    try:
        accounts = load_users(path)
    except UsersFileError as exc:
        log.error("%s; the users read before stay in force", exc)
        return None
    _LAST_GOOD[path] = accounts
    return accounts


class UsersFile:
    """The users of ``path``; :meth:`accounts` is current to within ``interval`` seconds.

    Raises :class:`~flowstatus.services.passwords.UsersFileError` when created
    if the file cannot be used and this process never read it successfully.
    Thread-safe.
    """

    def __init__(self, path: str | Path, interval: float = 1.0) -> None:
        self.path = str(path)
        self.interval = interval
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._identity = _identity(self.path)
        if self.path not in _LAST_GOOD:
            _LAST_GOOD[self.path] = load_users(self.path)  # never usable: the start fails, naming the problem
            self._accounts = _LAST_GOOD[self.path]
        else:
            self._accounts = read_users(self.path) or _LAST_GOOD[self.path]

    def accounts(self) -> dict[str, Account]:
        """The users now: re-read if the file changed since it was last looked at (at most every ``interval`` s)."""
        now = time.monotonic()
        if now - self._checked < self.interval:
            return self._accounts
        with self._lock:
            if now - self._checked >= self.interval:
                self._checked = now
                identity = _identity(self.path)
                if identity != self._identity:
                    self._identity = identity
                    self._accounts = read_users(self.path) or self._accounts
        return self._accounts


def reload(path: str) -> bool:
    """Re-read ``path`` in this process (``flowstatus serve``'s main process on SIGHUP, so that the workers
    it starts next begin with it); ``False`` if it cannot be used and the users read before stay."""
    return read_users(path) is not None
