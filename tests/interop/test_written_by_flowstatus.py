"""Documents flowstatus writes are read by the plugin as flowstatus reads them.

Every event kind goes through flowstatus's bulk route (its indexer), on a
workflow without a creator and on one whose creator is given as the plugin
writes users.  After each event the plugin's ``_status``,
``_status?all=true`` and its state ``_search`` answer as flowstatus's do.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.answers import Answer, AppEndpoint, assert_reads_alike, search_view
from tests.interop.events import record, resource
from tests.interop.plugin import FF, Plugin, status_path, unique

SEARCH = f"{FF}/state/_search"
QUERIES = ("", "?all=true")


def journey(workflow_id: str, user: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """Every event kind, in an order the transitions allow; (what the state is after it, the event)."""
    first, second = resource(unique("ix")), resource(unique("ix"), "create_index_2")
    events = [
        ("NOT_STARTED", {"event": "create"} | ({"user": user} if user else {})),
        ("PROVISIONING", {"event": "provision_started"}),
        ("PROVISIONING", {"event": "resource_created", **first}),
        ("PROVISIONING", {"event": "resource_created", **second}),
        ("PROVISIONING", {"event": "resource_deleted", **second}),
        ("COMPLETED", {"event": "provision_completed"}),
        ("PROVISIONING", {"event": "provision_started", "reprovision": True}),
        ("FAILED", {"event": "provision_failed",
                    "error": "index [x] already exists during step create_index_2, restStatus: BAD_REQUEST"}),
        ("NOT_STARTED", {"event": "deprovisioned"}),
        (None, {"event": "deleted"}),
    ]
    return [(state, {**event, "workflow_id": workflow_id}) for state, event in events]


def hits(answer: Answer, *, drop_user: bool) -> Any:
    status, body = search_view(answer)
    if drop_user and isinstance(body, dict):
        for hit in body["hits"]["hits"]:
            hit.get("_source", {}).pop("user", None)
    return status, body


@pytest.mark.parametrize("with_user", [False, True], ids=["no-user", "plugin-shaped-user"])
def test_every_event_kind_reads_alike(with_user: bool, plugin: Plugin, flowstatus: AppEndpoint,
                                      plugin_user: dict[str, Any]) -> None:
    workflow_id = unique("fs")
    for state, event in journey(workflow_id, plugin_user if with_user else None):
        record(flowstatus, event)
        for query in QUERIES:
            answer = assert_reads_alike(plugin, flowstatus, status_path(workflow_id, query))
            assert answer.json().get("state") == state, (event, answer.json())
        if with_user and state is not None:
            assert plugin.status(workflow_id)["user"] == plugin_user, "the plugin renders the creator it was given"

        plugin.refresh_state()
        body = {"query": {"ids": {"values": [workflow_id]}}}
        ours, theirs = plugin.call("POST", SEARCH, body), flowstatus.call("POST", SEARCH, body)
        assert ours.status == 200 and ours.json()["hits"]["total"]["value"] == (0 if state is None else 1)
        # The plugin hides ``user`` from callers without one, flowstatus shows it to
        # its anonymous callers: test_differences_search names that difference.
        assert hits(theirs, drop_user=True) == hits(ours, drop_user=False)
