"""flowstatus against a real secured node: the security plugin, TLS on HTTP and transport, internal users.

One node serves the package at a time (devtools.opensearch.SecureNode): tests that
ask for ``secured`` run first on OpenSearch 2.19.4 with
``plugins.security.system_indices.permission.enabled: true``, then those that ask
for ``hidden`` on the same node restarted with it false (the setting is static),
then those that ask for ``secured_3`` on 3.4.0. Items are ordered so, and the node
is stopped at the end of the package. There, ``.plugins-flow-framework-state`` is
a protected system index even without the Flow Framework plugin.

On every node: the role ``flowstatus`` exactly as docs/secured-cluster.md grants it
(docker/secured/flowstatus-role.json) mapped to the user ``flowstatus`` (a
password, or a client certificate with that CN), the user ``everything`` with
``all_access``, and ``partial`` for roles the tests shape. A node that cannot
be started skips the package, and fails it under CI=true.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devtools.opensearch import InternalUser, LauncherError, SecureNode
from flowstatus.settings import DEFAULT_STATE_INDEX, Settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parents[2]
ROLE_FILE = REPO / "docker" / "secured" / "flowstatus-role.json"
STATE_INDEX = DEFAULT_STATE_INDEX
PERMISSIONS = "plugins.security.system_indices.permission.enabled"
# Which node each kind of test needs, in the order they run.
# Every flowstatus process of the package: searches find what was just written; one line per request
# in the log, so that the logs checked for secrets hold every request.
PROCESS_ENV = {"FLOWSTATUS_REFRESH": "wait_for", "FLOWSTATUS_ACCESS_LOG": "true"}
KINDS = {"secured": ("2.19.4", True), "hidden": ("2.19.4", False), "secured_3": ("3.4.0", True)}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run this package's tests grouped by the node they need, in KINDS order, in their own slots."""
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if here in Path(str(item.path)).parents]

    def kind(item: pytest.Item) -> int:
        names = getattr(item, "fixturenames", ())
        return max((rank for rank, name in enumerate(KINDS) if name in names), default=0)

    ordered = sorted((items[i] for i in slots), key=kind)
    for slot, item in zip(slots, ordered, strict=True):
        items[slot] = item


@dataclass
class Secured:
    """A running secured node and what a test needs to talk to it as each caller."""

    node: SecureNode
    version: str
    files: Path
    extra_users: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.node.url

    def password(self, user: str) -> str:
        return self.extra_users.get(user) or self.node.users[user]

    def admin_settings(self, **overrides: Any) -> Settings:
        """Settings of flowstatus authenticating with the admin certificate (mutual TLS)."""
        assert self.node.admin is not None
        admin = {"opensearch_client_cert": str(self.node.admin.cert), "opensearch_client_key": str(self.node.admin.key)}
        return self._settings(**{**admin, **overrides})

    def user_settings(self, user: str | None, **overrides: Any) -> Settings:
        """Settings of flowstatus authenticating as internal ``user`` (HTTP basic; None: no credentials)."""
        if user is None:
            return self._settings(**overrides)
        basic = {"opensearch_username": user, "opensearch_password": self.password(user)}
        return self._settings(**{**basic, **overrides})

    def _settings(self, **overrides: Any) -> Settings:
        base: dict[str, Any] = {"opensearch_hosts": (self.url,), "opensearch_ca_certs": str(self.node.ca_path),
                                # wait_for: a search right after a write finds it.
                                "state_index": STATE_INDEX, "request_timeout": 10.0, "refresh": "wait_for"}
        return Settings(**{**base, **overrides})

    def admin_env(self) -> dict[str, str]:
        """Environment of a flowstatus process authenticating with the admin certificate."""
        return {**self.node.client_env(), **PROCESS_ENV}

    def user_env(self, user: str) -> dict[str, str]:
        """Environment of a flowstatus process authenticating as ``user``, its password in a file."""
        secret = self.files / f"{user}-{uuid.uuid4().hex[:6]}.password"
        secret.write_text(self.password(user) + "\n")
        secret.chmod(0o600)
        return {"OPENSEARCH_URL": self.url, "OPENSEARCH_CA_CERTS": str(self.node.ca_path),
                "OPENSEARCH_USERNAME": user, "OPENSEARCH_PASSWORD_FILE": str(secret), **PROCESS_ENV}

    def security(self, method: str, path: str, body: Any = None) -> Any:
        """A call to the security plugin's REST API as the admin certificate; its JSON answer."""
        status, raw = self.node.request(method, f"/_plugins/_security/api/{path}", body)
        assert status in (200, 201), (method, path, status, raw[:500])
        return json.loads(raw)

    def put_role(self, name: str, role: dict[str, Any], users: list[str]) -> None:
        self.security("PUT", f"roles/{name}", role)
        self.security("PUT", f"rolesmapping/{name}", {"users": users})

    def add_user(self, name: str, password: str) -> None:
        self.security("PUT", f"internalusers/{name}", {"password": password})
        self.extra_users[name] = password

    def state_index(self) -> str:
        """Make sure the state index exists with the plugin's mapping and write alias (as the admin certificate)."""
        from flowstatus.repository.opensearch_state import OpenSearchStateRepository

        OpenSearchStateRepository.from_settings(self.admin_settings()).ensure_index()
        return STATE_INDEX

    def drop_state_index(self) -> None:
        """Delete the state index and its steps index, as the admin certificate."""
        for index in (STATE_INDEX, f"{STATE_INDEX}-flowstatus-steps"):
            status, raw = self.node.request("DELETE", f"/{index}")
            assert status in (200, 404), raw


def service_role() -> dict[str, Any]:
    """The role docs/secured-cluster.md tells operators to create."""
    role: dict[str, Any] = json.loads(ROLE_FILE.read_text())
    return role


class Nodes:
    """At most one secured node at a time, started or restarted on demand."""

    def __init__(self, files: Path) -> None:
        self.files = files
        self.current: Secured | None = None
        self.permissions: bool | None = None

    def get(self, version: str, permissions: bool) -> Secured:
        current = self.current
        if current is not None and current.version == version and self.permissions == permissions:
            return current
        if current is not None and current.version == version:
            # The setting is static: restart the same node (data, users and roles kept) with it changed.
            current.node.stop(keep_run_dir=True)
            current.node._settings[PERMISSIONS] = permissions  # private: the launcher has no setter for it
            self._start(current.node)
            self.permissions = permissions
            return current
        self.stop()
        node = SecureNode(users={"flowstatus": InternalUser(), "everything": InternalUser(roles=("all_access",)),
                                 "partial": InternalUser()},
                          system_index_permissions=permissions, version=version, start_timeout=300)
        self._start(node)
        self.current = Secured(node, version, self.files)
        self.permissions = permissions
        self.current.put_role("flowstatus", service_role(), ["flowstatus"])
        return self.current

    @staticmethod
    def _start(node: SecureNode) -> None:
        try:
            node.start()
        except LauncherError as exc:
            message = f"no secured OpenSearch node could be started: {exc}"
            if IN_CI:
                pytest.fail(message, pytrace=False)
            pytest.skip(message)

    def stop(self) -> None:
        if self.current is not None:
            self.current.node.stop()
            self.current = None


@pytest.fixture(scope="package")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    held = Nodes(tmp_path_factory.mktemp("secured-files"))
    try:
        yield held
    finally:
        held.stop()


@pytest.fixture
def secured(nodes: Nodes) -> Secured:
    """OpenSearch 2.19.4 with the security plugin and system-index permissions on; the state index exists."""
    node = nodes.get(*KINDS["secured"])
    node.state_index()
    return node


@pytest.fixture
def hidden(nodes: Nodes) -> Secured:
    """The 2.19.4 node with ``plugins.security.system_indices.permission.enabled: false``; the state index exists."""
    node = nodes.get(*KINDS["hidden"])
    node.state_index()
    return node


@pytest.fixture
def secured_3(nodes: Nodes) -> Secured:
    """OpenSearch 3.4.0 with the security plugin and system-index permissions on; the state index exists."""
    node = nodes.get(*KINDS["secured_3"])
    node.state_index()
    return node


def secrets_of(secured: Secured, *users: str) -> list[str]:
    """What must never appear in a log, a metric or an answer: the users' passwords and every
    line of the private keys' PEM bodies."""
    found = [secured.password(user) for user in users]
    assert secured.node.admin is not None
    for key in (secured.node.admin.key, *secured.files.glob("*key*.pem")):
        found += [line for line in Path(key).read_text().splitlines() if line and not line.startswith("-----")]
    return found


def assert_secret_free(text: str, secrets: list[str]) -> None:
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"{len(leaked)} secret(s) leaked, e.g. {leaked[0][:6]}..."
