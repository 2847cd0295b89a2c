"""What flowstatus presents to OpenSearch: TLS trust, client certificate, user and password, read from
files; every unusable file named by its variable at start, never its contents."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from devtools.opensearch.pki import CertFiles, Pki
from flowstatus.repository.errors import StoreSettingsError
from flowstatus.repository.opensearch_client import access_refusal, security_reason, tls_failure
from flowstatus.repository.opensearch_credentials import basic_auth, tls_context
from flowstatus.settings import Settings, load_settings

HTTPS = ("https://127.0.0.1:9200",)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def client(pki: Pki) -> CertFiles:
    return pki.issue("flowstatus")


def test_plain_http_needs_no_tls_context() -> None:
    assert tls_context(Settings(opensearch_hosts=("http://a:9200",))) is None


def test_tls_settings_without_an_https_url_are_refused(pki: Pki) -> None:
    with pytest.raises(StoreSettingsError, match="OPENSEARCH_CA_CERTS set, but OPENSEARCH_URL has no https:// URL"):
        tls_context(Settings(opensearch_hosts=("http://a:9200",), opensearch_ca_certs=str(pki.ca_path)))


def test_the_ca_bundle_and_the_client_certificate_are_loaded(pki: Pki, client: CertFiles) -> None:
    context = tls_context(Settings(opensearch_hosts=HTTPS, opensearch_ca_certs=str(pki.ca_path),
                                   opensearch_client_cert=str(client.cert), opensearch_client_key=str(client.key)))
    assert context is not None and context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("organizationName", "flowstatus-test"),),
                                                               (("organizationalUnitName", "test"),),
                                                               (("commonName", "flowstatus test CA"),))]


def test_not_verifying_is_possible_but_said(caplog: pytest.LogCaptureFixture) -> None:
    context = tls_context(Settings(opensearch_hosts=HTTPS, opensearch_verify_certs=False))
    assert context is not None and context.verify_mode is ssl.CERT_NONE and not context.check_hostname
    assert "OPENSEARCH_VERIFY_CERTS=false" in caplog.text


def _encrypted(key: Path, to: Path) -> Path:
    loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
    to.write_bytes(loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.BestAvailableEncryption(b"passphrase")))
    return to


def test_unusable_files_are_named(pki: Pki, client: CertFiles, tmp_path: Path) -> None:
    other = pki.issue("someone-else")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    cases = [
        ({"opensearch_ca_certs": str(tmp_path / "missing.pem")}, "OPENSEARCH_CA_CERTS: cannot read .*missing.pem"),
        ({"opensearch_ca_certs": str(junk)}, "OPENSEARCH_CA_CERTS: .*junk.pem holds no PEM certificate"),
        ({"opensearch_client_key": str(client.key)}, "OPENSEARCH_CLIENT_KEY is set without OPENSEARCH_CLIENT_CERT"),
        ({"opensearch_client_cert": str(client.cert), "opensearch_client_key": str(other.key)},
         "OPENSEARCH_CLIENT_KEY: the private key does not belong to the certificate"),
        ({"opensearch_client_cert": str(client.cert),
          "opensearch_client_key": str(_encrypted(client.key, tmp_path / "encrypted.pem"))},
         "OPENSEARCH_CLIENT_KEY: the private key is encrypted"),
        ({"opensearch_client_cert": str(junk)}, "not a PEM certificate and its PEM private key"),
    ]
    for given, message in cases:
        with pytest.raises(StoreSettingsError, match=message) as raised:
            tls_context(Settings(opensearch_hosts=HTTPS, **given))
        assert "BEGIN" not in str(raised.value)


def test_credentials_come_from_the_environment_or_from_files(tmp_path: Path) -> None:
    assert basic_auth(Settings()) is None
    assert basic_auth(Settings(opensearch_username="u", opensearch_password="p")) == ("u", "p")
    user, password = tmp_path / "user", tmp_path / "password"
    user.write_text("flowstatus\n")
    password.write_text("s3cret with spaces\r\n")
    assert basic_auth(Settings(opensearch_username_file=str(user), opensearch_password_file=str(password))) == (
        "flowstatus", "s3cret with spaces")
    password.write_text("changed")  # read again whenever a client is built
    assert basic_auth(Settings(opensearch_username="u", opensearch_password_file=str(password))) == ("u", "changed")


@pytest.mark.parametrize(("content", "message"), [("", "is empty"), ("\n", "is empty"), ("a\nb\n", "must hold one line")])
def test_a_password_file_holds_one_line(tmp_path: Path, content: str, message: str) -> None:
    password = tmp_path / "password"
    password.write_text(content)
    with pytest.raises(StoreSettingsError, match=f"OPENSEARCH_PASSWORD_FILE: {password} {message}"):
        basic_auth(Settings(opensearch_username="u", opensearch_password_file=str(password)))


def test_a_missing_password_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreSettingsError, match="OPENSEARCH_PASSWORD_FILE: cannot read .*: No such file"):
        basic_auth(Settings(opensearch_username="u", opensearch_password_file=str(tmp_path / "nope")))


@pytest.mark.parametrize(("environ", "message"), [
    ({"OPENSEARCH_PASSWORD": "p", "OPENSEARCH_PASSWORD_FILE": "/f", "OPENSEARCH_USERNAME": "u"},
     "OPENSEARCH_PASSWORD_FILE: Set OPENSEARCH_PASSWORD or OPENSEARCH_PASSWORD_FILE, not both"),
    ({"OPENSEARCH_USERNAME": "u", "OPENSEARCH_USERNAME_FILE": "/f"},
     "OPENSEARCH_USERNAME_FILE: Set OPENSEARCH_USERNAME or OPENSEARCH_USERNAME_FILE, not both"),
    ({"OPENSEARCH_PASSWORD_FILE": "/f"}, "OPENSEARCH_PASSWORD_FILE: A password needs a user name"),
])
def test_credential_settings_have_one_source(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_settings(environ)


def test_refusals_are_told_without_the_user_and_other_403s_are_not_refusals() -> None:
    reason = "no permissions for [indices:data/read/get] and User [name=svc, backend_roles=[ops], requestedTenant=null]"
    assert security_reason(reason) == "no permissions for [indices:data/read/get]"
    body = {"error": {"type": "security_exception", "reason": reason}, "status": 403}
    told = access_refusal(403, body)
    assert told is not None and "no permissions for [indices:data/read/get]" in told and "svc" not in told
    assert access_refusal(401, "Unauthorized") is not None and "401 Unauthorized" in str(access_refusal(401, ""))
    blocked = {"error": {"type": "cluster_block_exception", "reason": "index [x] blocked by: [FORBIDDEN/8/...]"}}
    assert access_refusal(403, blocked) is None and access_refusal(404, body) is None


def test_tls_failures_are_told_by_cause() -> None:
    assert "OPENSEARCH_CA_CERTS must name the CA" in tls_failure(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate")
    assert "serves http?" in tls_failure("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
    assert "client certificate" in tls_failure("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required")
