"""The status page in a real headless Chromium against a real node.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the
``playwright`` package; Playwright's own browser download is never used.
Skipped where no browser can be had, except with ``CI=true``, where that
fails the suite.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flowstatus.app import create_app
from flowstatus.domain.events import Event, EventKind
from flowstatus.domain.model import ResourceCreated
from flowstatus.services.indexer import StatusIndexer
from flowstatus.settings import Settings
from tests.conftest import IN_CI

UI = "/_flowstatus/ui"
SCREENSHOT = Path(__file__).parents[2] / "docs" / "status-page.png"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MINUTE = 60_000


def _no_browser(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; the browser tests must run in CI", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright, for the module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _no_browser(f"playwright is not installed ({exc})")
    executable = os.environ.get("FLOWSTATUS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        _no_browser("no chromium on PATH (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def app(opensearch_url: str, unique_index: str, raw: Any) -> Flask:
    """The served app, on a state index of its own (dropped by ``raw``); writes are searchable at once."""
    return create_app(Settings(opensearch_hosts=(opensearch_url,), state_index=unique_index,
                               refresh="true", request_timeout=10))


@pytest.fixture
def indexer(app: Flask) -> StatusIndexer:
    return app.extensions["flowstatus"].indexer


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 760})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def resource(step: str, step_id: str, kind: str, rid: str) -> ResourceCreated:
    return ResourceCreated(step, step_id, kind, rid)


def seed(indexer: StatusIndexer) -> None:
    """One workflow in every state, with plausible resources, times and an error."""
    now = int(time.time() * 1000)
    events = [
        Event(EventKind.CREATE, "ZtQp1ZABcXv8lK2mN3oR"),
        Event(EventKind.CREATE, "8xL8bowB8y25Tqfenm50"),
        Event(EventKind.PROVISION_STARTED, "8xL8bowB8y25Tqfenm50", time=now - 3 * MINUTE),
        Event(EventKind.RESOURCE_CREATED, "8xL8bowB8y25Tqfenm50",
              resource=resource("create_connector", "create_connector_1", "connector_id", "NdjCQYwBLmvn802B0IwE")),
        Event(EventKind.CREATE, "buI-65ABYsYquLNfDj2t"),
        Event(EventKind.PROVISION_STARTED, "buI-65ABYsYquLNfDj2t", time=now - 42 * MINUTE),
        Event(EventKind.RESOURCE_CREATED, "buI-65ABYsYquLNfDj2t",
              resource=resource("register_local_pretrained_model", "register_model", "model_id",
                                "ceI-65ABYsYquLNfFD13")),
        Event(EventKind.RESOURCE_CREATED, "buI-65ABYsYquLNfDj2t",
              resource=resource("deploy_model", "deploy_model", "model_id", "ceI-65ABYsYquLNfFD13")),
        Event(EventKind.RESOURCE_CREATED, "buI-65ABYsYquLNfDj2t",
              resource=resource("create_ingest_pipeline", "create_ingest_pipeline", "pipeline_id", "nlp-pipeline")),
        Event(EventKind.PROVISION_COMPLETED, "buI-65ABYsYquLNfDj2t", time=now - 40 * MINUTE + 3_456),
        Event(EventKind.CREATE, "LGKGn44B51-soDq-mga1"),
        Event(EventKind.PROVISION_STARTED, "LGKGn44B51-soDq-mga1", time=now - 75 * MINUTE),
        Event(EventKind.RESOURCE_CREATED, "LGKGn44B51-soDq-mga1",
              resource=resource("create_index", "create_index", "index_name", "semantic-docs")),
        Event(EventKind.PROVISION_FAILED, "LGKGn44B51-soDq-mga1", time=now - 75 * MINUTE + 889,
              error="WorkflowStepException during step create_ingest_pipeline, model ceI-65ABYsYquLNfFD13 "
                    "is not deployed, restStatus: BAD_REQUEST"),
        Event(EventKind.CREATE, "K13IR5QBEpCfUu_-AQdU"),
        Event(EventKind.PROVISION_STARTED, "K13IR5QBEpCfUu_-AQdU", time=now - 190 * MINUTE),
        Event(EventKind.PROVISION_COMPLETED, "K13IR5QBEpCfUu_-AQdU", time=now - 189 * MINUTE),
    ]
    assert all(result.ok for result in indexer.apply(events))


def row(page: Any, workflow_id: str) -> Any:
    return page.locator(f'tr[data-workflow-id="{workflow_id}"]')


def test_the_page_loads_with_workflows_in_every_state(page: Any, live_server: str, indexer: StatusIndexer) -> None:
    seed(indexer)
    page.goto(live_server + UI)
    assert page.title() == "Workflows · flowstatus"
    assert page.locator("tbody tr").count() == 5
    states = {page.locator("tbody tr").nth(i).get_attribute("data-state") for i in range(5)}
    assert states == {"NOT_STARTED", "PROVISIONING", "COMPLETED", "FAILED"}
    assert page.locator('.chip[data-state="COMPLETED"] .count').inner_text() == "2"
    assert page.locator('.chip[data-state=""] .count').inner_text() == "5"
    assert page.locator("#live").is_visible()  # something is provisioning
    failed = row(page, "LGKGn44B51-soDq-mga1")
    assert "create_ingest_pipeline" in failed.locator("td.error").inner_text()


def test_filters_narrow_the_table(page: Any, live_server: str, indexer: StatusIndexer) -> None:
    seed(indexer)
    page.goto(live_server + UI)
    page.click('.chip[data-state="COMPLETED"]')
    page.wait_for_url("**state=COMPLETED")
    assert page.locator("tbody tr").count() == 2
    assert all(page.locator("tbody tr").nth(i).get_attribute("data-state") == "COMPLETED" for i in range(2))
    page.click('.chip[data-state=""]')
    page.wait_for_url(live_server + UI)
    assert page.locator("tbody tr").count() == 5


def test_a_finished_provisioning_shows_up_without_a_reload(page: Any, live_server: str, indexer: StatusIndexer) -> None:
    seed(indexer)
    page.goto(live_server + UI)
    running = row(page, "8xL8bowB8y25Tqfenm50")
    assert running.get_attribute("data-state") == "PROVISIONING"
    page.evaluate("window.notReloaded = true")
    indexer.record(Event(EventKind.RESOURCE_CREATED, "8xL8bowB8y25Tqfenm50",
                         resource=resource("register_remote_model", "register_model_2", "model_id", "m-2")))
    indexer.record(Event(EventKind.PROVISION_COMPLETED, "8xL8bowB8y25Tqfenm50"))
    page.wait_for_selector('tr[data-workflow-id="8xL8bowB8y25Tqfenm50"][data-state="COMPLETED"]')
    assert page.evaluate("window.notReloaded") is True
    assert running.locator("td.num").first.inner_text() == "2"
    # Nothing provisions any more: the page stops refreshing itself.
    assert page.locator("#content").get_attribute("data-refresh-ms") is None
    assert page.locator("#live").count() == 0


def test_a_failed_refresh_says_so_and_recovers(page: Any, live_server: str, indexer: StatusIndexer) -> None:
    seed(indexer)
    page.goto(live_server + UI)
    page.route("**/_flowstatus/ui", lambda route: route.abort())
    page.wait_for_selector("#live.stale")
    assert page.inner_text("#live") == "Refresh failed; retrying."
    assert page.locator("tbody tr").count() == 5  # the last good content stays
    page.unroute("**/_flowstatus/ui")
    page.wait_for_selector("#live:not(.stale)")


def test_the_detail_view_follows_its_workflow(page: Any, live_server: str, indexer: StatusIndexer) -> None:
    seed(indexer)
    page.goto(live_server + UI)
    page.click('a:text("8xL8bowB8y25Tqfenm50")')
    page.wait_for_url("**/workflow/8xL8bowB8y25Tqfenm50")
    assert page.inner_text("#state") == "PROVISIONING"
    indexer.record(Event(EventKind.PROVISION_FAILED, "8xL8bowB8y25Tqfenm50", error="<b>boom</b>"))
    page.wait_for_selector('#state:text("FAILED")')
    assert page.inner_text("#error") == "<b>boom</b>"  # shown as text, never as markup


def test_a_screenshot_of_the_page(page: Any, live_server: str, indexer: StatusIndexer, tmp_path: Path) -> None:
    seed(indexer)
    page.goto(live_server + UI)
    page.wait_for_selector("tbody tr")
    keep_screenshot(page, tmp_path, SCREENSHOT)


def keep_screenshot(page: Any, tmp_path: Path, documented: Path) -> None:
    """Screenshot the whole page into ``tmp_path`` (and say where); into ``documented`` only on purpose."""
    shot = page.screenshot(full_page=True)
    assert shot.startswith(b"\x89PNG\r\n\x1a\n") and len(shot) > 10_000
    (tmp_path / documented.name).write_bytes(shot)
    print(f"\nscreenshot: {tmp_path / documented.name}")
    if os.environ.get("FLOWSTATUS_UPDATE_SCREENSHOT"):  # refresh the documented picture on purpose only
        documented.write_bytes(shot)
