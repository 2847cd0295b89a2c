"""The front door: who is calling (HTTP Basic or a trusted proxy), and may they?

Runs before every view.  Each view declares the permission it needs with
:func:`requires` (undeclared views need READ).  Order, as in OpenSearch with
its security plugin: authenticate (401), check the role (403), then the
plugin's own checks (feature switch, tenant header).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, current_app, g, request

from flowstatus.api.components import services
from flowstatus.api.errors import ApiError, OpenSearchError, PluginError
from flowstatus.domain.access import Caller, Permission
from flowstatus.domain.model import User
from flowstatus.services.authentication import PasswordChecker, load_users
from flowstatus.settings import Settings

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., object])
DISABLED = "This API is disabled. To enable it, update the setting [plugins.flow_framework.enabled] to true."
TENANT_HEADER = "x-tenant-id"


def requires(permission: Permission, action: str, denied: str | None = None) -> Callable[[F], F]:
    """Declare what a view needs; ``action`` names it in refusals, ``denied`` overrides the refusal text."""

    def mark(view: F) -> F:
        view.flowstatus_permission = (permission, action, denied)  # type: ignore[attr-defined]
        return view

    return mark


class Unauthorized(ApiError):
    status = 401

    def __init__(self) -> None:
        super().__init__("Unauthorized", {"WWW-Authenticate": 'Basic realm="flowstatus"'})

    def body(self) -> dict[str, str]:
        return {"error": "Unauthorized"}


@dataclass
class Authenticator:
    """Turns a request into a :class:`Caller`; ``enabled`` is false when nothing is configured."""

    passwords: PasswordChecker | None
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    user_header: str
    roles_header: str
    backend_roles_header: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        passwords = None
        if settings.users_file:
            passwords = PasswordChecker(load_users(settings.users_file), settings.auth_cache_ttl)
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in settings.proxy_trusted)
        return cls(passwords, networks, settings.proxy_user_header, settings.proxy_roles_header,
                   settings.proxy_backend_roles_header)

    @property
    def enabled(self) -> bool:
        return self.passwords is not None or bool(self.trusted_proxies)

    def caller(self) -> Caller:
        """The authenticated caller; raises :class:`Unauthorized`."""
        if not self.enabled:
            return Caller()
        proxied = self._from_proxy()
        if proxied is not None:
            return Caller(proxied)
        if self.passwords is not None:
            credentials = _basic_credentials(request.headers.get("Authorization", ""))
            if credentials is not None:
                user = self.passwords.check(*credentials)
                if user is not None:
                    return Caller(user)
        raise Unauthorized()

    def _from_proxy(self) -> User | None:
        name = request.headers.get(self.user_header, "").strip()
        if not name or not self.trusted_proxies:
            return None
        try:
            peer = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            return None
        if not any(peer in network for network in self.trusted_proxies):
            log.warning("ignored proxy authentication headers from untrusted address %s", peer)
            return None

        def listed(header: str) -> tuple[str, ...]:
            return tuple(v.strip() for v in request.headers.get(header, "").split(",") if v.strip())

        return User(name, backend_roles=listed(self.backend_roles_header), roles=listed(self.roles_header))


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def _refusal(caller: Caller, action: str, denied: str | None) -> ApiError:
    if denied is not None:
        return PluginError(403, denied)
    user = caller.user
    assert user is not None
    who = f"User [name={user.name}, backend_roles=[{', '.join(user.backend_roles)}], requestedTenant=null]"
    return OpenSearchError(403, "security_exception", f"no permissions for [{action}] and {who}")


def _guard() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    permission, action, denied = getattr(view, "flowstatus_permission", (Permission.READ, "unknown", None))
    if permission is Permission.PUBLIC:
        return
    settings = services().settings
    caller = current_app.extensions["flowstatus.auth"].caller()
    if not caller.may(permission):
        raise _refusal(caller, action, denied)
    if not settings.enabled:
        raise PluginError(403, DISABLED)
    if settings.multi_tenancy:
        tenant = request.headers.get(TENANT_HEADER)
        if tenant is None:
            raise PluginError(403, "Tenant ID header is missing or has no value")
        caller = Caller(caller.user, tenant)
    g.caller = caller


def init_app(app: Flask, settings: Settings) -> None:
    """Install the guard; raises ``UsersFileError`` at start if the users file is unusable."""
    app.extensions["flowstatus.auth"] = Authenticator.from_settings(settings)
    app.before_request(_guard)
