"""What flowstatus shows OpenSearch: the CA bundle it trusts, its client certificate, its user and password.

All of it is read from files when a client is built, that is once per process
and again in every new gunicorn worker: replacing the files and reloading
``flowstatus serve`` (SIGHUP starts new workers) rotates a certificate or a
password while the old workers finish their requests (docs/secured-cluster.md).

Problems raise :class:`~flowstatus.repository.errors.StoreSettingsError`
naming the variable and the file, never a file's contents, before any
connection is opened.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

from flowstatus.repository.errors import StoreSettingsError
from flowstatus.settings import Settings

log = logging.getLogger(__name__)

TLS_VARIABLES = ("OPENSEARCH_CA_CERTS", "OPENSEARCH_CLIENT_CERT", "OPENSEARCH_CLIENT_KEY")


def _default_ca_bundle() -> str | None:
    """certifi's bundle where installed (as opensearch-py uses), else the system's (None)."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with opensearch-py's dependencies
        return None
    return str(certifi.where())


def _read(path: str, variable: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a UTF-8 text file"
        raise StoreSettingsError(f"{variable}: cannot read {path}: {reason}") from None


def read_secret(path: str, variable: str) -> str:
    """The one line ``path`` holds, without its line end; refuses an empty or multi-line file."""
    text = _read(path, variable)
    value = text.removesuffix("\n").removesuffix("\r")
    if not value:
        raise StoreSettingsError(f"{variable}: {path} is empty")
    if "\n" in value or "\r" in value:
        raise StoreSettingsError(f"{variable}: {path} must hold one line")
    return value


def basic_auth(settings: Settings) -> tuple[str, str] | None:
    """The user name and password flowstatus authenticates with, or ``None`` for none.

    Files (``OPENSEARCH_USERNAME_FILE``, ``OPENSEARCH_PASSWORD_FILE``) are read now.
    """
    user = settings.opensearch_username
    if settings.opensearch_username_file is not None:
        user = read_secret(settings.opensearch_username_file, "OPENSEARCH_USERNAME_FILE")
    if user is None:
        return None
    password = settings.opensearch_password or ""
    if settings.opensearch_password_file is not None:
        password = read_secret(settings.opensearch_password_file, "OPENSEARCH_PASSWORD_FILE")
    return user, password


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for ``https://`` hosts, or ``None`` when every host is ``http://``.

    Trusts ``OPENSEARCH_CA_CERTS`` only when set (else certifi's bundle),
    verifies host names unless ``OPENSEARCH_VERIFY_CERTS=false``, and presents
    the client certificate when one is set.  TLS settings with no https host
    are refused: they would be ignored, and credentials sent in clear.
    """
    given = {v: p for v, p in zip(TLS_VARIABLES, (settings.opensearch_ca_certs, settings.opensearch_client_cert,
                                                  settings.opensearch_client_key), strict=True) if p}
    if not any(host.startswith("https://") for host in settings.opensearch_hosts):
        if given:
            raise StoreSettingsError(f"{', '.join(given)} set, but OPENSEARCH_URL has no https:// URL: "
                                     "use https:// to talk TLS to OpenSearch")
        return None
    context = _trusting(settings.opensearch_ca_certs)
    if not settings.opensearch_verify_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        log.warning("OPENSEARCH_VERIFY_CERTS=false: OpenSearch's TLS certificate is not verified")
    if settings.opensearch_client_cert:
        _present(context, settings.opensearch_client_cert, settings.opensearch_client_key)
    elif settings.opensearch_client_key:
        raise StoreSettingsError("OPENSEARCH_CLIENT_KEY is set without OPENSEARCH_CLIENT_CERT")
    return context


def _trusting(ca_path: str | None) -> ssl.SSLContext:
    if ca_path is None:
        return ssl.create_default_context(cafile=_default_ca_bundle())
    _read(ca_path, "OPENSEARCH_CA_CERTS")
    try:
        return ssl.create_default_context(cafile=ca_path)
    except ssl.SSLError as exc:
        raise StoreSettingsError(
            f"OPENSEARCH_CA_CERTS: {ca_path} holds no PEM certificate ({exc.reason or exc})") from None


def _present(context: ssl.SSLContext, cert_path: str, key_path: str | None) -> None:
    cert = _read(cert_path, "OPENSEARCH_CLIENT_CERT")
    key = _read(key_path, "OPENSEARCH_CLIENT_KEY") if key_path else cert
    where = "OPENSEARCH_CLIENT_KEY" if key_path else "OPENSEARCH_CLIENT_CERT"
    if "ENCRYPTED" in key:
        raise StoreSettingsError(f"{where}: the private key is encrypted; flowstatus needs it unencrypted "
                                 "(protect the file by its permissions)")
    try:
        # A password callback that answers nothing: OpenSSL must never prompt on a terminal.
        context.load_cert_chain(cert_path, key_path, password=lambda: b"")
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise StoreSettingsError(f"{where}: the private key does not belong to the certificate "
                                     f"in OPENSEARCH_CLIENT_CERT ({cert_path})") from None
        raise StoreSettingsError(f"OPENSEARCH_CLIENT_CERT / {where}: not a PEM certificate and its PEM private "
                                 f"key ({cert_path}{', ' + key_path if key_path else ''})") from None
