"""Settings, read once from environment variables.

Every setting has an environment variable (see
:class:`flowstatus.schemas.settings.SettingsSchema`) and a
default that works against a local, unsecured OpenSearch.  Invalid values stop
the process at start with a message naming the variable, never later on a
request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from marshmallow import ValidationError

from flowstatus.schemas.settings import SettingsSchema

DEFAULT_STATE_INDEX = ".plugins-flow-framework-state"
DEFAULT_TEMPLATES_INDEX = ".plugins-flow-framework-templates"


@dataclass(frozen=True)
class Settings:
    """What the app factory and the CLI need to know; immutable once loaded."""

    opensearch_hosts: tuple[str, ...] = ("http://127.0.0.1:9200",)
    opensearch_username: str | None = None
    opensearch_password: str | None = field(default=None, repr=False)
    # Files read whenever a process builds its OpenSearch client (each new
    # worker), so replacing them and reloading rotates the credentials.
    opensearch_username_file: str | None = None
    opensearch_password_file: str | None = None
    opensearch_verify_certs: bool = True
    opensearch_ca_certs: str | None = None
    opensearch_client_cert: str | None = None
    opensearch_client_key: str | None = None
    state_index: str = DEFAULT_STATE_INDEX
    request_timeout: float = 5.0
    pool_size: int = 32
    retry_after: int = 5
    refresh: str = "false"
    wait_for_active_shards: str = "1"
    conflict_retries: int = 8
    max_bulk_bytes: int = 10 * 1024 * 1024
    body_timeout: float = 10.0
    max_bodies_per_client: int = 16
    long_poll_max: float = 60.0
    long_poll_interval: float = 0.25
    long_poll_max_waiters: int = 1000
    filter_by_backend_roles: bool = False
    multi_tenancy: bool = False
    enabled: bool = True
    users_file: str | None = None
    auth_cache_ttl: float = 300.0
    proxy_trusted: tuple[str, ...] = ()
    proxy_user_header: str = "x-proxy-user"
    proxy_roles_header: str = "x-proxy-roles"
    proxy_backend_roles_header: str = "x-proxy-backend-roles"
    access_log: bool = False
    log_level: str = "INFO"
    workflow_metrics: bool = True
    workflow_metrics_interval: float = 15.0
    workflow_metrics_tenants: int = 0
    templates_index: str = DEFAULT_TEMPLATES_INDEX
    step_observer: bool = True
    step_observer_interval: float = 1.0


ENV_VARS = tuple(str(f.data_key) for f in SettingsSchema().fields.values())
"""Every variable :func:`load_settings` reads."""


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read :class:`Settings` from ``environ`` (default ``os.environ``).

    Only the variables named in :data:`ENV_VARS` are read; empty ones count as
    unset.  Raises ``ValueError`` naming each bad variable.
    """
    environ = os.environ if environ is None else environ
    present = {k: environ[k] for k in ENV_VARS if environ.get(k, "") != ""}
    try:
        return Settings(**SettingsSchema().load(present))
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(exc.messages_dict.items()))
        raise ValueError(f"invalid configuration: {problems}") from None
