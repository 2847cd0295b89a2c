"""A long poll may not hand its caller a workflow that changed owner while it waited."""

from __future__ import annotations

import json
import threading
import time
import uuid

from tests.hostile.conftest import AppFactory
from tests.hostile.search_corpus import STATUS, credentials

BULK = "/_flowstatus/_bulk"
ADMIN_RESOURCE = "res-admin-swapped-in"


def post_events(client, user: str, *events: dict) -> list[dict]:  # type: ignore[no-untyped-def]
    body = "".join(json.dumps(e) + "\n" for e in events)
    response = client.post(BULK, data=body, content_type="application/x-ndjson", headers=credentials(user))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [next(iter(item.values())) for item in response.get_json()["items"]]


def test_a_workflow_recreated_by_an_admin_while_bob_waits_is_refused_to_bob(hostile_app: AppFactory) -> None:
    # Ticks 2 s apart: the admin's delete and create land between two, as they did when this leaked.
    bob = hostile_app(long_poll_interval=2.0)
    wid = f"wf-swap-{uuid.uuid4().hex[:12]}"
    (created,) = post_events(bob, "bob", {"event": "create", "workflow_id": wid})
    assert created["status"] == 201
    first = bob.get(STATUS.format(wid) + "?all=true", headers=credentials("bob"))
    assert first.status_code == 200 and first.get_json()["user"]["name"] == "bob"
    waiting = bob.application.test_client()
    outcome: dict[str, object] = {}

    def long_poll() -> None:
        headers = {**credentials("bob"), "If-None-Match": first.headers["ETag"]}
        outcome["response"] = waiting.get(STATUS.format(wid) + "?all=true&wait_for_completion_timeout=20s",
                                          headers=headers)

    thread = threading.Thread(target=long_poll)
    thread.start()
    time.sleep(0.3)  # the poll is waiting: its first tick saw bob's workflow unchanged
    admin = bob.application.test_client()
    results = post_events(admin, "admin",
                          {"event": "deleted", "workflow_id": wid, "clear_status": True},
                          {"event": "create", "workflow_id": wid},
                          {"event": "provision_started", "workflow_id": wid},
                          {"event": "resource_created", "workflow_id": wid, "workflow_step_name": "create_connector",
                           "workflow_step_id": "create_connector_1", "resource_id": ADMIN_RESOURCE})
    assert [r["status"] for r in results] == [200, 201, 200, 200], results
    thread.join(timeout=30)
    response = outcome["response"]
    assert response.status_code == 403, response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.get_json() == {"error": f"User does not have permissions to access workflow: {wid}"}  # type: ignore[attr-defined]
    assert ADMIN_RESOURCE not in response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert bob.get(STATUS.format(wid), headers=credentials("bob")).status_code == 403, "as a plain read answers"
