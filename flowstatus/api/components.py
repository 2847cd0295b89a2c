"""The per-app services the views call, wired once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from flowstatus.domain.access import AccessPolicy
from flowstatus.repository import StateRepository
from flowstatus.services.indexer import StatusIndexer
from flowstatus.services.long_poll import StatusWatcher
from flowstatus.settings import Settings

EXTENSION_KEY = "flowstatus"


@dataclass
class Services:
    settings: Settings
    repository: StateRepository
    indexer: StatusIndexer
    watcher: StatusWatcher
    policy: AccessPolicy


def services() -> Services:
    """The current app's services."""
    return current_app.extensions[EXTENSION_KEY]
