"""The step timeline of the status page in a real headless Chromium, against a real node.

Uses the browser fixtures of test_status_page_browser.py (Debian's
``chromium`` through Playwright; skipped where there is none, except under
``CI=true``).  The screenshot test writes the page to its temporary folder;
``FLOWSTATUS_UPDATE_SCREENSHOT=1`` refreshes docs/steps-timeline.png.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from opensearchpy import OpenSearch

from flowstatus.app import create_app
from flowstatus.composition import Components
from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import ResourceCreated
from flowstatus.domain.steps import Sighting, StepRecords
from flowstatus.repository.step_port import PutRecords
from flowstatus.settings import Settings
from tests.conftest import put_template
from tests.integration import test_status_page_browser as shared

browser, page = shared.browser, shared.page  # the browser fixtures, shared with the status page's tests

SCREENSHOT = Path(__file__).parents[2] / "docs" / "steps-timeline.png"
WORKFLOW = "W9k2bo0BmXq5LtTtG7pe"
UI = "/_flowstatus/ui"
SECOND = 1000

# A semantic-search template as the plugin stores it (graph fields only matter here).
TEMPLATE = {"name": "semantic search", "use_case": "SEMANTIC_SEARCH", "workflows": {"provision": {"nodes": [
    {"id": "create_connector_1", "type": "create_connector"},
    {"id": "register_model_2", "type": "register_remote_model", "previous_node_inputs": {"create_connector_1": "c"},
     "user_inputs": {"deploy": True}},
    {"id": "create_ingest_pipeline", "type": "create_ingest_pipeline",
     "previous_node_inputs": {"register_model_2": "model_id"}},
    {"id": "create_index", "type": "create_index", "previous_node_inputs": {"create_ingest_pipeline": "p"}},
    {"id": "reindex_docs", "type": "reindex"},
    {"id": "warm_up", "type": "noop"},
    {"id": "create_search_pipeline", "type": "create_search_pipeline"},
], "edges": [{"source": "create_index", "dest": "reindex_docs"}, {"source": "warm_up", "dest": "create_search_pipeline"}]}}}


def entry(step: str, step_id: str, kind: str, rid: str) -> ResourceCreated:
    return ResourceCreated(step, step_id, kind, rid)


RESOURCES = [  # (entry, seconds after the start it was first seen, the observer's previous look)
    (entry("create_connector", "create_connector_1", "connector_id", "NdjCQYwBLmvn802B0IwE"), 2.2, 1.2),
    (entry("create_search_pipeline", "create_search_pipeline", "pipeline_id", "rerank"), 12.4, 11.4),
    (entry("register_remote_model", "register_model_2", "model_id", "N9jCQYwBLmvn802B0oyh"), 4.3, 3.3),
    (entry("deploy_model", "register_model_2", "model_id", "N9jCQYwBLmvn802B0oyh"), 38.6, 37.6),
    (entry("create_ingest_pipeline", "create_ingest_pipeline", "pipeline_id", "nlp-ingest"), 41.1, 40.1),
]


@pytest.fixture
def components(opensearch_url: str, unique_index: str, raw: OpenSearch) -> Any:
    settings = Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index, refresh="true",
                        templates_index=f"{unique_index}-templates", request_timeout=10)
    yield Components(settings)
    raw.indices.delete(index=f"{unique_index}-templates", ignore=404)


@pytest.fixture
def app(components: Components) -> Flask:
    return create_app(components=components)


def seed(components: Components, raw: OpenSearch, *, ago: float = 125.0) -> int:
    """The workflow above, provisioning for ``ago`` seconds, with what the observer saw; its start time."""
    start = int(time.time() * 1000 - ago * SECOND)
    put_template(raw, components.settings.templates_index, WORKFLOW, TEMPLATE)
    events = [Event(EventKind.CREATE, WORKFLOW), Event(EventKind.PROVISION_STARTED, WORKFLOW, time=start)]
    events += [Event(EventKind.RESOURCE_CREATED, WORKFLOW, resource=r) for r, _, _ in RESOURCES]
    assert all(result.ok for result in components.indexer.apply(events))
    sightings = tuple(Sighting(r.workflow_step_id, r.workflow_step_name, start + int(seen * SECOND),
                               start + int(before * SECOND)) for r, seen, before in RESOURCES)
    (written,) = components.step_store.write_many([PutRecords(StepRecords(WORKFLOW, start, sightings=sightings))])
    assert written.seq_no is not None
    return start


def row(page: Any, step_id: str) -> Any:
    return page.locator(f'tr[data-step-id="{step_id}"]')


def test_the_timeline_has_a_bar_per_step_coloured_by_state_the_running_one_highlighted(
        page: Any, live_server: str, components: Components, raw: OpenSearch) -> None:
    seed(components, raw)
    page.goto(f"{live_server}{UI}/workflow/{WORKFLOW}")
    rows = page.locator("#timeline tbody tr")
    assert [rows.nth(i).get_attribute("data-step-id") for i in range(rows.count())] == [
        "create_connector_1", "register_model_2", "create_ingest_pipeline", "create_index", "reindex_docs",
        "warm_up", "create_search_pipeline"]
    states = {rows.nth(i).get_attribute("data-step-id"): rows.nth(i).get_attribute("data-step-state")
              for i in range(rows.count())}
    assert states == {"create_connector_1": "completed", "register_model_2": "completed",
                      "create_ingest_pipeline": "completed", "create_index": "running", "reindex_docs": "pending",
                      "warm_up": "completed", "create_search_pipeline": "completed"}
    fill = "return getComputedStyle(document.querySelector('tr[data-step-id=\"%s\"] rect')).fill"
    assert page.evaluate(f"() => {{ {fill % 'register_model_2'} }}") == "rgb(26, 127, 55)"  # completed: green
    assert page.evaluate(f"() => {{ {fill % 'create_index'} }}") == "rgb(154, 103, 0)"  # running: amber
    running = row(page, "create_index")
    assert page.evaluate("() => getComputedStyle(document.querySelector('tr.step-running')).backgroundColor") \
        == "rgb(255, 248, 197)"
    assert running.locator("td.took").inner_text().endswith("so far")
    assert row(page, "reindex_docs").locator("rect").count() == 0  # pending: no bar
    # started once the connector was seen (1.2-2.2 s), ended once its deploy entry was (37.6-38.6 s)
    assert row(page, "register_model_2").locator("td.took").inner_text() == "35.4\u00a0s – 37.4\u00a0s"
    assert row(page, "warm_up").locator("rect.pale").count() == 1  # a noop: its end only bounded
    assert "inferred" in (row(page, "warm_up").locator("td.bar-cell").get_attribute("title") or "")


def test_the_timeline_follows_provisioning_without_a_reload(
        page: Any, live_server: str, components: Components, raw: OpenSearch) -> None:
    seed(components, raw)
    page.goto(f"{live_server}{UI}/workflow/{WORKFLOW}")
    page.evaluate("window.notReloaded = true")
    components.indexer.apply([
        Event(EventKind.RESOURCE_CREATED, WORKFLOW, resource=entry("create_index", "create_index", "index_name", "d")),
        Event(EventKind.RESOURCE_CREATED, WORKFLOW, resource=entry("reindex", "reindex_docs", "index_name", "d")),
        Event(EventKind.PROVISION_COMPLETED, WORKFLOW)])
    page.wait_for_selector('tr[data-step-id="reindex_docs"][data-step-state="completed"]')
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("tr.step-running").count() == 0
    assert page.locator("#content").get_attribute("data-refresh-ms") is None


def test_the_list_shows_the_running_step(page: Any, live_server: str, components: Components,
                                         raw: OpenSearch) -> None:
    seed(components, raw)
    page.goto(live_server + UI)
    cell = page.locator(f'tr[data-workflow-id="{WORKFLOW}"] td.running')
    assert cell.inner_text().strip() == "create_index create_index"


def test_a_screenshot_of_the_timeline(page: Any, live_server: str, components: Components, raw: OpenSearch,
                                      tmp_path: Path) -> None:
    seed(components, raw)
    page.goto(f"{live_server}{UI}/workflow/{WORKFLOW}")
    page.wait_for_selector("#timeline")
    shared.keep_screenshot(page, tmp_path, SCREENSHOT)
