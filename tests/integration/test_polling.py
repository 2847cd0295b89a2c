"""Cheap polling: ETags, 304s and long polls, against a real node."""

from __future__ import annotations

import dataclasses
import threading
import time
import urllib.parse
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError

from flowstatus.app import create_app
from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import ResourceCreated
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.services.indexer import StatusIndexer
from flowstatus.settings import Settings
from tests.conftest import new_id

STATUS = "/_plugins/_flow_framework/workflow/{}/_status"
R1 = ResourceCreated("create_connector", "c1", "connector_id", "conn-1")


@pytest.fixture
def indexer(repository: OpenSearchStateRepository) -> StatusIndexer:
    return StatusIndexer(repository)


def provisioning(indexer: StatusIndexer) -> str:
    wid = new_id()
    indexer.record(Event(EventKind.CREATE, wid))
    indexer.record(Event(EventKind.PROVISION_STARTED, wid))
    return wid


def test_status_carries_a_strong_etag_and_no_cache(client: FlaskClient, indexer: StatusIndexer) -> None:
    wid = provisioning(indexer)
    response = client.get(STATUS.format(wid))
    tag, weak = response.get_etag()
    assert tag and not weak
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(STATUS.format(wid), headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == response.headers["ETag"]
    other = client.get(STATUS.format(wid), headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


WRITES: dict[str, list[Event]] = {
    "resource_created": [Event(EventKind.RESOURCE_CREATED, "{id}", resource=R1)],
    "resource_deleted": [Event(EventKind.RESOURCE_CREATED, "{id}", resource=R1),
                         Event(EventKind.RESOURCE_DELETED, "{id}", resource=R1)],
    "provision_completed": [Event(EventKind.PROVISION_COMPLETED, "{id}")],
    "provision_failed": [Event(EventKind.PROVISION_FAILED, "{id}", error="boom")],
    "reprovision": [Event(EventKind.PROVISION_COMPLETED, "{id}"),
                    Event(EventKind.PROVISION_STARTED, "{id}", reprovision=True, time=1)],
    "deprovisioned": [Event(EventKind.DEPROVISIONED, "{id}")],
}


@pytest.mark.parametrize("events", WRITES.values(), ids=list(WRITES))
def test_every_kind_of_write_changes_the_tag(
    events: list[Event], client: FlaskClient, indexer: StatusIndexer
) -> None:
    wid = provisioning(indexer)
    before = client.get(STATUS.format(wid)).headers["ETag"]
    for event in events:
        indexer.record(dataclasses.replace(event, workflow_id=wid))
    response = client.get(STATUS.format(wid), headers={"If-None-Match": before})
    assert response.status_code == 200
    assert response.headers["ETag"] != before


def test_a_write_by_another_writer_changes_the_tag(client: FlaskClient, indexer: StatusIndexer, raw: Any,
                                                   state_index: str) -> None:
    wid = provisioning(indexer)
    before = client.get(STATUS.format(wid)).headers["ETag"]
    # The plugin's own kind of write: a partial-document update.
    raw.update(index=state_index, id=wid, body={"doc": {"state": "COMPLETED", "provisioning_progress": "DONE"}})
    assert client.get(STATUS.format(wid)).headers["ETag"] != before


def test_a_no_op_event_keeps_the_tag(client: FlaskClient, indexer: StatusIndexer) -> None:
    wid = provisioning(indexer)
    before = client.get(STATUS.format(wid)).headers["ETag"]
    indexer.record(Event(EventKind.CREATE, wid))
    assert client.get(STATUS.format(wid), headers={"If-None-Match": before}).status_code == 304


def test_two_representations_never_share_a_tag(client: FlaskClient, indexer: StatusIndexer) -> None:
    wid = provisioning(indexer)
    queries = ["", "?all=true", "?pretty", "?all=true&pretty", "?filter_path=state", "?filter_path=workflow_id",
               "?all=true&filter_path=state"]
    tags = [client.get(STATUS.format(wid) + q).headers["ETag"] for q in queries]
    assert len(set(tags)) == len(queries)
    assert client.get(STATUS.format(wid) + "?all=true", headers={"If-None-Match": tags[0]}).status_code == 200


class Poll(threading.Thread):
    """One long-poll request, run in the background."""

    def __init__(self, app: Flask, url: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(daemon=True)
        self.app, self.url, self.headers = app, url, headers or {}
        self.status: int | None = None
        self.body: Any = None
        self.elapsed = 0.0

    def run(self) -> None:
        started = time.monotonic()
        response = self.app.test_client().get(self.url, headers=self.headers)
        self.elapsed = time.monotonic() - started
        self.status, self.body = response.status_code, response.get_json(silent=True)

    def result(self, timeout: float = 30) -> Poll:
        self.join(timeout)
        assert not self.is_alive(), "the long poll did not return"
        return self


def test_a_long_poll_returns_when_the_workflow_finishes(app: Flask, indexer: StatusIndexer) -> None:
    wid = provisioning(indexer)
    poll = Poll(app, STATUS.format(wid) + "?wait_for_completion_timeout=60s")
    poll.start()
    time.sleep(0.5)
    assert poll.is_alive(), "returned before the workflow finished"
    indexer.record(Event(EventKind.PROVISION_COMPLETED, wid))
    assert poll.result().status == 200
    assert poll.body["state"] == "COMPLETED"
    assert poll.elapsed < 30  # woke on the change, long before the 60 s


def test_with_if_none_match_a_long_poll_returns_on_any_change(app: Flask, client: FlaskClient,
                                                             indexer: StatusIndexer) -> None:
    wid = provisioning(indexer)
    tag = client.get(STATUS.format(wid)).headers["ETag"]
    poll = Poll(app, STATUS.format(wid) + "?wait_for_completion_timeout=60s", {"If-None-Match": tag})
    poll.start()
    time.sleep(0.5)
    assert poll.is_alive()
    indexer.record(Event(EventKind.RESOURCE_CREATED, wid, resource=R1))
    assert poll.result().status == 200
    assert poll.body["state"] == "PROVISIONING"
    assert poll.body["resources_created"][0]["resource_id"] == "conn-1"


def test_a_long_poll_that_times_out_answers_the_current_state(client: FlaskClient, indexer: StatusIndexer) -> None:
    wid = provisioning(indexer)
    started = time.monotonic()
    response = client.get(STATUS.format(wid) + "?wait_for_completion_timeout=1s")
    assert time.monotonic() - started >= 0.9
    assert response.status_code == 200
    assert response.get_json()["state"] == "PROVISIONING"
    tag = response.headers["ETag"]
    unchanged = client.get(STATUS.format(wid) + "?wait_for_completion_timeout=500ms", headers={"If-None-Match": tag})
    assert unchanged.status_code == 304


def test_a_finished_workflow_answers_at_once(client: FlaskClient, indexer: StatusIndexer) -> None:
    wid = provisioning(indexer)
    indexer.record(Event(EventKind.PROVISION_FAILED, wid, error="boom"))
    started = time.monotonic()
    response = client.get(STATUS.format(wid) + "?wait_for_completion_timeout=60s")
    assert response.get_json()["state"] == "FAILED"
    assert time.monotonic() - started < 30


def test_the_wait_is_capped_server_side(settings: Settings, indexer: StatusIndexer) -> None:
    client = create_app(dataclasses.replace(settings, long_poll_max=1.0)).test_client()
    wid = provisioning(indexer)
    started = time.monotonic()
    response = client.get(STATUS.format(wid) + "?wait_for_completion_timeout=1h")
    assert response.status_code == 200
    assert time.monotonic() - started < 30  # an hour was asked for; the cap is one second


def test_beyond_the_waiter_cap_requests_are_answered_at_once(settings: Settings, indexer: StatusIndexer) -> None:
    app = create_app(dataclasses.replace(settings, long_poll_max_waiters=1))
    wid = provisioning(indexer)
    first = Poll(app, STATUS.format(wid) + "?wait_for_completion_timeout=60s")
    first.start()
    deadline = time.monotonic() + 10
    while app.extensions["flowstatus"].watcher.waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    second = Poll(app, STATUS.format(wid) + "?wait_for_completion_timeout=60s")
    second.start()
    second.result(timeout=20)
    assert second.status == 200 and second.body["state"] == "PROVISIONING"
    assert first.is_alive(), "the first waiter still waits"
    indexer.record(Event(EventKind.PROVISION_COMPLETED, wid))
    assert first.result().body["state"] == "COMPLETED"


def test_a_workflow_deleted_while_waiting_is_404(app: Flask, indexer: StatusIndexer) -> None:
    wid = provisioning(indexer)
    poll = Poll(app, STATUS.format(wid) + "?wait_for_completion_timeout=60s")
    poll.start()
    time.sleep(0.5)
    indexer.apply([Event(EventKind.DEPROVISIONED, wid), Event(EventKind.DELETED, wid)])
    assert poll.result().status == 404
    assert poll.body == {"error": f"Fail to find workflow status of {wid}"}


# Time values OpenSearch reads and ones it refuses, for each of its reasons and spellings.
TIME_VALUES = ["5s", "5S", " 5 s ", "+5s", "-1s", "-1", "-01", "0", "00", "500ms", "2m", "2M", "5m ", "1h", "1d",
               "10nanos", "10micros", "10", "x", "xs", "1y", "", "-5s", "-0s", "1.5s", "1e3ms", ".5m", "5fs",
               "0x1p3s", "99999999999999999999s", "1_0s", "0x10s", "5 s s", "nans", "NaNs", "Infinitys", "٥s"]


@pytest.mark.parametrize("value", TIME_VALUES)
def test_a_wait_is_read_as_opensearch_reads_a_time_value(value: str, client: FlaskClient, raw: OpenSearch) -> None:
    """Accepted or refused as the node's own parser does (``_cluster/health?cluster_manager_timeout=``), with its reason."""
    try:
        raw.transport.perform_request("GET", "/_cluster/health", params={"cluster_manager_timeout": value})
        theirs: dict[str, Any] | None = None
    except RequestError as exc:
        theirs = exc.info["error"]
    query = urllib.parse.urlencode({"wait_for_completion_timeout": value})
    response = client.get(STATUS.format(new_id()) + "?" + query)  # no such workflow: nothing to wait for
    if theirs is None:
        assert response.status_code == 404, response.get_json()
    else:
        assert response.status_code == 400
        ours = response.get_json()["error"]
        assert ours["type"] == theirs["type"]
        assert ours["reason"] == theirs["reason"].replace("[cluster_manager_timeout]", "[wait_for_completion_timeout]")
