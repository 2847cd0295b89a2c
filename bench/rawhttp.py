"""A tiny keep-alive HTTP client for OpenSearch admin calls (stdlib only).

Used to create, seed, refresh and delete the bench index; never as a load
generator (wrk is).  ``OpenSearchHttp(url)`` takes one base URL (``http`` or
``https``; optional basic credentials from ``OPENSEARCH_USERNAME`` /
``OPENSEARCH_PASSWORD``, certificate checks off when
``OPENSEARCH_VERIFY_CERTS=false``).  :meth:`request` returns
``(status, parsed JSON or None)`` and never raises on HTTP error statuses.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
from typing import Any
from urllib.parse import urlsplit


def basic_auth_header() -> str | None:
    """``Basic ...`` from the OPENSEARCH_USERNAME/PASSWORD environment, or None."""
    user = os.environ.get("OPENSEARCH_USERNAME")
    if not user:
        return None
    token = f"{user}:{os.environ.get('OPENSEARCH_PASSWORD', '')}".encode()
    return "Basic " + base64.b64encode(token).decode()


class OpenSearchHttp:
    def __init__(self, url: str, timeout: float = 120.0) -> None:
        parts = urlsplit(url)
        self.url = url.rstrip("/")
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self.headers = {"Content-Type": "application/json"}
        auth = basic_auth_header()
        if auth:
            self.headers["Authorization"] = auth

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.https:
                ctx = ssl.create_default_context(cafile=os.environ.get("OPENSEARCH_CA_CERTS") or None)
                if os.environ.get("OPENSEARCH_VERIFY_CERTS", "true").lower() == "false":
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=ctx)
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def request(self, method: str, path: str, body: Any = None, *, ndjson: bool = False) -> tuple[int, Any]:
        """One request; ``body`` is JSON-encoded unless it is bytes."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        headers = dict(self.headers)
        if ndjson:
            headers["Content-Type"] = "application/x-ndjson"
        for attempt in (1, 2):  # one retry on a connection the server closed while idle
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode(errors="replace")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
