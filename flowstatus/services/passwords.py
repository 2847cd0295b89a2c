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
under a per-process random key; failures are never remembered, and an
unknown user costs the same bcrypt check as a known one (no timing oracle).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from flowstatus.domain.model import User

ROLE_KEYS = ("opendistro_security_roles", "roles")
# Checked against when the user is unknown, so that "no such user" takes as
# long as "wrong password".
_DUMMY_HASH = bcrypt.hashpw(b"flowstatus-dummy-password", bcrypt.gensalt(12))


class UsersFileError(ValueError):
    """The users file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Account:
    user: User
    password_hash: bytes


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
        password_hash = entry["hash"].encode()
        if not password_hash.startswith((b"$2a$", b"$2b$", b"$2y$")):
            raise UsersFileError(f"user {name!r}: 'hash' is not a bcrypt hash")
        roles = tuple(r for key in ROLE_KEYS for r in _strings(name, key, entry.get(key)))
        user = User(str(name), backend_roles=_strings(name, "backend_roles", entry.get("backend_roles")), roles=roles)
        accounts[str(name)] = Account(user, password_hash)
    return accounts


class PasswordChecker:
    """Verifies HTTP Basic credentials against the accounts; thread-safe."""

    def __init__(self, accounts: dict[str, Account], cache_ttl: float = 300.0) -> None:
        self.accounts = accounts
        self.cache_ttl = cache_ttl
        self._key = os.urandom(32)
        self._verified: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def _mac(self, username: str, password: str) -> bytes:
        return hmac.new(self._key, f"{username}\0{password}".encode(), hashlib.sha256).digest()

    def check(self, username: str, password: str) -> User | None:
        """The user if the password is right, else ``None``."""
        account = self.accounts.get(username)
        mac = self._mac(username, password)
        now = time.monotonic()
        with self._lock:
            cached = self._verified.get(username)
        if account is not None and cached and cached[1] > now and hmac.compare_digest(cached[0], mac):
            return account.user
        password_hash = account.password_hash if account else _DUMMY_HASH
        try:
            ok = bcrypt.checkpw(password.encode(), password_hash)
        except ValueError:
            ok = False
        if not ok or account is None:
            return None
        with self._lock:
            self._verified[username] = (mac, now + self.cache_ttl)
        return account.user


def hash_password(password: str, rounds: int = 12) -> str:
    """A bcrypt hash for the users file."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()
