"""The clients' HTTP client: one-line reasons, and credentials that never follow a redirect."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from flowstatus.cli.http_client import Answer, ClientError, ServerAccess, ServerClient, Unavailable


@pytest.mark.parametrize("body, reason", [
    (b'{"error":"Failed to get workflow status."}', "Failed to get workflow status."),
    (b'{"error":{"root_cause":[],"type":"security_exception","reason":"no permissions for [x]"},"status":403}',
     "no permissions for [x]"),
    (b"<html>\n  <h1>Bad   Gateway</h1>\n</html>", "<html> <h1>Bad Gateway</h1> </html>"),
    (b"", "Service Unavailable"),
])
def test_the_reason_of_an_answer_is_one_line(body: bytes, reason: str) -> None:
    assert Answer(503, {}, body).reason() == reason


class Recorder(http.server.BaseHTTPRequestHandler):
    """A web server elsewhere: it records who called, with which Authorization."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_redirect_is_refused_and_the_credentials_stay_home() -> None:
    with serving(Recorder) as elsewhere:
        class Redirector(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(302)
                self.send_header("Location", elsewhere + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        with serving(Redirector) as url:
            client = ServerClient(ServerAccess(url, user="ci-bot", password="secret"))
            with pytest.raises(ClientError, match=f"redirects \\(302\\) to {elsewhere}/x: credentials are not sent"):
                client.call("GET", "/x", timeout=10)
    assert Recorder.seen == []


def test_no_server_is_unavailable_not_a_traceback() -> None:
    with serving(Recorder) as url:
        pass  # closed: nothing listens there any more
    with pytest.raises(Unavailable, match="cannot be reached: Connection refused"):
        ServerClient(ServerAccess(url)).call("GET", "/", timeout=10)


def test_an_unreadable_ca_bundle_is_named() -> None:
    with pytest.raises(ClientError, match="cannot read the CA bundle /nonexistent/ca.pem"):
        ServerClient(ServerAccess("https://status.example", ca_certs="/nonexistent/ca.pem"))


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_answers_worth_waiting_for_are_unavailable_with_their_retry_after(status: int) -> None:
    class Busy(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(status)
            self.send_header("Retry-After", "7")
            self.send_header("Content-Length", "17")
            self.end_headers()
            self.wfile.write(b'{"error":"later"}')

        def log_message(self, *args: object) -> None:
            pass

    with serving(Busy) as url, pytest.raises(Unavailable, match=f"^{status} later$") as raised:
        ServerClient(ServerAccess(url)).call("POST", "/_flowstatus/_bulk", body=b"{}\n", timeout=10)
    assert raised.value.retry_after == 7.0
