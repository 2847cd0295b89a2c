"""flowstatus as an ordinary ``all_access`` user: the state index is a protected system index, so it may
not use it. flowstatus says so at start and in ``/_ready``, and every route answers 503, never 500.

With ``plugins.security.system_indices.permission.enabled: true`` OpenSearch refuses (403); with it
false it hides the index: reads find nothing and writes are refused inside 200 answers.
"""

from __future__ import annotations

import json
from pathlib import Path

from flowstatus.app import create_app
from tests.conftest import new_id
from tests.secured.conftest import STATE_INDEX, Secured, assert_secret_free, secrets_of
from tests.secured.flows import BULK, SEARCH, STATUS, UI, events, http, serve_start_output, work_through_client

REFUSED = {"error": "OpenSearch refuses flowstatus access to the state index; /_ready says why"}


def test_refused_all_access_is_named_in_ready_and_every_route_answers_503(secured: Secured) -> None:
    client = create_app(secured.user_settings("everything")).test_client()
    ready = client.get("/_ready")
    assert ready.status_code == 503
    reason = ready.get_json()["reason"]
    assert reason.startswith(f"OpenSearch refuses flowstatus's user access to the state index {STATE_INDEX} "
                             "(403 security_exception: no permissions for []): it is a protected system index")
    wid = new_id()
    answers = [client.get(STATUS.format(wid)), client.post(SEARCH, json={}),
               client.post(BULK, data=events(wid), content_type="application/x-ndjson")]
    for answer in answers:
        assert (answer.status_code, answer.get_json()) == (503, REFUSED), answer.get_data()[:300]
        assert answer.headers["Retry-After"]
    page = client.get(UI)
    assert page.status_code == 503 and REFUSED["error"].encode() in page.get_data()


def test_serve_says_at_start_and_in_ready_that_all_access_is_refused(secured: Secured) -> None:
    seen: dict[str, tuple[int, bytes]] = {}

    def probe(url: str) -> None:
        seen["ready"] = http(url, "GET", "/_ready")
        seen["status"] = http(url, "GET", STATUS.format(new_id()))

    output = serve_start_output(secured.user_env("everything"), while_serving=probe)
    assert f"WARNING: state index {STATE_INDEX} is not ready: OpenSearch refuses flowstatus's user access" in output
    status, body = seen["ready"]
    assert status == 503 and "it is a protected system index" in json.loads(body)["reason"]
    assert seen["status"][0] == 503
    assert_secret_free(output + "".join(b.decode() for _, b in seen.values()), secrets_of(secured, "everything"))


def test_hidden_from_all_access_and_from_the_role_when_permissions_are_off(hidden: Secured, tmp_path: Path) -> None:
    admin = create_app(hidden.admin_settings()).test_client()
    wid = work_through_client(admin)["workflow_id"]  # the admin certificate still sees everything
    for user in ("everything", "flowstatus"):
        client = create_app(hidden.user_settings(user)).test_client()
        ready = client.get("/_ready")
        assert ready.status_code == 503
        reason = ready.get_json()["reason"]
        assert reason.startswith(f"OpenSearch hides the state index {STATE_INDEX} from flowstatus's user: writes are "
                                 "refused (403 security_exception: no permissions for [])"), reason
        assert "plugins.security.system_indices.permission.enabled is false" in reason
        # Not a false "not found": OpenSearch answered "not found" because it hides the index.
        assert (client.get(STATUS.format(wid)).status_code, client.get(STATUS.format(wid)).get_json()) == (
            503, REFUSED)
        written = client.post(BULK, data=b'{"event":"provision_completed","workflow_id":"%s"}\n' % wid.encode(),
                              content_type="application/x-ndjson")
        assert (written.status_code, written.get_json()) == (503, REFUSED)
    # The admin's state is untouched by the refused writes.
    assert admin.get(STATUS.format(wid)).get_json()["state"] == "PROVISIONING"


def test_hidden_reads_are_shown_by_the_documents_counted(hidden: Secured) -> None:
    work_through_client(create_app(hidden.admin_settings()).test_client())
    reason = create_app(hidden.user_settings("everything")).test_client().get("/_ready").get_json()["reason"]
    assert "reads find nothing (OpenSearch holds " in reason and "the user sees 0)" in reason, reason


def test_serve_says_at_start_that_the_index_is_hidden(hidden: Secured) -> None:
    output = serve_start_output(hidden.user_env("everything"))
    assert f"WARNING: state index {STATE_INDEX} is not ready: OpenSearch hides the state index" in output
