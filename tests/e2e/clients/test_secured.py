"""``watch`` and ``ingest --url`` against a server with users and backend-role filtering.

Allowed, refused (403), wrong password (401), and every source of the
password: the environment, ``~/.netrc``, a prompt on the terminal; never the
process list, never the server's logs.
"""

from __future__ import annotations

import base64
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import new_id
from tests.e2e.clients.runs import (
    FLOWSTATUS,
    assert_one_line,
    client_env,
    index_of,
    ndjson,
    provisioning,
    run,
    secured_server,
    stored,
    watching,
    with_password,
)
from tests.e2e.conftest import Served
from tests.e2e.test_watch import read_pty
from tests.security.conftest import PASSWORD


@pytest.fixture(scope="module")
def team_a_workflow(secured: Served, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A workflow created by ``writer`` (backend role team-a), provisioning."""
    wid = new_id()
    result = run("ingest", "--url", secured.url, "--user", "writer", env=with_password(tmp_path_factory.mktemp("h")),
                 stdin=ndjson(provisioning(wid, resources=0, completed=False)))
    assert result.returncode == 0, result.stderr
    return wid


def ingest_as(served: Served, user: str, events: list[dict], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run("ingest", "--url", served.url, "--user", user, "-", env=env, stdin=ndjson(events))


def assert_no_secret(text: str) -> None:
    token = base64.b64encode(f"writer:{PASSWORD}".encode()).decode()
    assert PASSWORD not in text and token not in text


def test_a_writer_ingests_and_a_reader_of_the_team_watches_it_complete(secured: Served, home: Path,
                                                                       opensearch_url: str) -> None:
    wid = new_id()
    events = provisioning(wid)
    first = ingest_as(secured, "writer", events[:2], with_password(home))
    assert first.returncode == 0, first.stderr
    assert "2 events in" in first.stderr and "2 applied, 0 already recorded, 0 rejected" in first.stderr
    with watching(wid, secured.url, "alice", with_password(home)) as watcher:
        listing = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True, check=True,
                                 timeout=30).stdout
        assert f"watch {wid} --url {secured.url} --user alice" in listing
        assert_no_secret(listing)
        rest = ingest_as(secured, "writer", events[2:], with_password(home))
        assert rest.returncode == 0, rest.stderr
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert any("COMPLETED" in line and "resources=2" in line for line in out.splitlines()), out
    doc = stored(opensearch_url, index_of(secured), wid)
    assert doc is not None and doc["user"]["name"] == "writer" and doc["user"]["backend_roles"] == ["team-a"]
    assert_no_secret(secured.log.read_text(errors="replace"))


ON_TERMINAL = ("import fcntl, os, sys, termios; fcntl.ioctl(int(sys.argv[1]), termios.TIOCSCTTY, 0); "
               "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])")
REFUSED = "403 Forbidden for user"
DENIED = "401 Unauthorized: the server refused user"


@pytest.mark.parametrize("command, user, password, expected", [
    ("watch", "bob", PASSWORD, f"{REFUSED} 'bob': User does not have permissions to access workflow"),
    ("watch", "alice", "wrong", f"{DENIED} 'alice' with the password from FLOWSTATUS_PASSWORD"),
    ("watch", None, None, "401 Unauthorized: the server requires a user: pass --user NAME"),
    ("ingest", "alice", PASSWORD, f"{REFUSED} 'alice': no permissions for [cluster:admin/flowstatus/events/bulk]"),
    ("ingest", "writer", "wrong", f"{DENIED} 'writer' with the password from FLOWSTATUS_PASSWORD"),
])
def test_a_refusal_is_one_line_and_exit_4(secured: Served, team_a_workflow: str, home: Path, command: str,
                                          user: str | None, password: str | None, expected: str) -> None:
    args = ["watch", team_a_workflow] if command == "watch" else ["ingest", "-"]
    args += ["--url", secured.url] + (["--user", user] if user else [])
    env = with_password(home, password) if password else client_env(home)
    result = run(*args, env=env, stdin=ndjson([{"event": "provision_completed", "workflow_id": team_a_workflow}]))
    assert_one_line(result, 4, f"flowstatus {command}: {expected}")


def test_a_writer_of_another_team_gets_each_line_refused_by_its_number(secured: Served, team_a_workflow: str,
                                                                      home: Path, opensearch_url: str) -> None:
    own = new_id()
    events = [{"event": "create", "workflow_id": own},
              {"event": "resource_created", "workflow_id": team_a_workflow, "workflow_step_name": "create_index",
               "workflow_step_id": "create_index_9", "resource_id": "intruder"},
              {"event": "provision_started", "workflow_id": own}]
    result = ingest_as(secured, "bobwriter", events, with_password(home))
    assert result.returncode == 1, result.stderr
    assert "3 events in" in result.stderr and "2 applied, 0 already recorded, 1 rejected" in result.stderr
    assert (f"  line 2: 403 User does not have permissions to access workflow: {team_a_workflow}"
            in result.stderr.splitlines())
    assert result.stderr.splitlines()[-1] == "rejected lines: 2"
    assert not stored(opensearch_url, index_of(secured), team_a_workflow).get("resources_created")  # type: ignore[union-attr]
    assert stored(opensearch_url, index_of(secured), own)["state"] == "PROVISIONING"  # type: ignore[index]


def test_the_password_comes_from_netrc_which_must_be_private(secured: Served, home: Path,
                                                              opensearch_url: str) -> None:
    netrc = home / ".netrc"
    netrc.write_text(f'machine elsewhere login writer password other\nmachine 127.0.0.1 login writer password "{PASSWORD}"\n')
    netrc.chmod(0o644)
    wid = new_id()
    events = ndjson(provisioning(wid, completed=False))
    # FLOWSTATUS_USER names the user as --user does.
    refused = run("ingest", "--url", secured.url, env=client_env(home, FLOWSTATUS_USER="writer"), stdin=events)
    assert_one_line(refused, 4, f"{netrc} may be read by other users", "chmod 600")
    assert stored(opensearch_url, index_of(secured), wid) is None
    netrc.chmod(0o600)
    applied = run("ingest", "--url", secured.url, env=client_env(home, FLOWSTATUS_USER="writer"), stdin=events)
    assert applied.returncode == 0, applied.stderr
    assert stored(opensearch_url, index_of(secured), wid)["resources_created"]  # type: ignore[index]
    other = run("watch", wid, "--url", secured.url, "--user", "alice", env=client_env(home))
    assert_one_line(other, 4, "no password for user 'alice': set FLOWSTATUS_PASSWORD",
                    f"'machine 127.0.0.1 login alice password ...' entry to {netrc}")


def test_without_a_source_no_password_is_read_from_the_events_pipe(secured: Served, home: Path,
                                                                  opensearch_url: str) -> None:
    wid = new_id()
    result = run("ingest", "--url", secured.url, "--user", "writer", "-", env=client_env(home),
                 stdin=PASSWORD + "\n" + ndjson(provisioning(wid)))
    assert_one_line(result, 4, "no password for user 'writer'", "run on a terminal to be asked")
    assert stored(opensearch_url, index_of(secured), wid) is None


def test_the_password_is_asked_on_the_terminal_while_events_come_from_a_pipe(secured: Served, home: Path,
                                                                            opensearch_url: str) -> None:
    wid = new_id()
    primary, secondary = pty.openpty()
    # In its own session, the pty becomes the command's controlling terminal (its /dev/tty).
    ingest = subprocess.Popen([sys.executable, "-c", ON_TERMINAL, str(secondary), *FLOWSTATUS[1:], "ingest",
                               "--url", secured.url, "--user", "writer", "-"],
                              env=client_env(home), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True, pass_fds=(secondary,))
    os.close(secondary)
    screen = bytearray()
    try:
        read_pty(primary, screen, lambda: b"Password for writer at 127.0.0.1: " in screen)
        assert b"Password for writer at 127.0.0.1: " in screen, screen.decode(errors="replace")
        os.write(primary, f"{PASSWORD}\n".encode())
        _, err = ingest.communicate(ndjson(provisioning(wid)), timeout=60)
        read_pty(primary, screen, lambda: False, timeout=1)
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.communicate()
        os.close(primary)
    assert ingest.returncode == 0, err
    assert "5 applied" in err
    assert PASSWORD.encode() not in screen, "the password was echoed"
    assert stored(opensearch_url, index_of(secured), wid)["state"] == "COMPLETED"  # type: ignore[index]
    assert_no_secret(secured.log.read_text(errors="replace"))


def test_the_tenant_goes_with_every_request(opensearch_url: str, users_file: Path, tmp_path: Path,
                                            home: Path) -> None:
    wid = new_id()
    env = with_password(home)
    with secured_server(opensearch_url, users_file, tmp_path, FLOWSTATUS_MULTI_TENANCY="true") as tenanted:
        recorded = run("ingest", "--url", tenanted.url, "--user", "writer", "--tenant", "tenant-a", env=env,
                       stdin=ndjson(provisioning(wid)))
        assert recorded.returncode == 0, recorded.stderr
        assert stored(opensearch_url, index_of(tenanted), wid)["tenant_id"] == "tenant-a"  # type: ignore[index]
        followed = run("watch", wid, "--url", tenanted.url, "--user", "alice", "--tenant", "tenant-a", env=env)
        assert followed.returncode == 0 and "COMPLETED" in followed.stdout, followed.stderr
        missing = run("watch", wid, "--url", tenanted.url, "--user", "alice", env=env)
        assert_one_line(missing, 4, f"{REFUSED} 'alice': Tenant ID header is missing or has no value "
                                    "(pass --tenant TENANT)")
        other = run("watch", wid, "--url", tenanted.url, "--user", "alice", "--tenant", "tenant-b", env=env)
        assert_one_line(other, 4, f"{REFUSED} 'alice': No permission to access this resource")
