"""The status indexer against a real node: transitions, refusals, concurrency."""

from __future__ import annotations

import threading
from collections import Counter

import orjson
import pytest
from flask.testing import FlaskClient
from opensearchpy import OpenSearch

from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import ResourceCreated
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.schemas.bulk import item_status
from flowstatus.schemas.events import parse_event
from flowstatus.schemas.state import STATE_KEYS, load_state
from flowstatus.services.indexer import EventRefused, StatusIndexer
from flowstatus.settings import Settings
from tests.conftest import new_id
from tests.transition_table import CASES, Case


def stored(raw: OpenSearch, index: str, wid: str) -> tuple[dict | None, int | None]:
    doc = raw.get(index=index, id=wid, ignore=404)
    return (doc["_source"], doc["_seq_no"]) if doc.get("found") else (None, None)


def apply_python(indexer: StatusIndexer, _client: FlaskClient, line: dict) -> tuple[int, str | None]:
    (result,) = indexer.apply([parse_event(orjson.dumps(line))])
    return item_status(result), result.result.value if result.result else None


def apply_rest(_indexer: StatusIndexer, client: FlaskClient, line: dict) -> tuple[int, str | None]:
    response = client.post("/_flowstatus/_bulk", data=orjson.dumps(line) + b"\n", content_type="application/x-ndjson")
    assert response.status_code == 200
    (item,) = response.get_json()["items"]
    (body,) = item.values()
    return body["status"], body.get("result")


@pytest.mark.parametrize("apply", [apply_python, apply_rest], ids=["python", "rest"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_transition_allowed_and_refused(
    case: Case, apply, repository: OpenSearchStateRepository, raw: OpenSearch, state_index: str, client: FlaskClient
) -> None:
    wid = new_id()
    if case.before is not None:
        raw.index(index=state_index, id=wid, body=case.doc(wid, case.before))
    _, seq_before = stored(raw, state_index, wid)
    status, result = apply(StatusIndexer(repository), client, case.event_for(wid))
    assert (status, result) == (case.status, case.result)
    source, seq_after = stored(raw, state_index, wid)
    assert source == case.doc(wid, case.after)
    if status >= 400 or result == "noop":
        assert seq_after == seq_before, "a refused or repeated event wrote something"


@pytest.mark.parametrize("shared", [False, True], ids=["independent-writers", "one-indexer"])
def test_sixteen_writers_lose_and_double_nothing(
    shared: bool, settings: Settings, raw: OpenSearch, state_index: str
) -> None:
    """16 writers append 1,008 resources to one workflow.

    independent-writers: each has its own indexer and client, as separate
    processes would, so every append races through seq_no/primary_term.
    one-indexer: the writers share one indexer, whose group commit combines them.
    """
    wid, writers, per_writer = new_id(), 16, 63
    common = StatusIndexer(OpenSearchStateRepository.from_settings(settings))
    common.record(Event(EventKind.CREATE, wid))
    common.record(Event(EventKind.PROVISION_STARTED, wid))
    retries = Counter()
    failures: list[BaseException] = []

    def write(n: int) -> None:
        indexer = common if shared else StatusIndexer(OpenSearchStateRepository.from_settings(settings))
        try:
            for i in range(per_writer):
                resource = ResourceCreated("create_index", f"step_{n}_{i}", "index_name", f"index-{n}-{i}")
                event = Event(EventKind.RESOURCE_CREATED, wid, resource=resource)
                while True:  # at-least-once delivery: re-send what the indexer gave up on
                    try:
                        indexer.record(event)
                        break
                    except EventRefused as exc:
                        assert item_status(exc.result) == 409, exc.result.reason
                        retries["resent"] += 1
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    source, _ = stored(raw, state_index, wid)
    assert source is not None
    ids = [r["resource_id"] for r in source["resources_created"]]
    print(f"\n{writers} {'writers sharing one indexer' if shared else 'independent writers'} recorded {len(ids)} resources on one workflow; "
          f"{retries['resent']} events re-sent after exhausted retries")
    assert len(ids) == writers * per_writer
    assert len(set(ids)) == len(ids), "a resource was recorded twice"
    assert set(ids) == {f"index-{n}-{i}" for n in range(writers) for i in range(per_writer)}
    assert set(source) <= set(STATE_KEYS), "a key the plugin's strict parser would reject"
    load_state(source)
    for n in range(writers):  # each writer's appends kept their order
        own = [i for i in ids if i.startswith(f"index-{n}-")]
        assert own == [f"index-{n}-{i}" for i in range(per_writer)]


def test_a_batch_of_appends_to_one_workflow_is_one_write(repository: OpenSearchStateRepository, raw: OpenSearch, state_index: str) -> None:
    wid = new_id()
    indexer = StatusIndexer(repository)
    indexer.apply([Event(EventKind.CREATE, wid), Event(EventKind.PROVISION_STARTED, wid)])
    _, before = stored(raw, state_index, wid)
    events = [Event(EventKind.RESOURCE_CREATED, wid, resource=ResourceCreated("create_index", f"s{i}", "index_name", f"i{i}"))
              for i in range(200)]
    results = indexer.apply(events)
    assert all(item_status(r) == 200 for r in results)
    source, after = stored(raw, state_index, wid)
    assert after == before + 1
    assert len(source["resources_created"]) == 200
