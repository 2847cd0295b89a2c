"""Two owners in two backend roles and two tenants, for the hostile search tests.

alice's values are distinctive strings (:data:`ALICE_SECRETS`); the hostile
search tests search as bob and assert that none of them ever appears in an
answer.  The fixtures that seed them and build the app are in conftest.py.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import bcrypt
import yaml

PASSWORD = "hostile-suite-password"
NOW = int(time.time() * 1000)
MINUTE = 60_000
SEARCH = "/_plugins/_flow_framework/workflow/state/_search"
STATUS = "/_plugins/_flow_framework/workflow/{}/_status"

# name -> (backend roles, roles)
USERS = {
    "alice": (["team-alice-r2"], ["flow_framework_full_access"]),
    "bob": (["team-bob"], ["flow_framework_full_access"]),
    "carol": (["team-carol"], ["flow_framework_read_access"]),
    "admin": ([], ["all_access"]),
}
BOB_TENANT = "tenant-bob"
ALICE_TENANT = "tenant-alice-z3"


def _user(name: str, backend_roles: list[str], roles: list[str]) -> dict[str, Any]:
    return {"name": name, "backend_roles": backend_roles, "roles": roles, "custom_attribute_names": [],
            "user_requested_tenant": None}


def _resource(step: str, rid: str) -> dict[str, str]:
    return {"workflow_step_name": step, "workflow_step_id": f"{step}_1", "resource_type": "model_id", "resource_id": rid}


ALICE_USER = _user("alice-user-n8", ["team-alice-r2"], ["role-alice-r5"])
BOB_USER = _user("bob", ["team-bob"], ["flow_framework_full_access"])

CORPUS: dict[str, dict[str, Any]] = {
    "wf-alice-q7x1": {"workflow_id": "wf-alice-q7x1", "state": "COMPLETED", "provisioning_progress": "DONE",
                      "provision_start_time": NOW - 90 * MINUTE, "provision_end_time": NOW - 80 * MINUTE,
                      "user": ALICE_USER, "tenant_id": ALICE_TENANT, "schema_version": 4,
                      "resources_created": [_resource("register_model_alice_s6", "res-alice-k9p1")]},
    "wf-alice-q7x2": {"workflow_id": "wf-alice-q7x2", "state": "FAILED", "provisioning_progress": "FAILED",
                      "error": "alice-error-text-m4 while creating the index",
                      "provision_start_time": NOW - 50 * MINUTE, "provision_end_time": NOW - 49 * MINUTE,
                      "user": ALICE_USER, "tenant_id": ALICE_TENANT, "all_shared_principals": ["share-alice-p1"],
                      "resources_created": [_resource("create_index", "res-alice-k9p2")]},
    "wf-alice-q7x3": {"workflow_id": "wf-alice-q7x3", "state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
                      "provision_start_time": NOW - 5 * MINUTE, "user": ALICE_USER, "tenant_id": ALICE_TENANT},
    "wf-bob-1": {"workflow_id": "wf-bob-1", "state": "COMPLETED", "provisioning_progress": "DONE",
                 "provision_start_time": NOW - 70 * MINUTE, "provision_end_time": NOW - 60 * MINUTE,
                 "user": BOB_USER, "tenant_id": BOB_TENANT, "schema_version": 4,
                 "resources_created": [_resource("register_model", "res-bob-1")]},
    "wf-bob-2": {"workflow_id": "wf-bob-2", "state": "FAILED", "provisioning_progress": "FAILED",
                 "error": "bob error while creating the index", "provision_start_time": NOW - 40 * MINUTE,
                 "provision_end_time": NOW - 39 * MINUTE, "user": BOB_USER, "tenant_id": BOB_TENANT,
                 "resources_created": [_resource("create_index", "res-bob-2")]},
    "wf-bob-3": {"workflow_id": "wf-bob-3", "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED",
                 "user": BOB_USER, "tenant_id": BOB_TENANT},
}
ALICE_SECRETS = (
    "wf-alice-q7x1", "wf-alice-q7x2", "wf-alice-q7x3", "res-alice-k9p1", "res-alice-k9p2", "register_model_alice_s6",
    ALICE_TENANT, "alice-error-text-m4", "alice-user-n8", "team-alice-r2", "role-alice-r5", "share-alice-p1",
)
"""Everything of alice's that bob must never see: ids, resources, tenant, error text, user values."""


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


def credentials(user: str, tenant: str | None = BOB_TENANT) -> dict[str, str]:
    return {**basic(user), **({"x-tenant-id": tenant} if tenant is not None else {})}


def write_users_with_costs(path: Path, users: dict[str, tuple[list[str], list[str]]], costs: dict[str, int] | None = None) -> Path:
    """An internal_users.yml with ``users`` (all with :data:`PASSWORD`), at bcrypt cost 4 unless ``costs`` says."""
    data: dict[str, Any] = {"_meta": {"type": "internalusers", "config_version": 2}}
    for name, (backend_roles, roles) in users.items():
        cost = (costs or {}).get(name, 4)
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(cost)).decode().replace("$2b$", "$2y$")
        data[name] = {"hash": hashed, "backend_roles": backend_roles, "opendistro_security_roles": roles}
    path.write_text(yaml.safe_dump(data))
    return path


def leaked(text: str) -> list[str]:
    """alice's secrets found in ``text``."""
    return [secret for secret in ALICE_SECRETS if secret in text]
