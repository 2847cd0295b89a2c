"""docs/secured-cluster.md says what the code needs and what the tests did: its role is the one the
tests create, its groups are the ones flowstatus checks, its REST and securityadmin.sh commands work
as written, and docker/compose.secured.yaml follows it."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowstatus.app import create_app
from flowstatus.repository.opensearch_access import COMPANION_GROUPS, GROUPS, READ_TEMPLATES, RECORD_STEPS
from flowstatus.repository.opensearch_steps import steps_index
from flowstatus.settings import DEFAULT_TEMPLATES_INDEX, ENV_VARS
from tests.conftest import ready_soon
from tests.secured.conftest import REPO, ROLE_FILE, STATE_INDEX, Secured, service_role

PAGE = REPO / "docs" / "secured-cluster.md"
COMPOSE = REPO / "docker" / "compose.secured.yaml"
SETUP = REPO / "docker" / "secured" / "setup.sh"


def blocks(language: str) -> list[str]:
    """The page's fenced code blocks in ``language``, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```$", PAGE.read_text(), re.MULTILINE | re.DOTALL)


def yaml_block(first_key: str, inner: str) -> Any:
    found = [yaml.safe_load(b) for b in blocks("yaml")]
    return next(b for b in found if isinstance(b, dict) and inner in b.get(first_key, {}))


def test_the_page_shows_the_role_file_as_it_is() -> None:
    assert ROLE_FILE.read_text() in [b for b in blocks("json")], "paste docker/secured/flowstatus-role.json into the page"
    assert yaml_block("flowstatus", "cluster_permissions") == {"flowstatus": service_role()}
    assert yaml_block("flowstatus", "users") == {"flowstatus": {"users": ["flowstatus"]}}


def test_the_role_grants_exactly_the_groups_flowstatus_needs_and_the_page_lists_them() -> None:
    role = service_role()
    entry, steps, templates = role["index_permissions"]
    assert (entry["index_patterns"], steps["index_patterns"], templates["index_patterns"]) == (
        [STATE_INDEX], [steps_index(STATE_INDEX)], [DEFAULT_TEMPLATES_INDEX])
    assert sorted(role["cluster_permissions"]) == sorted(p for g in GROUPS for p in g.cluster)
    assert sorted(entry["allowed_actions"]) == sorted(p for g in GROUPS for p in g.index)
    assert (steps["allowed_actions"], templates["allowed_actions"]) == (
        list(RECORD_STEPS.index), list(READ_TEMPLATES.index))
    rows = {line.split("|")[1].strip(): line for line in PAGE.read_text().splitlines() if line.startswith("| ")}
    for group in GROUPS + COMPANION_GROUPS:
        row = rows[group.work]
        cluster, index = row.split("|")[2:4]
        assert re.findall(r"`([^`]+)`", cluster) == list(group.cluster), group.work
        assert re.findall(r"`([^`]+)`", index) == list(group.index), group.work


def test_the_secured_compose_file_follows_the_page() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    opensearch, setup, flowstatus = (compose["services"][s] for s in ("opensearch", "security-setup", "flowstatus"))
    assert opensearch["environment"]["plugins.security.system_indices.permission.enabled"] == "true"
    assert opensearch["environment"]["OPENSEARCH_INITIAL_ADMIN_PASSWORD"].startswith("${")  # never a literal
    env = flowstatus["environment"]
    assert set(env) <= set(ENV_VARS) and "OPENSEARCH_PASSWORD" not in env
    host = env["OPENSEARCH_URL"].removeprefix("https://").split(":")[0]
    assert host in opensearch["networks"]["default"]["aliases"] and f"OS=https://{host}:9200" in SETUP.read_text()
    secrets = next(v.split(":")[1] for v in flowstatus["volumes"] if v.startswith("flowstatus-secrets:"))
    assert Path(env["OPENSEARCH_PASSWORD_FILE"]).parent == Path(env["OPENSEARCH_CA_CERTS"]).parent == Path(secrets)
    assert "./secured:/setup:ro" in setup["volumes"] and "-d @/setup/flowstatus-role.json" in SETUP.read_text()
    assert flowstatus["depends_on"] == {"security-setup": {"condition": "service_completed_successfully"}}
    for service in compose["services"].values():
        assert all(str(port).startswith("127.0.0.1:") for port in service.get("ports", []))
    subprocess.run(["bash", "-n", str(SETUP)], check=True, timeout=30)


@pytest.fixture
def without_the_role(secured: Secured) -> Iterator[Secured]:
    """The node without the role ``flowstatus`` and its mapping; both are back afterwards, whatever happened."""
    secured.security("DELETE", "rolesmapping/flowstatus")
    secured.security("DELETE", "roles/flowstatus")
    try:
        yield secured
    finally:
        secured.put_role("flowstatus", service_role(), ["flowstatus"])


def test_the_rest_commands_of_the_page_grant_what_flowstatus_needs(without_the_role: Secured, tmp_path: Path) -> None:
    secured = without_the_role
    (commands,) = [b for b in blocks("sh") if "/_plugins/_security/api/roles/flowstatus" in b]
    ready = create_app(secured.user_settings("flowstatus")).test_client()
    assert ready.get("/_ready").status_code == 503
    assert secured.node.admin is not None
    (tmp_path / "flowstatus-password").write_text(secured.password("flowstatus"))
    script = re.sub(r"^OS=.*$", f"OS={secured.url}", commands, flags=re.MULTILINE)
    script = re.sub(r"^ADMIN=.*$", f'ADMIN="--cacert {secured.node.ca_path} --cert {secured.node.admin.cert} '
                                   f'--key {secured.node.admin.key}"', script, flags=re.MULTILINE)
    script = script.replace("@docker/secured/", f"@{ROLE_FILE.parent}/")
    subprocess.run(["bash", "-euc", script], cwd=tmp_path, check=True, timeout=60, capture_output=True)
    assert ready_soon(ready).get_json() == {"status": "ready"}


def test_the_securityadmin_commands_of_the_page_grant_what_flowstatus_needs(without_the_role: Secured,
                                                                           tmp_path: Path) -> None:
    secured = without_the_role
    (commands,) = [b for b in blocks("sh") if "securityadmin.sh" in b]
    backup, upload = (line for line in commands.splitlines() if line.startswith("$TOOLS/securityadmin.sh"))
    node = secured.node
    assert node.install is not None and node.admin is not None
    env = {"TOOLS": str(node.install.home / "plugins" / "opensearch-security" / "tools"),
           "CERTS": f"-cacert {node.ca_path} -cert {node.admin.cert} -key {node.admin.key}",
           "OPENSEARCH_JAVA_HOME": str(node.config.java_home), "PATH": "/usr/bin:/bin"}

    def run(line: str) -> None:
        line = line.replace("$TOOLS/", "bash $TOOLS/").replace("/tmp/security", str(tmp_path))
        line = line.replace("-h opensearch.example.com -p 9200", f"-h 127.0.0.1 -p {node.http_port}")
        done = subprocess.run(["bash", "-euc", line], env=env, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0 and "ERR" not in done.stdout, done.stdout[-2000:]

    run(backup)
    for name, key in (("roles.yml", "cluster_permissions"), ("roles_mapping.yml", "users")):
        with (tmp_path / name).open("a") as config:
            config.write("\n" + yaml.safe_dump(yaml_block("flowstatus", key), sort_keys=False))
    run(upload)
    client = create_app(secured.user_settings("flowstatus")).test_client()
    assert client.get("/_ready").get_json() == {"status": "ready"}
    assert json.loads(node.request("GET", "/_plugins/_security/api/roles/flowstatus")[1])["flowstatus"][
        "cluster_permissions"] == service_role()["cluster_permissions"]
