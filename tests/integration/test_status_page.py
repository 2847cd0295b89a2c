"""The status page over HTTP against a real node: content, order, filters, paging, escaping, access."""

from __future__ import annotations

import html
import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.domain.access import ANONYMOUS, Caller
from flowstatus.domain.model import User
from flowstatus.settings import Settings
from tests.integration.conftest import client_as, seeded_state_index

UI = "/_flowstatus/ui"
SEARCH = "/_plugins/_flow_framework/workflow/state/_search"
NOW = int(time.time() * 1000)
MINUTE = 60_000
XSS_ID = '<script>alert("id")</script>/x'
XSS_ERROR = 'WorkflowStepException <img src=x onerror=alert(1)>\nsecond line "quoted" & more'
LONG_ERROR = "E" * 150


def user(name: str, *roles: str) -> dict[str, Any]:
    return {"name": name, "backend_roles": list(roles), "roles": [], "custom_attribute_names": []}


def resource(n: int) -> dict[str, str]:
    return {"workflow_step_name": "create_index", "workflow_step_id": f"create_index_{n}",
            "resource_type": "index_name", "resource_id": f"index-{n}"}


# Written in this order, so among workflows without a start time the later has the higher _seq_no.
PAGE_CORPUS: dict[str, dict[str, Any]] = {
    "old-new": {"workflow_id": "old-new", "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED",
                "user": user("bob", "team-b"), "tenant_id": "b"},
    "done": {"workflow_id": "done", "state": "COMPLETED", "provisioning_progress": "DONE",
             "provision_start_time": NOW - 90 * MINUTE, "provision_end_time": NOW - 88 * MINUTE,
             "resources_created": [resource(1), resource(2)], "user": user("alice", "team-a"), "tenant_id": "a"},
    XSS_ID: {"workflow_id": XSS_ID, "error": XSS_ERROR, "state": "FAILED", "provisioning_progress": "FAILED",
             "provision_start_time": NOW - 60 * MINUTE, "provision_end_time": NOW - 59 * MINUTE,
             "user": user("alice", "team-a"), "tenant_id": "a"},
    "long-error": {"workflow_id": "long-error", "error": LONG_ERROR, "state": "FAILED",
                   "provisioning_progress": "FAILED", "provision_start_time": NOW - 120 * MINUTE,
                   "provision_end_time": NOW - 119 * MINUTE, "user": user("bob", "team-b"), "tenant_id": "b"},
    "running": {"workflow_id": "running", "state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
                "provision_start_time": NOW - 2 * MINUTE, "resources_created": [resource(3)],
                "user": user("bob", "team-b"), "tenant_id": "b"},
    "unreadable": {"workflow_id": 5, "state": ["COMPLETED", "FAILED"], "tenant_id": "c"},
    "fresh-new": {"workflow_id": "fresh-new", "state": "NOT_STARTED", "provisioning_progress": "NOT_STARTED",
                  "user": user("alice", "team-a"), "tenant_id": "a"},
}
# Never provisioned first (latest write first), then by start time, newest first.
NEWEST_FIRST = ["fresh-new", "unreadable", "old-new", "running", XSS_ID, "done", "long-error"]

BOB = Caller(User("bob", backend_roles=("team-b",)), tenant_id="b")
ALICE = Caller(User("alice", backend_roles=("team-a",)), tenant_id="a")


@pytest.fixture(scope="module")
def page_index(opensearch_url: str) -> Iterator[str]:
    with seeded_state_index(opensearch_url, "page", PAGE_CORPUS) as index:
        yield index


Browser = Callable[..., FlaskClient]


@pytest.fixture
def visitor(opensearch_url: str, page_index: str) -> Browser:
    """``visitor(caller, **settings)``: a client of an app on the page corpus, every request made as ``caller``."""

    def make(caller: Caller = ANONYMOUS, **overrides: Any) -> FlaskClient:
        return client_as(opensearch_url, page_index, caller, **overrides)

    return make


def row_ids(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'<tr data-workflow-id="([^"]*)"', page)]


def row_html(page: str, workflow_id: str) -> str:
    found = re.search(rf'<tr data-workflow-id="{re.escape(workflow_id)}".*?</tr>', page, re.DOTALL)
    assert found is not None, f"no row for {workflow_id}"
    return found.group(0)


def chip_counts(page: str) -> dict[str, int]:
    found = re.findall(r'data-state="([A-Z_]*)"\s+href="[^"]*">[^<]*<span class="count">(\d+)</span>', page)
    return {state or "All": int(count) for state, count in found}


def get(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "text/html; charset=utf-8"
    return response.get_data(as_text=True)


# -- the list -------------------------------------------------------------------------


def test_the_list_shows_every_workflow_newest_first(visitor: Browser) -> None:
    page = get(visitor(), UI)
    assert row_ids(page) == NEWEST_FIRST
    assert "Page 1 of 1 · 7 workflows" in page


def test_each_row_shows_state_progress_resources_times_duration_and_error(visitor: Browser) -> None:
    page = get(visitor(), UI)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row_html(page, "done"))]
    start = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime((NOW - 90 * MINUTE) // 1000))
    end = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime((NOW - 88 * MINUTE) // 1000))
    assert cells == ["done", "COMPLETED", "DONE", "", "2", start, end, "2 min 0 s", ""]  # no running step: done
    long_row = row_html(page, "long-error")
    assert f'title="{LONG_ERROR}"' in long_row and "E" * 100 + "…" in long_row


def test_a_running_workflow_shows_how_long_it_has_been_running(visitor: Browser) -> None:
    row = row_html(get(visitor(), UI), "running")
    shown = re.search(r'<td class="num">(\d+) min \d+ s</td>', row)
    assert shown is not None, row
    since_seeded = (time.time() * 1000 - NOW) / MINUTE
    assert 2 <= int(shown.group(1)) <= 2 + since_seeded


def test_a_document_not_in_the_plugins_format_is_shown_as_such(visitor: Browser) -> None:
    row = row_html(get(visitor(), UI), "unreadable")
    assert "not in the plugin's format" in row


def test_counts_per_state_stay_whole_while_filtering(visitor: Browser) -> None:
    client = visitor()
    expected = {"All": 7, "NOT_STARTED": 2, "PROVISIONING": 1, "FAILED": 3, "COMPLETED": 2}  # "unreadable" twice
    assert chip_counts(get(client, UI)) == expected
    failed = get(client, UI + "?state=FAILED")
    assert chip_counts(failed) == expected
    assert row_ids(failed) == ["unreadable", XSS_ID, "long-error"]  # a stored list of states matches each
    assert set(row_ids(get(client, UI + "?state=NOT_STARTED"))) == {"fresh-new", "old-new"}
    assert 'class="chip state-failed active"' in failed


def test_paging_walks_the_same_order(visitor: Browser) -> None:
    client = visitor()
    seen: list[str] = []
    for number in (1, 2, 3, 4):
        page = get(client, f"{UI}?size=2&page={number}")
        assert f"Page {number} of 4" in page
        seen += row_ids(page)
        assert ('rel="next"' in page) == (number < 4)
        assert ('rel="prev"' in page) == (number > 1)
    assert seen == NEWEST_FIRST


def test_a_page_past_the_end_is_empty_not_an_error(visitor: Browser) -> None:
    page = get(visitor(), UI + "?page=9")
    assert row_ids(page) == [] and "No workflows on page 9." in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("state=RUNNING", "unknown state &#39;RUNNING&#39;: use one of NOT_STARTED, PROVISIONING, FAILED, COMPLETED"),
        ("state=failed", "unknown state &#39;failed&#39;"),
        ("page=0", "page must be a whole number from 1 to 500, not &#39;0&#39;"),
        ("page=-1", "page must be a whole number from 1 to 500"),
        ("page=abc", "page must be a whole number from 1 to 500"),
        ("page=１", "page must be a whole number"),
        ("page=99999999999999999999999", "page must be a whole number"),
        ("size=10&page=1001", "page must be a whole number from 1 to 1000, not &#39;1001&#39;"),
        ("size=0", "size must be a whole number from 1 to 100"),
        ("size=101", "size must be a whole number from 1 to 100"),
        ("size=1e3", "size must be a whole number from 1 to 100"),
        ("sate=FAILED", "contains unrecognized parameter: [sate] -&gt; did you mean [state]?"),
        ("pretty=maybe", "Failed to parse value [maybe] as only [true] or [false] are allowed."),
    ],
)
def test_bad_parameters_are_a_400_page_saying_why(visitor: Browser, query: str, message: str) -> None:
    page = get(visitor(), f"{UI}?{query}", 400)
    assert message in page


@pytest.mark.parametrize(
    "query",
    ["state=", "page=", "state=%00", "state=%3Cscript%3E", "page=%00", "size=%20", "state=FAILED&state=",
     "page=2&page=1", "filter_path=x", "%FF=1", "state=%FF%FE", "size=" + "9" * 5000],
)
def test_no_query_string_is_a_server_error(visitor: Browser, query: str) -> None:
    response = visitor().get(f"{UI}?{query}")
    assert response.status_code in (200, 400)
    assert "<script>" not in response.get_data(as_text=True).replace('<script src="', "")


# -- escaping -------------------------------------------------------------------------


def test_ids_and_errors_are_escaped_everywhere(visitor: Browser) -> None:
    client = visitor()
    page = get(client, UI)
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#34;id&#34;)&lt;/script&gt;/x" in page
    link = re.search(r'<a href="([^"]*)" title="[^"]*">&lt;script', page)
    assert link is not None and link.group(1) == "/_flowstatus/ui/workflow/%3Cscript%3Ealert(%22id%22)%3C/script%3E/x"
    detail = get(client, html.unescape(link.group(1)))
    assert "<script>alert" not in detail and "<img" not in detail
    assert "WorkflowStepException &lt;img src=x onerror=alert(1)&gt;\nsecond line &#34;quoted&#34; &amp; more" in detail


def test_the_page_forbids_inline_scripts_and_framing(visitor: Browser) -> None:
    response = visitor().get(UI)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_script_and_stylesheet_are_served(visitor: Browser) -> None:
    client = visitor()
    for name in ("refresh.js", "status.css"):
        with client.get(f"/static/{name}") as response:
            assert response.status_code == 200


# -- detail ---------------------------------------------------------------------------


def test_the_detail_view_shows_resources_and_the_full_error(visitor: Browser) -> None:
    client = visitor()
    done = get(client, UI + "/workflow/done")
    assert done.count("<code>index-") == 2 and "create_index_2" in done
    failed = get(client, UI + "/workflow/long-error")
    assert f'<pre class="error" id="error">{LONG_ERROR}</pre>' in failed
    assert "Created by" not in failed  # user is shown to all_access callers only, as in the plugin
    admin = get(visitor(Caller(User("root", roles=("all_access",)))), UI + "/workflow/long-error")
    assert "Created by</dt><dd>bob" in admin


def test_an_unknown_workflow_is_a_404_page(visitor: Browser) -> None:
    page = get(visitor(), UI + "/workflow/nope", 404)
    assert "No workflow &#39;nope&#39; is visible to you." in page


# -- same access as the API -----------------------------------------------------------


@pytest.mark.parametrize("caller", [BOB, ALICE], ids=["bob", "alice"])
@pytest.mark.parametrize(
    "settings", [{"filter_by_backend_roles": True}, {"multi_tenancy": True}], ids=["roles", "tenants"]
)
def test_the_page_shows_exactly_what_the_api_shows(visitor: Browser, caller: Caller, settings: dict[str, bool]) -> None:
    client = visitor(caller, **settings)
    api = {hit["_id"] for hit in client.post(SEARCH, json={"size": 100}).get_json()["hits"]["hits"]}
    shown = row_ids(get(client, UI))
    assert set(shown) == api and len(shown) == len(api) and 0 < len(api) < len(PAGE_CORPUS)
    assert chip_counts(get(client, UI))["All"] == len(api)
    hidden = next(i for i in ("done", "long-error") if i not in api)
    get(client, f"{UI}/workflow/{hidden}", 404)


def test_user_is_not_shown_to_callers_without_all_access(visitor: Browser) -> None:
    assert "Created by" not in get(visitor(BOB), UI + "/workflow/long-error")


def test_multi_tenancy_without_a_tenant_is_a_403_page(visitor: Browser) -> None:
    page = get(visitor(Caller(User("x")), multi_tenancy=True), UI, 403)
    assert "Tenant ID header is missing or has no value" in page


# -- refreshing -----------------------------------------------------------------------


def test_the_page_refreshes_itself_only_while_something_is_provisioning(visitor: Browser) -> None:
    assert 'data-refresh-ms="2000"' in get(visitor(), UI)
    assert 'data-refresh-ms="2000"' in get(visitor(), UI + "?state=COMPLETED")  # counts span all states
    assert "data-refresh-ms" not in get(visitor(ALICE, multi_tenancy=True), UI)  # alice has none running
    assert 'data-refresh-ms="2000"' in get(visitor(), UI + "/workflow/running")
    assert "data-refresh-ms" not in get(visitor(), UI + "/workflow/done")


# -- the store ------------------------------------------------------------------------


def test_a_missing_state_index_is_an_empty_list(opensearch_url: str, unique_index: str) -> None:
    client = create_app(Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index)).test_client()
    page = get(client, UI)
    assert "the state index does not exist" in page and row_ids(page) == []
    get(client, UI + "/workflow/x", 404)


def test_unreachable_opensearch_is_a_503_page_with_retry_after() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = create_app(Settings(opensearch_hosts=(f"http://127.0.0.1:{port}",), retry_after=7)).test_client()
    response = client.get(UI)
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert "OpenSearch is unavailable, retry later" in response.get_data(as_text=True)


# -- how values are written (pure helpers) ---------------------------------------------
