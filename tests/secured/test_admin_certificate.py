"""flowstatus as the admin certificate (mutual TLS, the super admin): every route, the real server, the
indexer, ``flowstatus ingest`` and ``init-index`` on the protected system index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flowstatus.app import create_app
from flowstatus.composition import Components
from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.outcomes import Result
from tests.conftest import new_id
from tests.e2e.conftest import serving
from tests.secured.conftest import STATE_INDEX, Secured, assert_secret_free, secrets_of
from tests.secured.flows import BULK, STATUS, events, http, process_env, work_through_client, work_through_server


def test_every_route_works_through_the_app(secured: Secured) -> None:
    client = create_app(secured.admin_settings()).test_client()
    assert client.get("/_ready").status_code == 200
    work_through_client(client)
    assert client.get("/metrics").status_code == 200


def test_the_real_server_works_and_keeps_the_key_out_of_logs_metrics_and_errors(secured: Secured,
                                                                                 tmp_path: Path) -> None:
    with serving(secured.url, STATE_INDEX, tmp_path / "serve.log", "--workers", "2",
                 env=process_env(secured.admin_env())) as served:
        work_through_server(served.url)
        answers = [http(served.url, "GET", STATUS.format(new_id())),  # 404
                   http(served.url, "POST", BULK, b"{not json\n", "application/x-ndjson"),  # 400
                   http(served.url, "GET", "/_ready"), http(served.url, "GET", "/metrics")]
        assert [status for status, _ in answers] == [404, 200, 200, 200]
        log = served.output()
    assert "state index .plugins-flow-framework-state: ready (flowstatus may read, search and write it)" in log
    assert_secret_free(log + "".join(body.decode() for _, body in answers), secrets_of(secured))


def test_init_index_makes_the_protected_state_index(secured: Secured) -> None:
    secured.drop_state_index()
    env = process_env(secured.admin_env())
    made = subprocess.run([sys.executable, "-m", "flowstatus", "init-index"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    steps = f"{STATE_INDEX}-flowstatus-steps"
    assert (made.returncode, made.stdout.strip()) == (0, f"{STATE_INDEX}: created; {steps}: created"), made.stderr
    status, body = secured.node.request("GET", f"/{STATE_INDEX}/_settings")
    assert status == 200 and json.loads(body)[STATE_INDEX]["settings"]["index"]["hidden"] == "true"
    # The security plugin protects it: even all_access may not read it.
    assert secured.node.request_as("everything", "GET", f"/{STATE_INDEX}/_mapping")[0] == 403
    again = subprocess.run([sys.executable, "-m", "flowstatus", "init-index"], env=env, capture_output=True,
                           text=True, timeout=60, check=False)
    assert again.stdout.strip() == f"{STATE_INDEX}: current; {steps}: current", again.stderr


def test_the_indexer_and_ingest_write_as_the_admin(secured: Secured) -> None:
    wid, other = new_id(), new_id()
    indexer = Components(secured.admin_settings()).indexer
    results = indexer.apply([Event(EventKind.CREATE, wid), Event(EventKind.PROVISION_STARTED, wid)])
    assert [r.result for r in results] == [Result.CREATED, Result.UPDATED]
    ingested = subprocess.run([sys.executable, "-m", "flowstatus", "ingest", "-"], input=events(other).decode(),
                              env=process_env(secured.admin_env()), capture_output=True, text=True, timeout=60,
                              check=False)
    assert ingested.returncode == 0, ingested.stderr
    status, body = secured.node.request("GET", f"/{STATE_INDEX}/_doc/{other}")
    assert status == 200 and json.loads(body)["_source"]["state"] == "PROVISIONING"
