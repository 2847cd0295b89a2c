"""The fast status path answers exactly as the Flask view does, and leaves everything else to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

from flowstatus.api.status_fast import FastStatus
from flowstatus.app import create_app
from flowstatus.repository.errors import StoreUnavailable
from flowstatus.repository.memory import InMemoryStateRepository, InMemoryStateSearch
from flowstatus.settings import Settings
from tests.api.conftest import put
from tests.security.conftest import basic, write_users

STATUS = "/_plugins/_flow_framework/workflow/{}/_status"
ALICE_USER = {"name": "alice", "backend_roles": ["team-a"], "roles": [], "custom_attribute_names": [],
              "user_requested_tenant": None}
R = {"workflow_step_name": "create_index", "workflow_step_id": "s1", "resource_type": "index_name",
     "resource_id": "i1"}


class Unavailable(InMemoryStateRepository):
    def get(self, workflow_id: str) -> Any:
        raise StoreUnavailable("OpenSearch is unreachable")


def _store(repo: InMemoryStateRepository) -> InMemoryStateRepository:
    repo.ensure_index()
    put(repo, "mine", {"workflow_id": "mine", "state": "COMPLETED", "provisioning_progress": "DONE",
                       "provision_start_time": 1, "provision_end_time": 2, "user": ALICE_USER,
                       "resources_created": [R], "tenant_id": "t1"})
    put(repo, "broken", {"workflow_id": "broken", "user_outputs": {"k": [1]}})
    return repo


def answer(wsgi: Callable[..., Any], path: str, headers: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
    environ = EnvironBuilder(path=path, headers=headers).get_environ()
    got: list[Any] = []
    body = b"".join(wsgi(environ, lambda status, head, exc_info=None: got.extend([status, head])))
    status, head = got
    return status, {k.lower(): v for k, v in head}, body


def both(app: Flask, path: str, headers: dict[str, str]) -> None:
    """The fast path answers, without Flask, what Flask answers."""
    fast = app.wsgi_app
    assert isinstance(fast, FastStatus)
    calls: list[str] = []
    flask = fast.flask
    fast.flask = lambda environ, start: (calls.append(environ["PATH_INFO"]), flask(environ, start))[1]
    try:
        quick = answer(fast, path, headers)
    finally:
        fast.flask = flask
    assert not calls, "the fast path gave a plain request to Flask"
    slow = answer(flask, path, headers)
    for found in (quick, slow):
        if "x-request-id" not in {k.lower() for k in headers}:
            found[1].pop("x-request-id")
    assert quick == slow


@pytest.fixture
def users(tmp_path: Any) -> str:
    return str(write_users(tmp_path / "users.yml"))


def make(repo: InMemoryStateRepository | None = None, **settings: Any) -> Flask:
    repo = _store(repo or InMemoryStateRepository())
    return create_app(Settings(**settings), repository=repo, search=InMemoryStateSearch(repo))


@pytest.mark.parametrize("path", [STATUS.format("mine"), STATUS.format("mine") + "?all=true",
                                  STATUS.format("mine") + "?all", STATUS.format("mine") + "?all=false",
                                  STATUS.format("absent"), STATUS.format("broken")])
def test_plain_reads_answer_alike(path: str) -> None:
    both(make(), path, {})


def test_etags_and_request_ids_answer_alike() -> None:
    app = make()
    tag = answer(app.wsgi_app, STATUS.format("mine"), {})[1]["etag"]
    both(app, STATUS.format("mine"), {"If-None-Match": tag})
    both(app, STATUS.format("mine"), {"If-None-Match": '"other"'})
    both(app, STATUS.format("mine"), {"X-Request-Id": "my-id-1"})
    both(app, STATUS.format("mine"), {"X-Opaque-Id": "bad id with spaces"})


def test_access_rules_answer_alike(users: str) -> None:
    app = make(users_file=users, filter_by_backend_roles=True)
    both(app, STATUS.format("mine"), {})  # 401
    both(app, STATUS.format("mine"), basic("alice"))  # allowed, shares team-a
    both(app, STATUS.format("mine"), basic("bob"))  # 403, another team
    both(app, STATUS.format("mine"), basic("nobody"))  # 403, no role
    both(app, STATUS.format("mine"), basic("alice", "wrong"))  # 401
    tenants = make(multi_tenancy=True)
    both(tenants, STATUS.format("mine"), {})  # no tenant header
    both(tenants, STATUS.format("mine"), {"x-tenant-id": "t2"})
    both(tenants, STATUS.format("mine"), {"x-tenant-id": "t1"})
    both(make(enabled=False), STATUS.format("mine"), {})


def test_an_unavailable_store_answers_alike() -> None:
    both(make(Unavailable(), retry_after=7), STATUS.format("mine"), {})


@pytest.mark.parametrize("path", [
    STATUS.format("mine") + "?pretty", STATUS.format("mine") + "?filter_path=state", STATUS.format("mine") + "?al=1",
    STATUS.format("mine") + "?all=true&all=false", STATUS.format("mine") + "?wait_for_completion_timeout=1s",
    STATUS.format("a%2Fb"), STATUS.format("x" * 300), "/_plugins/_flow_framework/workflow/state/_search",
])
def test_everything_else_goes_to_flask(path: str) -> None:
    app = make()
    calls: list[str] = []
    flask = app.wsgi_app.flask
    app.wsgi_app.flask = lambda environ, start: (calls.append(path), flask(environ, start))[1]
    answer(app.wsgi_app, path, {})
    assert calls == [path]


def test_metrics_count_fast_reads_under_the_route() -> None:
    client = make().test_client()
    route = "/_plugins/_flow_framework/workflow/<workflow_id:workflow_id>/_status"

    def count() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        return sum(float(x.rsplit(" ", 1)[1]) for x in text.splitlines()
                   if x.startswith("flowstatus_http_requests_total{") and f'route="{route}"' in x
                   and 'method="GET"' in x and 'status="200"' in x)

    before = count()
    for _ in range(3):
        client.get(STATUS.format("mine"))
    assert count() == before + 3


