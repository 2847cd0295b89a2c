"""Who is calling: HTTP Basic against the users file, or a trusted authenticating proxy.

No Flask here: the API hands over the request's headers and peer address and
turns :class:`NotAuthenticated` into its 401.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
from dataclasses import dataclass
from typing import Protocol

from flowstatus.domain.access import Caller
from flowstatus.domain.model import User
from flowstatus.services.passwords import PasswordChecker, load_users
from flowstatus.settings import Settings

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Headers(Protocol):
    """The part of a request's headers authentication reads (werkzeug's ``Headers`` has it)."""

    def get(self, key: str) -> str | None: ...


class NotAuthenticated(Exception):
    """Authentication is on and the request carries no valid credentials."""


@dataclass(frozen=True)
class Authenticator:
    """Turns a request's headers into a :class:`Caller`; ``enabled`` is false when nothing is configured."""

    passwords: PasswordChecker | None
    trusted_proxies: tuple[Network, ...]
    user_header: str
    roles_header: str
    backend_roles_header: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        """Raises :class:`~flowstatus.services.passwords.UsersFileError` for an unusable users file."""
        passwords = None
        if settings.users_file:
            passwords = PasswordChecker(load_users(settings.users_file), settings.auth_cache_ttl)
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in settings.proxy_trusted)
        return cls(passwords, networks, settings.proxy_user_header, settings.proxy_roles_header,
                   settings.proxy_backend_roles_header)

    @property
    def enabled(self) -> bool:
        return self.passwords is not None or bool(self.trusted_proxies)

    def caller(self, headers: Headers, peer: str | None) -> Caller:
        """The authenticated caller (anonymous when authentication is off); raises :class:`NotAuthenticated`.

        A trusted proxy's identity headers win over a Basic ``Authorization``.
        """
        if not self.enabled:
            return Caller()
        proxied = self._from_proxy(headers, peer)
        if proxied is not None:
            return Caller(proxied)
        if self.passwords is not None:
            credentials = basic_credentials(headers.get("Authorization") or "")
            if credentials is not None:
                user = self.passwords.check(*credentials)
                if user is not None:
                    return Caller(user)
        raise NotAuthenticated()

    def _from_proxy(self, headers: Headers, peer: str | None) -> User | None:
        name = (headers.get(self.user_header) or "").strip()
        if not name or not self.trusted_proxies:
            return None
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return None
        if not any(address in network for network in self.trusted_proxies):
            log.warning("ignored proxy authentication headers from untrusted address %s", address)
            return None
        return User(name, backend_roles=_listed(headers, self.backend_roles_header),
                    roles=_listed(headers, self.roles_header))


def _listed(headers: Headers, name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in (headers.get(name) or "").split(",") if v.strip())


def basic_credentials(header: str) -> tuple[str, str] | None:
    """``(user, password)`` of an ``Authorization: Basic`` value, or ``None`` if it is not one."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None
