"""TLS with a secured node: the CA bundle that signed its certificate is trusted; anything else is a
clear error at start (``flowstatus serve`` exits, ``/_ready`` says why), never a 500 later."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.opensearch.pki import Pki
from flowstatus.app import create_app
from flowstatus.repository.errors import StoreSettingsError
from tests.conftest import new_id
from tests.secured.conftest import Secured
from tests.secured.flows import STATUS, serve_start_output, serve_until_exit, work_through_client


def test_the_ca_bundle_verifies_the_node_and_every_route_works(secured: Secured) -> None:
    client = create_app(secured.admin_settings()).test_client()
    assert client.get("/_ready").get_json() == {"status": "ready"}
    work_through_client(client)


def test_another_ca_makes_ready_say_so_and_requests_answer_503(secured: Secured, tmp_path: Path) -> None:
    other_ca = Pki(tmp_path / "other").ca_path
    client = create_app(secured.admin_settings(opensearch_ca_certs=str(other_ca))).test_client()
    ready = client.get("/_ready")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    reason = ready.get_json()["reason"]
    assert "CERTIFICATE_VERIFY_FAILED" in reason and "OPENSEARCH_CA_CERTS" in reason, reason
    status = client.get(STATUS.format(new_id()))
    assert status.status_code == 503 and status.headers["Retry-After"]
    assert status.get_json() == {"error": "OpenSearch cannot be reached over TLS; /_ready says why"}


def test_serve_stops_at_start_naming_the_ca_problem(secured: Secured, tmp_path: Path) -> None:
    other_ca = Pki(tmp_path / "other").ca_path
    result = serve_until_exit({**secured.admin_env(), "OPENSEARCH_CA_CERTS": str(other_ca)})
    assert result.returncode == 1, result.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr and "OPENSEARCH_CA_CERTS must name the CA bundle" in result.stderr
    assert "is serving" not in result.stderr


def test_https_to_a_port_that_serves_http_stops_serve_naming_it(opensearch_url: str, secured: Secured) -> None:
    plain = opensearch_url.replace("http://", "https://")
    result = serve_until_exit({"OPENSEARCH_URL": plain, "OPENSEARCH_CA_CERTS": str(secured.node.ca_path)})
    assert result.returncode == 1, result.stderr
    assert "OpenSearch does not answer TLS" in result.stderr and "serves http?" in result.stderr


def test_http_to_the_tls_port_is_unavailable_with_a_hint(secured: Secured) -> None:
    plain = secured.url.replace("https://", "http://")
    client = create_app(secured.user_settings("flowstatus", opensearch_hosts=(plain,), opensearch_ca_certs=None))
    web = client.test_client()
    assert web.get("/_ready").get_json()["reason"] == "OpenSearch is unavailable"
    env = {"OPENSEARCH_URL": plain, "OPENSEARCH_USERNAME": "flowstatus",
           "OPENSEARCH_PASSWORD": secured.password("flowstatus")}
    output = serve_start_output(env)  # it serves (OpenSearch may come later) and says why it is not ready
    assert "should OPENSEARCH_URL start with https://?" in output, output


@pytest.mark.parametrize("variable", ["OPENSEARCH_CA_CERTS", "OPENSEARCH_CLIENT_CERT"])
def test_a_missing_tls_file_stops_create_app_and_serve(secured: Secured, tmp_path: Path, variable: str) -> None:
    missing = str(tmp_path / "nowhere.pem")
    field = variable.lower()
    with pytest.raises(StoreSettingsError, match=f"{variable}: cannot read {missing}"):
        create_app(secured.admin_settings(**{field: missing}))
    result = serve_until_exit({**secured.admin_env(), variable: missing})
    assert result.returncode == 1 and f"{variable}: cannot read {missing}" in result.stderr, result.stderr


@pytest.mark.parametrize("user", [None, "wrong-password"])
def test_refused_credentials_are_named_in_ready(secured: Secured, user: str | None) -> None:
    settings = secured.user_settings(None)
    if user is not None:
        settings = secured.user_settings("flowstatus", opensearch_password="not-the-password")
    client = create_app(settings).test_client()
    ready = client.get("/_ready")
    assert ready.status_code == 503
    assert ready.get_json()["reason"].startswith("OpenSearch refuses flowstatus's credentials (401 Unauthorized)")
    answer = client.get(STATUS.format(new_id()))
    assert answer.status_code == 503
    assert answer.get_json() == {"error": "OpenSearch refuses flowstatus access to the state index; /_ready says why"}
