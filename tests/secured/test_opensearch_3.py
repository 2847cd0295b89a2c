"""The same on OpenSearch 3.4.0 with security 3.4.0.0: the admin certificate and the documented role
work, an all_access user is refused and told why."""

from __future__ import annotations

from flowstatus.app import create_app
from flowstatus.composition import Components
from flowstatus.repository.port import IndexReport
from tests.secured.conftest import STATE_INDEX, Secured
from tests.secured.flows import work_through_client


def test_the_admin_certificate_works(secured_3: Secured) -> None:
    client = create_app(secured_3.admin_settings()).test_client()
    assert client.get("/_ready").get_json() == {"status": "ready"}
    work_through_client(client)


def test_the_documented_role_creates_the_index_and_works(secured_3: Secured) -> None:
    secured_3.drop_state_index()
    assert Components(secured_3.user_settings("flowstatus")).repository.ensure_index() is IndexReport.CREATED
    client = create_app(secured_3.user_settings("flowstatus")).test_client()
    assert client.get("/_ready").get_json() == {"status": "ready"}
    work_through_client(client)


def test_all_access_is_refused_and_told_why(secured_3: Secured) -> None:
    ready = create_app(secured_3.user_settings("everything")).test_client().get("/_ready")
    assert ready.status_code == 503
    assert ready.get_json()["reason"].startswith(
        f"OpenSearch refuses flowstatus's user access to the state index {STATE_INDEX} (403 security_exception: "
        "no permissions for []): it is a protected system index")
