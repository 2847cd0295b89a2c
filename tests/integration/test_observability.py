"""Request ids reach OpenSearch; metrics are exposed with bounded labels."""

from __future__ import annotations

import json
import logging
import logging.config
import re

import pytest
from flask.testing import FlaskClient

from flowstatus.api.observability import UNMATCHED
from flowstatus.app import create_app
from flowstatus.observability.logs import logging_config
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.settings import Settings
from tests.conftest import new_id
from tests.exposition import metric
from tests.recording_proxy import RecordingProxy

STATUS = "/_plugins/_flow_framework/workflow/{}/_status"


def test_the_request_id_is_sent_to_opensearch_as_x_opaque_id(
    recording_proxy: RecordingProxy, settings: Settings
) -> None:
    seen = recording_proxy.seen
    client = create_app(Settings(opensearch_hosts=(recording_proxy.url,), state_index=settings.state_index)).test_client()
    response = client.get(STATUS.format(new_id()), headers={"X-Request-Id": "trace-me-42"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "trace-me-42"
    assert seen and seen[-1].headers.get("x-opaque-id") == "trace-me-42"

    generated = client.get(STATUS.format(new_id()), headers={"X-Request-Id": "bad id\twith junk"})
    rid = generated.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid), "an unsafe incoming id is replaced"
    # An id flowstatus made up stays in its logs: OpenSearch would log a deprecation line per distinct id.
    assert "x-opaque-id" not in seen[-1].headers and client.get(STATUS.format(new_id())).status_code == 404
    assert "x-opaque-id" not in seen[-1].headers


def test_metrics_expose_the_named_series(client: FlaskClient) -> None:
    client.get(STATUS.format(new_id()))
    client.post("/_flowstatus/_bulk", data=b'{"event":"create","workflow_id":"' + new_id().encode() + b'"}\n',
                content_type="application/x-ndjson")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    route = "/_plugins/_flow_framework/workflow/<workflow_id:workflow_id>/_status"
    assert metric(text, "flowstatus_http_requests_total", route=route, method="GET", status="404") >= 1
    assert metric(text, "flowstatus_http_request_duration_seconds_count", route=route, method="GET") >= 1
    assert metric(text, "flowstatus_opensearch_request_duration_seconds_count", operation="get") >= 1
    assert metric(text, "flowstatus_opensearch_request_duration_seconds_count", operation="bulk") >= 1
    for name in ("flowstatus_opensearch_errors_total", "flowstatus_indexer_conflict_retries_total",
                 "flowstatus_long_poll_waiters"):
        assert f"# TYPE {name.removesuffix('_total')}" in text


def test_label_values_stay_bounded_when_ids_are_random(client: FlaskClient) -> None:
    for _ in range(50):
        client.get(STATUS.format(new_id()))
        client.open("/nothing/" + new_id(), method="BREW")
    text = client.get("/metrics").get_data(as_text=True)
    series = [line for line in text.splitlines() if line.startswith("flowstatus_http_requests_total{")]
    assert not any("wf-" in line for line in series), "a workflow id leaked into a label"
    routes = {re.search(r'route="([^"]*)"', line).group(1) for line in series}  # type: ignore[union-attr]
    methods = {re.search(r'method="([^"]*)"', line).group(1) for line in series}  # type: ignore[union-attr]
    # Every label is a registered rule (or the one catch-all), so the series count cannot grow with traffic.
    rules = {rule.rule for rule in client.application.url_map.iter_rules()} | {UNMATCHED}
    assert routes <= rules and methods <= {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "OTHER"}
    assert "OTHER" in methods


class RacedRepository(OpenSearchStateRepository):
    """Another writer gets in between flowstatus's read and its first write."""

    raced = False

    def write_many(self, ops):  # type: ignore[no-untyped-def]
        if not self.raced:
            self.raced = True
            for op in ops:
                self.client.update(index=self.index, id=op.workflow_id, body={"doc": {"error": "raced"}})
        return super().write_many(ops)


def test_conflict_retries_are_counted(settings: Settings, raw: object) -> None:
    wid = new_id()
    raw.index(index=settings.state_index, id=wid,  # type: ignore[attr-defined]
              body={"workflow_id": wid, "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED"})
    client = create_app(settings, repository=RacedRepository.from_settings(settings)).test_client()
    before = metric(client.get("/metrics").get_data(as_text=True), "flowstatus_indexer_conflict_retries_total")
    body = json.dumps({"event": "provision_started", "workflow_id": wid}).encode() + b"\n"
    item = client.post("/_flowstatus/_bulk", data=body, content_type="application/x-ndjson").get_json()["items"][0]
    assert item["provision_started"]["status"] == 200
    after = metric(client.get("/metrics").get_data(as_text=True), "flowstatus_indexer_conflict_retries_total")
    assert after == before + 1


def test_log_lines_are_json_with_the_request_id(client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(logging_config("INFO", access_log=True))
    try:
        client.get(STATUS.format(new_id()), headers={"X-Request-Id": "log-me"})
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False,
                                   "root": {"level": "WARNING", "handlers": []},
                                   "loggers": {"flowstatus.access": {"level": "WARNING"}}})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "flowstatus.access"]
    assert access and access[-1]["request_id"] == "log-me"
    assert access[-1]["status"] == 404 and "duration_ms" in access[-1]
