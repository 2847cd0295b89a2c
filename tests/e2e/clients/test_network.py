"""``watch`` and ``ingest --url`` through TLS: a terminator in front of a server with users, its certificate
signed by a test CA."""

from __future__ import annotations

import ssl
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

