"""``watch`` and ``ingest --url`` on the network: through TLS (a terminator in front of a server with users,
its certificate signed by a test CA), through a proxy, and while the server is away."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import new_id
from tests.e2e.clients.front import Front, fronting, make_tls
from tests.e2e.clients.runs import (
    assert_one_line,
    index_of,
    ndjson,
    port_of,
    provisioning,
    run,
    stored,
    watching,
    with_password,
)
from tests.e2e.conftest import Served

WARNING = "WARNING: --insecure-skip-verify: the TLS certificate of 127.0.0.1 is not verified"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    return make_tls(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def https(secured: Served, tls: tuple[Path, ssl.SSLContext]) -> Iterator[Front]:
    with fronting(port_of(secured), tls[1]) as front:
        yield front


def test_watch_and_ingest_verify_the_server_with_the_given_ca(https: Front, tls: tuple[Path, ssl.SSLContext],
                                                              secured: Served, home: Path,
                                                              opensearch_url: str) -> None:
    wid = new_id()
    trusting = ["--url", https.url, "--ca-certs", str(tls[0])]
    ingested = run("ingest", *trusting, "--user", "writer", env=with_password(home), stdin=ndjson(provisioning(wid)))
    assert ingested.returncode == 0, ingested.stderr
    assert "5 applied" in ingested.stderr and "WARNING" not in ingested.stderr
    watched = run("watch", wid, *trusting, "--user", "alice", env=with_password(home))
    assert watched.returncode == 0, watched.stderr
    assert "COMPLETED" in watched.stdout and "WARNING" not in watched.stderr
    assert stored(opensearch_url, index_of(secured), wid)["state"] == "COMPLETED"  # type: ignore[index]


@pytest.mark.parametrize("command", ["ingest", "watch"])
def test_a_certificate_from_an_unknown_ca_stops_at_once_in_one_line(https: Front, secured: Served,
                                                                     home: Path, command: str,
                                                                     opensearch_url: str) -> None:
    wid = new_id()
    args = ["ingest", "-"] if command == "ingest" else ["watch", wid]
    result = run(*args, "--url", https.url, "--user", "writer", env=with_password(home),
                 stdin=ndjson(provisioning(wid)), timeout=60)
    assert_one_line(result, 3, f"flowstatus {command}: the TLS certificate of {https.url} is not trusted",
                    "(unable to get local issuer certificate): pass --ca-certs FILE")
    assert stored(opensearch_url, index_of(secured), wid) is None


def test_insecure_skip_verify_works_and_warns_on_every_run(https: Front, secured: Served,
                                                           home: Path, opensearch_url: str) -> None:
    wid = new_id()
    for _ in range(2):
        result = run("ingest", "--url", https.url, "--user", "writer", "--insecure-skip-verify",
                     env=with_password(home), stdin=ndjson(provisioning(wid)))
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith(WARNING), result.stderr
    assert stored(opensearch_url, index_of(secured), wid)["state"] == "COMPLETED"  # type: ignore[index]
    watched = run("watch", wid, "--url", https.url, "--user", "alice", "--insecure-skip-verify",
                  env=with_password(home))
    assert watched.returncode == 0 and watched.stderr.startswith(WARNING), watched.stderr



def test_the_proxy_variables_are_honoured(secured: Served, home: Path, opensearch_url: str) -> None:
    # Only the proxy can reach this address: the forwarding front, in front of the server.
    wid = new_id()
    with fronting(port_of(secured)) as proxy:
        env = {**with_password(home), "http_proxy": proxy.url, "no_proxy": ""}
        ingested = run("ingest", "--url", "http://flowstatus.invalid:9", "--user", "writer", env=env,
                       stdin=ndjson(provisioning(wid)))
        assert ingested.returncode == 0, ingested.stderr
    assert stored(opensearch_url, index_of(secured), wid)["state"] == "COMPLETED"  # type: ignore[index]


def test_watch_waits_out_an_outage_of_the_server(secured: Served, home: Path) -> None:
    wid = new_id()
    events = provisioning(wid)
    assert run("ingest", "--url", secured.url, "--user", "writer", env=with_password(home),
               stdin=ndjson(events[:2])).returncode == 0
    with fronting(port_of(secured)) as front, watching(wid, front.url, "alice", with_password(home)) as watcher:
        front.cut()  # the long poll in flight breaks, and no new one gets through
        time.sleep(3)
        assert watcher.poll() is None, watcher.communicate()
        assert run("ingest", "--url", secured.url, "--user", "writer", env=with_password(home),
                   stdin=ndjson(events[2:])).returncode == 0
        front.backend = port_of(secured)
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert "COMPLETED" in out
