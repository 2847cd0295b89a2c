"""An app with users, roles and the plugin's access rules, on the session's real node."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from pathlib import Path

import bcrypt
import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.settings import Settings

PASSWORD = "correct horse battery staple"
# name -> (backend_roles, roles)
USERS = {
    "admin": ([], ["all_access"]),
    "alice": (["team-a"], ["flow_framework_read_access"]),
    "bob": (["team-b"], ["flow_framework_read_access"]),
    "writer": (["team-a"], ["flow_framework_full_access"]),
    "bobwriter": (["team-b"], ["flow_framework_full_access"]),
    "nobody": (["team-a"], ["some_unrelated_role"]),
}


def write_users(path: Path, users: dict[str, tuple[list[str], list[str]]] = USERS) -> Path:
    """Write an internal_users.yml as OpenSearch security writes it (cheap bcrypt rounds for speed)."""
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$")
    data: dict[str, object] = {"_meta": {"type": "internalusers", "config_version": 2}}
    for name, (backend_roles, roles) in users.items():
        data[name] = {"hash": hashed, "reserved": False, "backend_roles": backend_roles,
                      "opendistro_security_roles": roles, "description": f"test user {name}"}
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The users of :data:`USERS`, all with :data:`PASSWORD`."""
    return write_users(tmp_path_factory.mktemp("security") / "internal_users.yml")


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def secure_settings(settings: Settings, users_file: Path) -> Settings:
    return dataclasses.replace(settings, users_file=str(users_file), filter_by_backend_roles=True)


@pytest.fixture
def make_app(secure_settings: Settings) -> Callable[..., Flask]:
    def make(**changes: object) -> Flask:
        return create_app(dataclasses.replace(secure_settings, **changes))

    return make


@pytest.fixture
def secure(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app().test_client()
