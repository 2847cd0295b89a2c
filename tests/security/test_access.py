"""Who may read and write which workflow: authentication, roles, the plugin's filters."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from opensearchpy import OpenSearch

from tests.conftest import new_id
from tests.security.conftest import PASSWORD, USERS, basic

STATUS = "/_plugins/_flow_framework/workflow/{}/_status"
BULK = "/_flowstatus/_bulk"


def post_events(client: FlaskClient, user: str, *events: dict, headers: dict | None = None) -> list[dict]:
    body = "".join(json.dumps(e) + "\n" for e in events)
    response = client.post(BULK, data=body, content_type="application/x-ndjson", headers={**basic(user), **(headers or {})})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [next(iter(item.values())) for item in response.get_json()["items"]]


def created_by(client: FlaskClient, user: str, headers: dict | None = None) -> str:
    wid = new_id()
    (item,) = post_events(client, user, {"event": "create", "workflow_id": wid}, headers=headers)
    assert item["status"] == 201, item
    return wid


@pytest.mark.parametrize("headers", [
    {}, basic("alice", "wrong"), basic("mallory"), {"Authorization": "Basic !!!not-base64"},
    {"Authorization": "Bearer abc"}, {"Authorization": "Basic " + "YWxpY2U="},  # "alice" without a colon
])
def test_401_without_or_with_wrong_credentials(headers: dict, secure: FlaskClient) -> None:
    for method, path in (("GET", STATUS.format(new_id())), ("POST", BULK), ("GET", "/metrics"), ("GET", "/nowhere")):
        response = secure.open(path, method=method, headers=headers)
        assert response.status_code == 401, path
        assert response.get_json() == {"error": "Unauthorized"}
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_probes_and_the_api_description_need_no_credentials(secure: FlaskClient) -> None:
    assert secure.get("/_health").status_code == 200
    assert secure.get("/_ready").status_code == 200
    assert secure.get("/_flowstatus/openapi.json").status_code == 200


def test_the_owner_and_their_team_read_others_get_403(secure: FlaskClient) -> None:
    wid = created_by(secure, "writer")
    assert secure.get(STATUS.format(wid), headers=basic("writer")).status_code == 200
    assert secure.get(STATUS.format(wid), headers=basic("alice")).status_code == 200  # shares team-a
    refused = secure.get(STATUS.format(wid), headers=basic("bob"))
    assert refused.status_code == 403
    assert refused.get_json() == {"error": f"User does not have permissions to access workflow: {wid}"}
    assert secure.get(STATUS.format(wid), headers=basic("admin")).status_code == 200


def test_create_stamps_the_writers_user(secure: FlaskClient, raw: OpenSearch, state_index: str) -> None:
    wid = created_by(secure, "writer")
    stored = raw.get(index=state_index, id=wid)["_source"]
    assert stored["user"]["name"] == "writer"
    assert stored["user"]["backend_roles"] == ["team-a"]
    assert stored["user"]["roles"] == ["flow_framework_full_access"]
    full = secure.get(STATUS.format(wid) + "?all=true", headers=basic("writer")).get_json()
    assert full["user"]["name"] == "writer"


def test_a_state_without_a_user_is_refused_to_non_admins(secure: FlaskClient, raw: OpenSearch, state_index: str) -> None:
    wid = new_id()
    raw.index(index=state_index, id=wid, body={"workflow_id": wid, "state": "NOT_STARTED",
                                                "provisioning_progress": "NOT_STARTED"})
    assert secure.get(STATUS.format(wid), headers=basic("alice")).status_code == 403
    assert secure.get(STATUS.format(wid), headers=basic("admin")).status_code == 200


def test_filtered_not_found_messages_are_the_plugins(secure: FlaskClient, make_app: Callable[..., Flask]) -> None:
    wid = new_id()
    response = secure.get(STATUS.format(wid), headers=basic("alice"))
    assert (response.status_code, response.get_json()) == (
        404, {"error": f"Failed to retrieve template ({wid}) from global context."})
    missing_index = make_app(state_index=".flowstatus-test-no-such-index").test_client()
    response = missing_index.get(STATUS.format(wid), headers=basic("alice"))
    assert (response.status_code, response.get_json()) == (404, {"error": f"Failed to retrieve template ({wid})."})


def test_a_role_without_flow_framework_permissions_is_403(secure: FlaskClient) -> None:
    wid = created_by(secure, "writer")
    response = secure.get(STATUS.format(wid), headers=basic("nobody"))
    assert (response.status_code, response.get_json()) == (403, {"error": "Failed to get workflow status."})


def test_a_reader_cannot_write(secure: FlaskClient, raw: OpenSearch, state_index: str) -> None:
    wid = new_id()
    body = json.dumps({"event": "create", "workflow_id": wid}) + "\n"
    response = secure.post(BULK, data=body, content_type="application/x-ndjson", headers=basic("alice"))
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["type"] == "security_exception"
    assert error["reason"].startswith("no permissions for [cluster:admin/flowstatus/events/bulk] and User [name=alice")
    assert not raw.exists(index=state_index, id=wid), "a refused write wrote something"


def test_a_writer_of_another_team_cannot_touch_the_workflow(secure: FlaskClient, raw: OpenSearch, state_index: str) -> None:
    wid = created_by(secure, "writer")
    before = raw.get(index=state_index, id=wid)
    (item,) = post_events(secure, "bobwriter", {"event": "provision_started", "workflow_id": wid})
    assert item["status"] == 403
    assert item["error"]["reason"] == f"User does not have permissions to access workflow: {wid}"
    after = raw.get(index=state_index, id=wid)
    assert after["_seq_no"] == before["_seq_no"]
    (ok,) = post_events(secure, "admin", {"event": "provision_started", "workflow_id": wid})
    assert ok["status"] == 200


def test_multi_tenancy(make_app: Callable[..., Flask]) -> None:
    client = make_app(multi_tenancy=True, filter_by_backend_roles=False).test_client()
    missing = client.get(STATUS.format(new_id()), headers=basic("alice"))
    assert (missing.status_code, missing.get_json()) == (403, {"error": "Tenant ID header is missing or has no value"})
    wid = created_by(client, "writer", headers={"x-tenant-id": "tenant-1"})
    own = client.get(STATUS.format(wid) + "?all=true", headers={**basic("alice"), "x-tenant-id": "tenant-1"})
    assert own.status_code == 200 and own.get_json()["tenant_id"] == "tenant-1"
    assert "tenant_id" not in client.get(STATUS.format(wid), headers={**basic("alice"), "x-tenant-id": "tenant-1"}).get_json()
    foreign = client.get(STATUS.format(wid), headers={**basic("admin"), "x-tenant-id": "tenant-2"})
    assert (foreign.status_code, foreign.get_json()) == (403, {"error": "No permission to access this resource"})
    (item,) = post_events(client, "writer", {"event": "provision_started", "workflow_id": wid},
                          headers={"x-tenant-id": "tenant-2"})
    assert item["status"] == 403


def test_the_feature_switch_turns_every_route_off(make_app: Callable[..., Flask]) -> None:
    client = make_app(enabled=False).test_client()
    message = ("This API is disabled. To enable it, update the setting [plugins.flow_framework.enabled] to true.")
    for method, path in (("GET", STATUS.format(new_id())), ("POST", BULK)):
        response = client.open(path, method=method, headers=basic("admin"), data=b"{}\n",
                               content_type="application/x-ndjson")
        assert (response.status_code, response.get_json()) == (403, {"error": message})
    assert client.get("/_health").status_code == 200


def test_trusted_proxy_authentication(make_app: Callable[..., Flask]) -> None:
    trusted = make_app(users_file=None, proxy_trusted=("127.0.0.1/32",)).test_client()
    wid = created_by(make_app().test_client(), "writer")
    headers = {"x-proxy-user": "carol", "x-proxy-roles": "flow_framework_read_access", "x-proxy-backend-roles": "team-a"}
    assert trusted.get(STATUS.format(wid), headers=headers).status_code == 200
    other_team = {**headers, "x-proxy-backend-roles": "team-z"}
    assert trusted.get(STATUS.format(wid), headers=other_team).status_code == 403
    untrusted = make_app(users_file=None, proxy_trusted=("10.0.0.0/8",)).test_client()
    assert untrusted.get(STATUS.format(wid), headers=headers).status_code == 401


def test_passwords_never_reach_the_logs(secure: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secure.get(STATUS.format(new_id()), headers=basic("alice", "hunter2-wrong"))
    secure.get(STATUS.format(new_id()), headers=basic("alice"))
    assert "hunter2-wrong" not in caplog.text and PASSWORD not in caplog.text


def test_odd_headers_are_ignored(secure: FlaskClient) -> None:
    wid = created_by(secure, "writer")
    odd = {**basic("writer"), "If-None-Match": "not even quoted", "X-Request-Id": "<script>", "X-Forwarded-For": "1.2.3.4",
           "x-proxy-user": "admin", "Content-Type": "text/html", "Accept": "application/xml", "X-Tenant-Id": "\x7f"}
    response = secure.get(STATUS.format(wid), headers=odd)
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] != "<script>"


def test_all_users_file_roles_are_honoured() -> None:
    assert {roles[0] for _, roles in USERS.values()} >= {"all_access", "flow_framework_read_access",
                                                         "flow_framework_full_access"}


SEARCH = "/_plugins/_flow_framework/workflow/state/_search"


def searched_ids(client: FlaskClient, user: str, query: dict) -> list[str]:
    response = client.post(SEARCH, json=query, headers=basic(user))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [hit["_id"] for hit in response.get_json()["hits"]["hits"]]


def test_search_and_the_page_apply_the_same_rules_to_authenticated_users(
    secure: FlaskClient, raw: OpenSearch, state_index: str
) -> None:
    mine, theirs = created_by(secure, "writer"), created_by(secure, "bobwriter")
    raw.indices.refresh(index=state_index)
    query = {"query": {"ids": {"values": [mine, theirs]}}, "size": 10}
    assert searched_ids(secure, "alice", query) == [mine]
    assert searched_ids(secure, "bob", query) == [theirs]
    assert sorted(searched_ids(secure, "admin", query)) == sorted([mine, theirs])
    hit = secure.post(SEARCH, json=query, headers=basic("alice")).get_json()["hits"]["hits"][0]
    assert "user" not in hit["_source"]
    admin_hits = secure.post(SEARCH, json=query, headers=basic("admin")).get_json()["hits"]["hits"]
    assert all("user" in h["_source"] for h in admin_hits)
    assert secure.post(SEARCH, json=query).status_code == 401
    assert secure.post(SEARCH, json=query, headers=basic("nobody")).status_code == 403
    assert secure.get("/_flowstatus/ui").status_code == 401
    page = secure.get(f"/_flowstatus/ui/workflow/{theirs}", headers=basic("alice"))
    assert page.status_code == 404, "a workflow the caller may not see is not shown"
    assert secure.get(f"/_flowstatus/ui/workflow/{mine}", headers=basic("alice")).status_code == 200
