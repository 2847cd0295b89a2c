"""The front door: who is calling (HTTP Basic or a trusted proxy), and may they?

Runs before every view.  Each view declares the permission it needs with
:func:`requires` (undeclared views need READ).  Order, as in OpenSearch with
its security plugin: authenticate (401), check the role (403), then the
plugin's own checks (feature switch, tenant header).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, request

from flowstatus.api.components import components
from flowstatus.api.errors import ApiError, OpenSearchError, PluginError
from flowstatus.composition import Components
from flowstatus.domain.access import ANONYMOUS, Caller, Permission
from flowstatus.services.authentication import Headers, NotAuthenticated

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


def _refusal(caller: Caller, action: str, denied: str | None) -> ApiError:
    if denied is not None:
        return PluginError(403, denied)
    user = caller.user
    assert user is not None
    who = f"User [name={user.name}, backend_roles=[{', '.join(user.backend_roles)}], requestedTenant=null]"
    return OpenSearchError(403, "security_exception", f"no permissions for [{action}] and {who}")


def authorize(view: Callable[..., object] | None, built: Components, headers: Headers, peer: str | None) -> Caller:
    """Who calls ``view``, if they may: raises the :class:`ApiError` OpenSearch (401, 403) or the plugin (403) sends.

    A public view is open to anyone (anonymous).  Raises the authenticator's
    :class:`~flowstatus.services.authentication.RepeatedProxyHeader` too.
    """
    permission, action, denied = getattr(view, "flowstatus_permission", (Permission.READ, "unknown", None))
    if permission is Permission.PUBLIC:
        return ANONYMOUS
    settings = built.settings
    try:
        caller = built.authenticator.caller(headers, peer)
    except NotAuthenticated:
        raise Unauthorized() from None
    if not caller.may(permission):
        raise _refusal(caller, action, denied)
    if not settings.enabled:
        raise PluginError(403, DISABLED)
    if settings.multi_tenancy:
        tenant = headers.get(TENANT_HEADER)
        if tenant is None:
            raise PluginError(403, "Tenant ID header is missing or has no value")
        caller = Caller(caller.user, tenant)
    return caller


def _guard() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    caller = authorize(view, components(), request.headers, request.remote_addr)
    if caller is not ANONYMOUS:
        g.caller = caller


def init_app(app: Flask) -> None:
    """Install the guard in front of every view."""
    app.before_request(_guard)
