"""The settings' environment variables: names, types and allowed values.

:func:`flowstatus.settings.load_settings` loads the environment through
:class:`SettingsSchema`; each field's ``data_key`` is its variable.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema


class _HostList(fields.Field):
    """A comma-separated list of OpenSearch URLs."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[str, ...]:
        hosts = tuple(h.strip() for h in str(value).split(",") if h.strip())
        if not hosts:
            raise ValidationError("Give at least one URL, e.g. http://127.0.0.1:9200.")
        for host in hosts:
            if not host.startswith(("http://", "https://")):
                raise ValidationError(f"{host!r} is not an http:// or https:// URL.")
        return hosts


class _Networks(fields.Field):
    """A comma-separated list of IP addresses or CIDR networks."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[str, ...]:
        networks = tuple(n.strip() for n in str(value).split(",") if n.strip())
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValidationError(f"{network!r} is not an IP address or network.") from None
        return networks


# What OpenSearch accepts as an index name (lower case, none of its reserved characters).
INDEX_NAME = r"^[^A-Z\s,\"*\\<|>/?#:]+$"


class SettingsSchema(Schema):
    """Environment variables -> the keyword arguments of :class:`flowstatus.settings.Settings`."""

    class Meta:
        unknown = RAISE

    opensearch_hosts = _HostList(data_key="OPENSEARCH_URL")
    opensearch_username = fields.String(data_key="OPENSEARCH_USERNAME")
    opensearch_password = fields.String(data_key="OPENSEARCH_PASSWORD")
    opensearch_username_file = fields.String(data_key="OPENSEARCH_USERNAME_FILE")
    opensearch_password_file = fields.String(data_key="OPENSEARCH_PASSWORD_FILE")
    opensearch_verify_certs = fields.Boolean(data_key="OPENSEARCH_VERIFY_CERTS")
    opensearch_ca_certs = fields.String(data_key="OPENSEARCH_CA_CERTS")
    opensearch_client_cert = fields.String(data_key="OPENSEARCH_CLIENT_CERT")
    opensearch_client_key = fields.String(data_key="OPENSEARCH_CLIENT_KEY")
    state_index = fields.String(data_key="FLOWSTATUS_STATE_INDEX", validate=validate.Regexp(INDEX_NAME))
    templates_index = fields.String(data_key="FLOWSTATUS_TEMPLATES_INDEX", validate=validate.Regexp(INDEX_NAME))
    request_timeout = fields.Float(
        data_key="FLOWSTATUS_REQUEST_TIMEOUT", validate=validate.Range(min=0.1, max=300)
    )
    pool_size = fields.Integer(data_key="FLOWSTATUS_POOL_SIZE", validate=validate.Range(1, 1024))
    retry_after = fields.Integer(data_key="FLOWSTATUS_RETRY_AFTER", validate=validate.Range(1, 3600))
    refresh = fields.String(
        data_key="FLOWSTATUS_REFRESH", validate=validate.OneOf(["false", "true", "wait_for"])
    )
    wait_for_active_shards = fields.String(
        data_key="FLOWSTATUS_WAIT_FOR_ACTIVE_SHARDS", validate=validate.Regexp(r"^(all|[1-9][0-9]*)$")
    )
    conflict_retries = fields.Integer(
        data_key="FLOWSTATUS_CONFLICT_RETRIES", validate=validate.Range(0, 100)
    )
    max_bulk_bytes = fields.Integer(
        data_key="FLOWSTATUS_MAX_BULK_BYTES", validate=validate.Range(1024, 1024**3)
    )

    body_timeout = fields.Float(data_key="FLOWSTATUS_BODY_TIMEOUT", validate=validate.Range(min=0.1, max=3600))
    max_bodies_per_client = fields.Integer(
        data_key="FLOWSTATUS_MAX_BODIES_PER_CLIENT", validate=validate.Range(min=0, max=100_000)
    )
    long_poll_max = fields.Float(data_key="FLOWSTATUS_LONG_POLL_MAX", validate=validate.Range(min=0, max=3600))
    long_poll_interval = fields.Float(
        data_key="FLOWSTATUS_LONG_POLL_INTERVAL", validate=validate.Range(min=0.01, max=60)
    )
    long_poll_max_waiters = fields.Integer(
        data_key="FLOWSTATUS_LONG_POLL_MAX_WAITERS", validate=validate.Range(min=0, max=100_000)
    )
    filter_by_backend_roles = fields.Boolean(data_key="FLOWSTATUS_FILTER_BY_BACKEND_ROLES")
    multi_tenancy = fields.Boolean(data_key="FLOWSTATUS_MULTI_TENANCY")
    enabled = fields.Boolean(data_key="FLOWSTATUS_ENABLED")
    users_file = fields.String(data_key="FLOWSTATUS_USERS_FILE")
    auth_cache_ttl = fields.Float(data_key="FLOWSTATUS_AUTH_CACHE_TTL", validate=validate.Range(min=0, max=86400))
    proxy_trusted = _Networks(data_key="FLOWSTATUS_PROXY_TRUSTED")
    proxy_user_header = fields.String(data_key="FLOWSTATUS_PROXY_USER_HEADER")
    proxy_roles_header = fields.String(data_key="FLOWSTATUS_PROXY_ROLES_HEADER")
    proxy_backend_roles_header = fields.String(data_key="FLOWSTATUS_PROXY_BACKEND_ROLES_HEADER")
    access_log = fields.Boolean(data_key="FLOWSTATUS_ACCESS_LOG")
    log_level = fields.String(
        data_key="FLOWSTATUS_LOG_LEVEL", validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"])
    )
    workflow_metrics = fields.Boolean(data_key="FLOWSTATUS_WORKFLOW_METRICS")
    workflow_metrics_interval = fields.Float(
        data_key="FLOWSTATUS_WORKFLOW_METRICS_INTERVAL", validate=validate.Range(min=1, max=3600)
    )
    workflow_metrics_tenants = fields.Integer(
        data_key="FLOWSTATUS_WORKFLOW_METRICS_TENANTS", validate=validate.Range(min=0, max=100)
    )
    step_observer = fields.Boolean(data_key="FLOWSTATUS_STEP_OBSERVER")
    step_observer_interval = fields.Float(
        data_key="FLOWSTATUS_STEP_OBSERVER_INTERVAL", validate=validate.Range(min=0.1, max=60)
    )

    @validates_schema
    def _one_source_per_credential(self, data: dict[str, Any], **kwargs: Any) -> None:
        # Two sources would leave it unclear which one a reload reads.
        for name in ("username", "password"):
            if data.get(f"opensearch_{name}") is not None and data.get(f"opensearch_{name}_file") is not None:
                raise ValidationError(
                    f"Set OPENSEARCH_{name.upper()} or OPENSEARCH_{name.upper()}_FILE, not both.",
                    f"OPENSEARCH_{name.upper()}_FILE",
                )
        has_user = data.get("opensearch_username") is not None or data.get("opensearch_username_file") is not None
        if data.get("opensearch_password_file") is not None and not has_user:
            raise ValidationError(
                "A password needs a user name: set OPENSEARCH_USERNAME or OPENSEARCH_USERNAME_FILE.",
                "OPENSEARCH_PASSWORD_FILE",
            )

    @validates_schema
    def _tenants_need_multi_tenancy(self, data: dict[str, Any], **kwargs: Any) -> None:
        # Without multi-tenancy no workflow is stamped with a tenant: the breakdown would say nothing.
        if data.get("workflow_metrics_tenants", 0) > 0 and not data.get("multi_tenancy", False):
            raise ValidationError(
                "A per-tenant breakdown needs FLOWSTATUS_MULTI_TENANCY=true.", "FLOWSTATUS_WORKFLOW_METRICS_TENANTS"
            )
