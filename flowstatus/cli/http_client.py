"""A client of a flowstatus server, shared by ``flowstatus watch`` and ``flowstatus ingest --url``.

The standard library's ``urllib.request``: the command line never imports
urllib3 (``flowstatus serve`` must patch with gevent before it is first
imported, and the layer rules keep it for the OpenSearch adapters).  It
honours the usual ``http_proxy``/``https_proxy``/``no_proxy`` variables,
verifies TLS certificates against the system's CAs or ``--ca-certs``, sends
HTTP Basic credentials and the tenant header on every request, and never
follows a redirect (credentials go only where the user pointed them).

Every failure is one of three exceptions whose text is one line for the
user: :class:`Unavailable` (no usable answer now: try again),
:class:`AccessDenied` (401/403) and :class:`ClientError` (anything else
that stops the command).
"""

from __future__ import annotations

import base64
import email.message
import http.client
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowstatus import __version__
from flowstatus.cli.retries import retry_after_seconds

EXIT_UNUSABLE = 3  # the server cannot be used: unreachable after retries, TLS, an unexpected answer
EXIT_DENIED = 4  # no credentials, or the server refused them (401) or the user's permissions (403)
# 408: the server gave up waiting for the body (a slow network); the others: busy or away for now.
RETRYABLE_STATUSES = frozenset({408, 429, 502, 503, 504})
TENANT_HEADER = "x-tenant-id"


class ClientError(Exception):
    """The server cannot be used as asked; ``str()`` is one line for the user."""

    exit_code = EXIT_UNUSABLE


class AccessDenied(ClientError):
    """No credentials, or the server refused them (401) or the user's permissions (403)."""

    exit_code = EXIT_DENIED


class Unavailable(ClientError):
    """No usable answer now (no connection, a timeout, or 408/429/502/503/504): trying again may succeed.

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it gave one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ServerAccess:
    """Where the server is and who calls it; ``password_source`` says where the password came from."""

    url: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    password_source: str = ""
    tenant: str | None = None
    ca_certs: str | None = None
    verify: bool = True


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, whatever its status."""

    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    @classmethod
    def read(cls, status: int, headers: email.message.Message, body: bytes) -> Answer:
        return cls(status, {name.lower(): value for name, value in headers.items()}, body)

    def json(self) -> Any:
        """The body as JSON; :class:`ClientError` if it is not."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise ClientError(f"the server answered {self.status} with a body that is not JSON: "
                              f"{self.body[:200]!r}") from None

    def reason(self) -> str:
        """The error's reason in one line: the plugin's ``error``, OpenSearch's ``error.reason``, else the text."""
        try:
            error = json.loads(self.body).get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, dict):
            error = error.get("reason") or error.get("type")
        text = error if isinstance(error, str) else self.body.decode(errors="replace")
        return " ".join(text.split())[:300] or http.client.responses.get(self.status, "")


def tls_context(access: ServerAccess) -> ssl.SSLContext:
    """The TLS settings: verify against ``ca_certs`` (else the system's CAs), or not at all when ``verify`` is off.

    Raises :class:`ClientError` if the CA bundle cannot be read.
    """
    if not access.verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=access.ca_certs)
    except (OSError, ssl.SSLError) as exc:
        raise ClientError(f"cannot read the CA bundle {access.ca_certs}: {exc}") from None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect comes back as its own answer: credentials are never re-sent elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class ServerClient:
    """Requests to one flowstatus server, with its credentials, tenant and TLS settings.

    Thread-safe: nothing is kept between requests (each opens its own connection).
    """

    def __init__(self, access: ServerAccess) -> None:
        self.access = access
        self.base_url = access.url.rstrip("/")
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context(access)),
                                                   _NoRedirects())
        self._headers = {"User-Agent": f"flowstatus/{__version__}"}
        if access.user is not None:
            token = base64.b64encode(f"{access.user}:{access.password or ''}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        if access.tenant is not None:
            self._headers[TENANT_HEADER] = access.tenant

    def call(self, method: str, path: str, *, timeout: float, query: Mapping[str, str] | None = None,
             body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Answer:
        """One request; the answer whatever its status, except those worth waiting for.

        Raises :class:`Unavailable` for no connection, a timeout or a
        408/429/502/503/504 answer; :class:`AccessDenied` for 401 and 403;
        :class:`ClientError` for a redirect (never followed) and when the
        server cannot be reached as asked (certificate not trusted, unknown
        host, a TLS failure).
        """
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        request = urllib.request.Request(url, data=body, method=method, headers={**self._headers, **(headers or {})})
        answer = self._send(request, timeout)
        if answer.status in RETRYABLE_STATUSES:
            retry_after = retry_after_seconds(answer.headers.get("retry-after"))
            raise Unavailable(f"{answer.status} {answer.reason()}", retry_after)
        if answer.status in (401, 403):
            raise self.refusal(answer)
        if 300 <= answer.status < 400 and answer.status != 304:
            raise ClientError(f"the server redirects ({answer.status}) to {answer.headers.get('location', '?')}: "
                              "credentials are not sent on; give that address as --url")
        return answer

    def _send(self, request: urllib.request.Request, timeout: float) -> Answer:
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return Answer.read(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                try:
                    return Answer.read(exc.code, exc.headers, exc.read())
                except (OSError, http.client.HTTPException) as broken:
                    raise Unavailable(f"{exc.code}, then the connection broke: {broken}") from None
        except urllib.error.URLError as exc:
            raise self._unreachable(exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:  # raised while reading the answer
            raise self._unreachable(exc) from None

    def _unreachable(self, reason: object) -> ClientError:
        where = self.base_url
        if isinstance(reason, ssl.SSLCertVerificationError):
            return ClientError(f"the TLS certificate of {where} is not trusted ({reason.verify_message}): "
                               "pass --ca-certs FILE with the CA that signed it")
        if isinstance(reason, ssl.SSLError):
            return ClientError(f"TLS with {where} failed: {reason.reason or reason}")
        if isinstance(reason, socket.gaierror):
            return ClientError(f"cannot resolve the host of {where}: {reason.strerror}")
        if isinstance(reason, OSError) and reason.strerror:
            return Unavailable(f"{where} cannot be reached: {reason.strerror}")
        return Unavailable(f"{where} cannot be reached: {reason or type(reason).__name__}")

    def refusal(self, answer: Answer) -> AccessDenied:
        """One line that says what the 401 or 403 means for this user, and what to do."""
        access = self.access
        if answer.status == 401 and access.user is None:
            return AccessDenied("401 Unauthorized: the server requires a user: pass --user NAME "
                                "(password from FLOWSTATUS_PASSWORD, ~/.netrc or a prompt)")
        if answer.status == 401:
            return AccessDenied(f"401 Unauthorized: the server refused user {access.user!r} with the password "
                                f"from {access.password_source or 'the prompt'}")
        hint = " (pass --tenant TENANT)" if access.tenant is None and "Tenant ID header" in answer.reason() else ""
        who = f" for user {access.user!r}" if access.user else ""
        return AccessDenied(f"403 Forbidden{who}: {answer.reason()}{hint}")
