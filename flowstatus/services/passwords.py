"""Users from an OpenSearch-security-style ``internal_users.yml``, and password checks.

The file format is the one operators know::

    _meta: {type: "internalusers", config_version: 2}
    alice:
      hash: "$2y$12$..."                  # bcrypt, e.g. from `flowstatus hash-password`
      backend_roles: ["analysts"]
      opendistro_security_roles: ["flow_framework_read_access"]

Passwords are never stored in clear, never logged, and compared in constant
time.  A bcrypt check costs a quarter of a second by design, so a verified
(user, password) pair is remembered for ``cache_ttl`` seconds as an HMAC
under a per-process random key; failures are never remembered.

No timing oracle: a bcrypt check costs ``2^cost`` rounds, and users of one
file may have different costs, so answering as fast as the user's own hash
allows would tell a cost-4 user from a cost-12 one, and both from an
unknown name.  Every check therefore does the same work: one verification
at each cost present in the file, against the user's own hash at its cost
and against a dummy hash at every other (all dummies for an unknown user or
a password bcrypt cannot take).  Hashes are checked when the file is read:
a malformed one would fail instantly on every request, so it stops the
start, naming the user.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from flowstatus.domain.model import User

ROLE_KEYS = ("opendistro_security_roles", "roles")
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further
DEFAULT_COST = 12  # OpenSearch's hash.sh and `flowstatus hash-password`
MIN_COST, MAX_COST = 4, 16
# A bcrypt hash exactly: version, cost, 22 characters of salt and 31 of hash in bcrypt's base64, whose
# last character of each carries only 2 (salt) or 4 (hash) bits, so only some letters can end them.
_BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{21}[.Oeu][./A-Za-z0-9]{30}[.CGKOSWaeimquy26]$")
_DUMMY_PASSWORD = b"flowstatus-dummy-password"


class UsersFileError(ValueError):
    """The users file cannot be used; the message says where and why."""


class PasswordTooLong(ValueError):
    """A password longer than bcrypt reads (72 bytes) cannot be hashed."""


@dataclass(frozen=True)
class Account:
    user: User
    password_hash: bytes

    @property
    def cost(self) -> int:
        """The bcrypt cost of the hash (its ``$2y$<cost>$`` part)."""
        return int(self.password_hash[4:6])


def check_hash(name: str, value: str) -> bytes:
    """``value`` as a bcrypt hash bcrypt can verify, with a cost from 4 to 16; raises :class:`UsersFileError`."""
    match = _BCRYPT.match(value)
    if match is None:
        raise UsersFileError(
            f"user {name!r}: 'hash' is not a bcrypt hash ($2a$, $2b$ or $2y$, a two-digit cost, then 53 characters "
            "of salt and hash); make one with `flowstatus hash-password`")
    cost = int(match.group(1))
    if not MIN_COST <= cost <= MAX_COST:
        raise UsersFileError(
            f"user {name!r}: bcrypt cost {cost} is outside {MIN_COST}-{MAX_COST} (a check at cost 17 takes seconds, "
            "and every check costs as much as the costliest user)")
    return value.encode()


def _strings(name: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsersFileError(f"user {name!r}: {key} must be a list of strings")
    return tuple(value)


def load_users(path: str | Path) -> dict[str, Account]:
    """Read ``internal_users.yml``; raises :class:`UsersFileError` naming the problem."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UsersFileError(f"cannot read users file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsersFileError(f"users file {path} is not a mapping of user names")
    accounts = {}
    for name, entry in data.items():
        if name == "_meta":
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
            raise UsersFileError(f"user {name!r}: a bcrypt 'hash' is required")
        password_hash = check_hash(str(name), entry["hash"])
        roles = tuple(r for key in ROLE_KEYS for r in _strings(name, key, entry.get(key)))
        user = User(str(name), backend_roles=_strings(name, "backend_roles", entry.get("backend_roles")), roles=roles)
        accounts[str(name)] = Account(user, password_hash)
    return accounts


class PasswordChecker:
    """Verifies HTTP Basic credentials against the accounts; thread-safe.

    ``accounts`` is the users, or a function answering the current users (a
    users file that is re-read when it changes): when they change, verified
    passwords are forgotten, so a revoked user or a changed password applies
    at once.  Builds one dummy hash per bcrypt cost of the accounts (the
    default 12 when there are none), which takes as long as one check.
    """

    def __init__(self, accounts: dict[str, Account] | Callable[[], dict[str, Account]],
                 cache_ttl: float = 300.0) -> None:
        self._source = accounts if callable(accounts) else lambda: accounts
        self.cache_ttl = cache_ttl
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._made: dict[int, bytes] = {}
        self._use(self._source())

    def _use(self, accounts: dict[str, Account]) -> None:
        """Check against ``accounts`` from now on, with no verified password remembered."""
        costs = sorted({account.cost for account in accounts.values()}) or [DEFAULT_COST]
        for cost in costs:
            if cost not in self._made:
                self._made[cost] = bcrypt.hashpw(_DUMMY_PASSWORD, bcrypt.gensalt(cost))
        self._dummies = {cost: self._made[cost] for cost in costs}
        self._verified: dict[str, tuple[bytes, float]] = {}
        self.accounts = accounts

    @property
    def costs(self) -> tuple[int, ...]:
        """The bcrypt costs every check pays once each."""
        return tuple(self._dummies)

    def _mac(self, username: str, password: str) -> bytes:
        return hmac.new(self._key, f"{username}\0{password}".encode(), hashlib.sha256).digest()

    def check(self, username: str, password: str) -> User | None:
        """The user if the password is right, else ``None``; the same bcrypt work whoever asks (module docstring)."""
        current = self._source()
        if current is not self.accounts:
            with self._lock:
                if current is not self.accounts:
                    self._use(current)
        account = current.get(username)
        mac = self._mac(username, password)
        now = time.monotonic()
        with self._lock:
            cached = self._verified.get(username)
        if account is not None and cached and cached[1] > now and hmac.compare_digest(cached[0], mac):
            return account.user
        secret = password.encode()
        usable = account is not None and len(secret) <= MAX_PASSWORD_BYTES
        ok = False
        for cost, dummy in self._dummies.items():
            if usable and account is not None and cost == account.cost:
                ok = _verified(secret, account.password_hash)
            else:
                _verified(secret[:MAX_PASSWORD_BYTES], dummy)
        if not ok or account is None:
            return None
        with self._lock:
            self._verified[username] = (mac, now + self.cache_ttl)
        return account.user


def _verified(secret: bytes, password_hash: bytes) -> bool:
    try:
        return bcrypt.checkpw(secret, password_hash)
    except ValueError:  # a hash bcrypt cannot read: load_users refuses those, so never here
        return False


def hash_password(password: str, rounds: int = DEFAULT_COST) -> str:
    """A bcrypt hash for the users file; raises :class:`PasswordTooLong` past 72 bytes (bcrypt would cut it)."""
    secret = password.encode()
    if len(secret) > MAX_PASSWORD_BYTES:
        raise PasswordTooLong(
            f"the password is {len(secret)} bytes long; bcrypt reads only the first {MAX_PASSWORD_BYTES}, "
            f"so it cannot be hashed: choose one of at most {MAX_PASSWORD_BYTES} bytes (UTF-8)")
    return bcrypt.hashpw(secret, bcrypt.gensalt(rounds)).decode()
