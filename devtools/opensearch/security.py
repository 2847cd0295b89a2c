"""A secured single node: the security plugin, TLS everywhere, internal users.

The security plugin (``org.opensearch.plugin:opensearch-security``, version =
OpenSearch version + ``.0``) is on Maven Central for 2.19.3, 2.19.4 and
3.4.0 among others, not for 2.19.6: a secured node defaults to 2.19.4. It
loads only on its exact OpenSearch version; from 3.3 on, only once adapted
to the integ-test distribution (securityzip.py).

The node makes its own CA, node and admin certificates (pki.py) in
``<run>/pki/`` and initialises the security index from the YAML files in its
config at first start (``plugins.security.allow_default_init_securityindex``),
so no securityadmin run is needed. Authentication: HTTP basic against the
internal users (challenging, so no credentials answer 401), and client
certificates (CN = user name); the admin certificate is the super admin.
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from .node import LocalNode
from .pki import CertFiles, Pki
from .plugins import Plugin, PluginSet
from .securityzip import without_rule_framework
from .settings import LauncherError, resolve_settings
from .util import basic_auth, http_request

DEFAULT_SECURE_VERSION = "2.19.4"
ADMIN_USER = "admin"
# The Flow Framework's indices, listed as protected system indices the way the
# security plugin's demo configuration lists them (with many others).
FLOW_FRAMEWORK_SYSTEM_INDICES = (
    ".plugins-flow-framework-config",
    ".plugins-flow-framework-templates",
    ".plugins-flow-framework-state",
)
# Low bcrypt cost: these are throwaway users of a test node, and every basic
# auth request (until the plugin's cache holds it) pays the cost again.
_BCRYPT_ROUNDS = 8


def security_plugins(version: str) -> PluginSet:
    """The plugin set of a secured node on OpenSearch ``version`` (3.3+:
    adapted to the integ-test distribution, see securityzip.py)."""
    return PluginSet("security", (Plugin.maven("opensearch-security", "org.opensearch.plugin",
                                               "opensearch-security", f"{version}.0",
                                               adapt=without_rule_framework),))


@dataclass(frozen=True)
class InternalUser:
    """A user of the internal user database.

    ``password`` None means a random one (read it from ``SecureNode.users``);
    ``roles`` are security roles the user is mapped to (roles_mapping.yml);
    ``backend_roles`` are stored with the user.
    """

    password: str | None = None
    roles: Sequence[str] = ()
    backend_roles: Sequence[str] = ()


class SecureNode(LocalNode):
    """A single node with the security plugin, TLS on HTTP and transport.

    ``users`` are added to an ``admin`` user (role all_access); ``roles``
    become roles.yml entries (added to the plugin's own) and
    ``role_mappings`` roles_mapping.yml entries (``users`` of InternalUser.roles
    are added to them). ``system_index_permissions`` sets
    ``plugins.security.system_indices.permission.enabled`` (then a role may
    grant ``system:admin/system_index``). Other keyword arguments are
    LocalNode's; ``settings`` win over the ones made here.

    Files exist from :meth:`start` on and until the run dir is removed:
    :attr:`ca_path`, :attr:`admin` (cert, key, DN). The launcher's own
    requests (:meth:`request`, readiness) use the admin certificate.
    """

    def __init__(self, *, users: Mapping[str, InternalUser] | None = None,
                 roles: Mapping[str, Mapping[str, Any]] | None = None,
                 role_mappings: Mapping[str, Mapping[str, Any]] | None = None,
                 system_index_permissions: bool = False, version: str | None = None,
                 cache_dir: str | Path | None = None, name: str = "node-0",
                 settings: Mapping[str, object] | None = None, **kwargs: Any) -> None:
        version = resolve_settings(version, cache_dir=cache_dir, check_java=False,
                                   default_version=DEFAULT_SECURE_VERSION).version
        all_users = {ADMIN_USER: InternalUser(roles=("all_access",), backend_roles=("admin",)),
                     **(users or {})}
        self.users = {user: spec.password or secrets.token_urlsafe(16) for user, spec in all_users.items()}
        self._user_specs = all_users
        self._roles = dict(roles or {})
        self._role_mappings = {role: dict(mapping) for role, mapping in (role_mappings or {}).items()}
        self.admin_dn = Pki.dn("admin", "clients")
        self.node_dn = Pki.dn(name, "nodes")
        tls = {f"plugins.security.ssl.{layer}.{kind}_filepath": file
               for layer in ("transport", "http")
               for kind, file in (("pemcert", "node.pem"), ("pemkey", "node-key.pem"),
                                  ("pemtrustedcas", "ca.pem"))}
        secured: dict[str, object] = {
            **tls,
            "plugins.security.ssl.http.enabled": True,
            # Certificates carry SAN 127.0.0.1, but a node's transport may name
            # itself otherwise; nothing but loopback is ever reached anyway.
            "plugins.security.ssl.transport.enforce_hostname_verification": False,
            "plugins.security.allow_default_init_securityindex": True,
            "plugins.security.authcz.admin_dn": [self.admin_dn],
            "plugins.security.nodes_dn": [self.node_dn],
            "plugins.security.restapi.roles_enabled": ["all_access", "security_rest_api_access"],
            "plugins.security.system_indices.enabled": True,
            "plugins.security.system_indices.indices": list(FLOW_FRAMEWORK_SYSTEM_INDICES),
            "plugins.security.system_indices.permission.enabled": system_index_permissions,
        }
        super().__init__(version=version, cache_dir=cache_dir, name=name, plugins=security_plugins(version),
                         settings={**secured, **(settings or {})}, **kwargs)
        self._pki: Pki | None = None
        self.admin: CertFiles | None = None
        self._admin_context: ssl.SSLContext | None = None
        self._ca_context: ssl.SSLContext | None = None

    @property
    def scheme(self) -> str:
        return "https"

    @property
    def ca_path(self) -> Path:
        """The CA bundle (PEM) that signed the node's certificate."""
        return self.run_dir / "pki" / "ca.pem"

    def client_env(self) -> dict[str, str]:
        """OPENSEARCH_URL, OPENSEARCH_CA_CERTS and the admin certificate as
        OPENSEARCH_CLIENT_CERT / OPENSEARCH_CLIENT_KEY (names flowstatus reads)."""
        env = super().client_env()
        env["OPENSEARCH_CA_CERTS"] = str(self.ca_path)
        if self.admin is not None:
            env.update(OPENSEARCH_CLIENT_CERT=str(self.admin.cert), OPENSEARCH_CLIENT_KEY=str(self.admin.key))
        return env

    def issue_client_cert(self, user: str) -> CertFiles:
        """A client certificate with CN ``user``, signed by the node's CA; the
        node authenticates it as ``user`` (map that name in role_mappings).
        Raises LauncherError before :meth:`start`, which makes the CA."""
        if self._pki is None:
            raise LauncherError("issue_client_cert() needs a started node")
        return self._pki.issue(user)

    def request_as(self, user: str | None, method: str, path: str, body: Any | None = None, *,
                   timeout: float = 10.0) -> tuple[int, bytes]:
        """Send one request as internal user ``user`` (basic auth; no client
        certificate), or with no credentials at all if ``user`` is None.
        Raises KeyError for a user the node does not have, OSError when no
        HTTP answer came."""
        headers = basic_auth(user, self.users[user]) if user is not None else {}
        return http_request(method, self.url + path, body, timeout, context=self._ca_context, headers=headers)

    def _tls_context(self) -> ssl.SSLContext | None:
        return self._admin_context

    def _configure(self, conf: Path) -> None:
        """Make the PKI once (kept across restarts), put the node's files in
        ``conf`` and write the security plugin's users, roles and mappings."""
        if self._pki is None:
            self._pki = Pki(self.run_dir / "pki")
            self._pki.issue(self.name, server=True, unit="nodes")
            self.admin = self._pki.issue("admin")
            self._ca_context = ssl.create_default_context(cafile=str(self.ca_path))
            self._admin_context = ssl.create_default_context(cafile=str(self.ca_path))
            self._admin_context.load_cert_chain(str(self.admin.cert), str(self.admin.key))
        pki = self.run_dir / "pki"
        for src, dest in (("ca.pem", "ca.pem"), (f"{self.name}.pem", "node.pem"),
                          (f"{self.name}-key.pem", "node-key.pem")):
            (conf / dest).write_bytes((pki / src).read_bytes())
        _write_security_config(conf / "opensearch-security", self._user_specs, self.users,
                               self._roles, self._role_mappings)

    def _ready(self, status: str) -> bool:
        """Health reached ``status`` (admin certificate) and the internal users
        are loaded (the admin user authenticates)."""
        if not super()._ready(status):
            return False
        try:
            return self.request_as(ADMIN_USER, "GET", "/_plugins/_security/authinfo", timeout=5.0)[0] == 200
        except OSError:
            return False


def _write_security_config(folder: Path, specs: Mapping[str, InternalUser], passwords: Mapping[str, str],
                           roles: Mapping[str, Mapping[str, Any]],
                           role_mappings: Mapping[str, Mapping[str, Any]]) -> None:
    """Rewrite config.yml, internal_users.yml and roles_mapping.yml in the
    plugin's config ``folder``; add ``roles`` to its roles.yml."""
    def meta(kind: str) -> dict[str, Any]:
        return {"_meta": {"type": kind, "config_version": 2}}

    def dump(name: str, data: Mapping[str, Any]) -> None:
        (folder / name).write_text(yaml.safe_dump(dict(data), sort_keys=False))

    users = {user: {"hash": bcrypt.hashpw(passwords[user].encode(), bcrypt.gensalt(_BCRYPT_ROUNDS)).decode(),
                    "backend_roles": list(spec.backend_roles), "description": "made by the launcher"}
             for user, spec in specs.items()}
    mappings = {role: {"users": list(m.get("users", [])), **m} for role, m in role_mappings.items()}
    for user, spec in specs.items():
        for role in spec.roles:
            entry = mappings.setdefault(role, {"users": []})
            entry["users"] = [*entry.get("users", []), user]
    existing = yaml.safe_load((folder / "roles.yml").read_text()) or {}
    # Client certificates first: a challenging domain answers 401 as soon as
    # its own credentials are missing, so basic auth must be tried last.
    authc = {
        "clientcert_auth_domain": {
            "http_enabled": True, "transport_enabled": False, "order": 0,
            "http_authenticator": {"type": "clientcert", "config": {"username_attribute": "cn"},
                                   "challenge": False},
            "authentication_backend": {"type": "noop"},
        },
        "basic_internal_auth_domain": {
            "http_enabled": True, "transport_enabled": True, "order": 1,
            # challenge: a request without credentials answers 401 with WWW-Authenticate
            "http_authenticator": {"type": "basic", "challenge": True},
            "authentication_backend": {"type": "intern"},
        },
    }
    dump("config.yml", {**meta("config"), "config": {"dynamic": {
        "http": {"anonymous_auth_enabled": False}, "authc": authc, "authz": {}}}})
    dump("internal_users.yml", {**meta("internalusers"), **users})
    dump("roles_mapping.yml", {**meta("rolesmapping"), **mappings})
    dump("roles.yml", {**existing, **meta("roles"), **{role: dict(body) for role, body in roles.items()}})
