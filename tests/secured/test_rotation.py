"""Rotating flowstatus's OpenSearch password or client certificate without downtime, as
docs/secured-cluster.md describes it: a second identity with the same role, its files put in place,
SIGHUP to ``flowstatus serve`` (its new workers read the files), then the old identity removed.
A client polling all along sees no failure, and the old identity no longer works."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flowstatus.app import create_app
from tests.conftest import new_id
from tests.e2e.conftest import Served, serving
from tests.secured.conftest import STATE_INDEX, Secured, service_role
from tests.secured.flows import BULK, RESOURCE, STATUS, http, process_env, work_through_client

ROLE = "flowstatus_rotation"


def replace(path: Path, content: bytes) -> None:
    """Put ``content`` at ``path`` at once (rename), as a secret store or a deployment tool would."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_bytes(content)
    fresh.chmod(0o600)
    fresh.replace(path)


def workers_of(master: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == master:
                found.add(int(entry.name))
    return found


def reload_workers(served: Served, count: int) -> None:
    """SIGHUP the server and wait until ``count`` new workers, and none of the old, are running."""
    master = served.process.pid
    old = workers_of(master)
    os.kill(master, signal.SIGHUP)
    deadline = time.monotonic() + 60
    while True:
        now = workers_of(master)
        if len(now) == count and not now & old:
            return
        assert time.monotonic() < deadline, (old, now)
        time.sleep(0.1)


@contextmanager
def polling(base: str, wid: str) -> Iterator[Callable[[], list[str]]]:
    """Reads the workflow and records an already-recorded event, again and again, in a thread;
    yields what reports the failures (and that there were answers)."""
    failures: list[str] = []
    answered = [0]
    stop = threading.Event()
    event = (b'{"event": "resource_created", "workflow_id": "%s", ' % wid.encode()) + \
        b", ".join(f'"{k}": "{v}"'.encode() for k, v in RESOURCE.items()) + b"}\n"

    def run() -> None:
        while not stop.is_set():
            for method, path, body in (("GET", STATUS.format(wid), None), ("POST", BULK, event)):
                status, answer = http(base, method, path, body, "application/x-ndjson")
                if status != 200 or b'"errors":true' in answer:
                    failures.append(f"{method} {path}: {status} {answer[:200]!r}")
                answered[0] += 1
            time.sleep(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield lambda: [*failures, *([] if answered[0] > 20 else [f"only {answered[0]} answers"])]
    finally:
        stop.set()
        thread.join(timeout=60)


def seeded(secured: Secured) -> str:
    return work_through_client(create_app(secured.admin_settings()).test_client())["workflow_id"]


def test_a_password_is_rotated_with_a_second_user_and_sighup(secured: Secured, tmp_path: Path) -> None:
    wid = seeded(secured)
    secured.add_user("rotating-a", "first-Passw0rd-a")
    secured.add_user("rotating-b", "second-Passw0rd-b")
    secured.put_role(ROLE, service_role(), ["rotating-a"])
    username, password = tmp_path / "username", tmp_path / "password"
    replace(username, b"rotating-a\n")
    replace(password, b"first-Passw0rd-a\n")
    env = {"OPENSEARCH_URL": secured.url, "OPENSEARCH_CA_CERTS": str(secured.node.ca_path),
           "OPENSEARCH_USERNAME_FILE": str(username), "OPENSEARCH_PASSWORD_FILE": str(password)}
    with serving(secured.url, STATE_INDEX, tmp_path / "serve.log", "--workers", "2",
                 env=process_env(env)) as served, polling(served.url, wid) as failures:
        secured.security("PATCH", f"rolesmapping/{ROLE}", [{"op": "add", "path": "/users/-", "value": "rotating-b"}])
        replace(username, b"rotating-b\n")
        replace(password, b"second-Passw0rd-b\n")
        reload_workers(served, 2)
        secured.security("DELETE", "internalusers/rotating-a")
        time.sleep(1.5)  # requests keep being answered as rotating-b only
        assert http(served.url, "GET", "/_ready")[0] == 200
        assert failures() == []
    old = create_app(secured.user_settings("rotating-a")).test_client().get("/_ready").get_json()
    assert old["reason"].startswith("OpenSearch refuses flowstatus's credentials (401 Unauthorized)")


def test_a_certificate_is_rotated_with_sighup(secured: Secured, tmp_path: Path) -> None:
    wid = seeded(secured)
    first, second = (secured.node.issue_client_cert(name) for name in ("rotating-cert-a", "rotating-cert-b"))
    secured.put_role(ROLE, service_role(), ["rotating-cert-a"])
    cert, key = tmp_path / "client.pem", tmp_path / "client-key.pem"
    replace(cert, first.cert.read_bytes())
    replace(key, first.key.read_bytes())
    env = {"OPENSEARCH_URL": secured.url, "OPENSEARCH_CA_CERTS": str(secured.node.ca_path),
           "OPENSEARCH_CLIENT_CERT": str(cert), "OPENSEARCH_CLIENT_KEY": str(key)}
    with serving(secured.url, STATE_INDEX, tmp_path / "serve.log", "--workers", "2",
                 env=process_env(env)) as served, polling(served.url, wid) as failures:
        secured.security("PATCH", f"rolesmapping/{ROLE}",
                         [{"op": "add", "path": "/users/-", "value": "rotating-cert-b"}])
        replace(cert, second.cert.read_bytes())
        replace(key, second.key.read_bytes())
        reload_workers(served, 2)
        secured.put_role(ROLE, service_role(), ["rotating-cert-b"])  # the old certificate may do nothing now
        time.sleep(1.5)
        assert http(served.url, "GET", "/_ready")[0] == 200
        assert failures() == []
    old = create_app(secured.user_settings(None, opensearch_client_cert=str(first.cert),
                                           opensearch_client_key=str(first.key))).test_client()
    assert old.get(STATUS.format(new_id())).status_code == 503  # refused: its identity has no role any more
