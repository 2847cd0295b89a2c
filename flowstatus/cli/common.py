"""What the commands share: settings from the environment, and the collaborators built from them.

Commands import the service's modules inside their functions, never at the
top: ``flowstatus serve`` must patch with gevent and choose the metrics
storage before urllib3, ssl or prometheus_client are first imported.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import click

from flowstatus.settings import Settings, load_settings

if TYPE_CHECKING:
    from flowstatus.composition import Components


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name, an address, or an address in brackets) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def settings_or_exit() -> Settings:
    """The settings; a bad variable ends the command with its message (exit 1)."""
    try:
        return load_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def components(settings: Settings | None = None) -> Components:
    """The collaborators, as the server builds them (access policy, metrics and all).

    The OpenSearch clients are built now: an unusable CA bundle, client
    certificate or credential file ends the command with its message (exit 1).
    """
    from flowstatus.composition import Components
    from flowstatus.repository.errors import StoreSettingsError

    built = Components(settings or settings_or_exit())
    try:
        built.repository  # noqa: B018 - builds the clients, which read the TLS and credential files
    except StoreSettingsError as exc:
        raise click.ClickException(str(exc)) from None
    return built


def ensure_index(built: Components) -> str:
    """Create the state index with the plugin's mapping, or upgrade it, and flowstatus's companion index
    of step records beside it (hidden, as the state index); a line saying which.

    Raises :class:`click.ClickException` with the store's reason when it cannot.
    """
    from flowstatus.repository.errors import StoreError

    try:
        report = built.repository.ensure_index()
        steps = built.step_store.ensure_index()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    return f"{built.settings.state_index}: {report.value}; {built.step_store.index}: {steps.value}"
