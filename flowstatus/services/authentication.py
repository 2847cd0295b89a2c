"""Who is calling: HTTP Basic against the users file, or a trusted authenticating proxy.

No Flask here: the API hands over the request's headers and peer address and
turns :class:`NotAuthenticated` into its 401 and :class:`RepeatedProxyHeader`
into its 400.

Repeated proxy headers: a WSGI server joins a header sent twice into one
value (gunicorn with ``,``), so ``x-proxy-roles: read_access`` followed by
``x-proxy-roles: all_access`` would read as both roles.  Only the server
sees the raw header list, so flowstatus' gunicorn hook
(:mod:`flowstatus.server.repeated_headers`) names the watched headers that
came more than once in :data:`REPEATED_HEADERS` (after removing any copy a
client sent); a request from a trusted proxy that names one of the proxy
headers there is refused.  Under a server without that hook (the Flask test
client, werkzeug's development server) repeated headers stay joined and
cannot be told from one comma-separated value.
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
from flowstatus.services.passwords import PasswordChecker
from flowstatus.services.users_file import UsersFile
from flowstatus.settings import Settings

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
REPEATED_HEADERS = "X-Flowstatus-Repeated-Headers"
"""Set by the server only: the watched headers (lower case, comma-separated) that a request sent more than once."""
# Networks at least this wide (and not private) take in a large part of the internet.
WIDE_IPV4_PREFIX = 8
WIDE_IPV6_PREFIX = 16


class Headers(Protocol):
    """The part of a request's headers authentication reads (werkzeug's ``Headers`` has it)."""

    def get(self, key: str) -> str | None: ...


class NotAuthenticated(Exception):
    """Authentication is on and the request carries no valid credentials."""


class RepeatedProxyHeader(Exception):
    """A trusted proxy sent an identity or role header more than once; ``headers`` names them."""

    def __init__(self, headers: tuple[str, ...]) -> None:
        names = ", ".join(f"[{h}]" for h in headers)
        super().__init__(
            f"the proxy authentication header {names} was sent more than once; its values are not joined: "
            "the proxy must send each of its identity and role headers once")
        self.headers = headers


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
            passwords = PasswordChecker(UsersFile(settings.users_file).accounts, settings.auth_cache_ttl)
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in settings.proxy_trusted)
        return cls(passwords, networks, settings.proxy_user_header, settings.proxy_roles_header,
                   settings.proxy_backend_roles_header)

    @property
    def enabled(self) -> bool:
        return self.passwords is not None or bool(self.trusted_proxies)

    @property
    def proxy_headers(self) -> tuple[str, str, str]:
        """The headers a trusted proxy authenticates with (the server watches them for repeats)."""
        return self.user_header, self.roles_header, self.backend_roles_header

    def caller(self, headers: Headers, peer: str | None) -> Caller:
        """The authenticated caller (anonymous when authentication is off).

        A trusted proxy's identity headers win over a Basic ``Authorization``.
        Raises :class:`NotAuthenticated` without valid credentials and
        :class:`RepeatedProxyHeader` for a trusted proxy's repeated header.
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
        if not self.trusted_proxies:
            return None
        repeated = set(_listed(headers, REPEATED_HEADERS))
        name = (headers.get(self.user_header) or "").strip()
        if not name and not repeated:
            return None
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return None
        if not any(address in network for network in self.trusted_proxies):
            if name:
                log.warning("ignored proxy authentication headers from untrusted address %s", address)
            return None
        twice = tuple(h for h in self.proxy_headers if h.lower() in repeated)
        if twice:
            raise RepeatedProxyHeader(twice)
        if not name:
            return None
        return User(name, backend_roles=_listed(headers, self.backend_roles_header),
                    roles=_listed(headers, self.roles_header))


def internet_wide(networks: tuple[str, ...]) -> tuple[str, ...]:
    """The networks of ``networks`` that take in the whole internet or a large public part of it.

    Any network at least as wide as a /8 (IPv4) or a /16 (IPv6) that is not
    inside a private, loopback or link-local range: ``0.0.0.0/0``, ``::/0``,
    each half of a split ``0.0.0.0/1`` + ``128.0.0.0/1``, ``1.0.0.0/8``; and
    IPv4-mapped IPv6 networks (``::ffff:0:0/96`` is every IPv4 address) as
    the IPv4 networks they map.
    """
    return tuple(text for text in networks if _wide(ipaddress.ip_network(text, strict=False)))


def _wide(network: Network) -> bool:
    if isinstance(network, ipaddress.IPv6Network):
        if network.supernet_of(_IPV4_MAPPED):
            return True
        if network.subnet_of(_IPV4_MAPPED):
            mapped = network.network_address.ipv4_mapped
            assert mapped is not None
            return _wide(ipaddress.IPv4Network((mapped, network.prefixlen - 96)))
        return network.prefixlen <= WIDE_IPV6_PREFIX and not any(network.subnet_of(p) for p in _LOCAL_V6)
    return network.prefixlen <= WIDE_IPV4_PREFIX and not any(network.subnet_of(p) for p in _LOCAL_V4)


_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_LOCAL_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10"))
_LOCAL_V6 = tuple(ipaddress.IPv6Network(n) for n in ("fc00::/7", "fe80::/10", "::1/128"))


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
