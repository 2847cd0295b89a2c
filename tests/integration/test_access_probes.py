"""What flowstatus asks OpenSearch to learn its access, counted through a proxy in front of a real node."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.settings import Settings
from tests.conftest import new_id
from tests.recording_proxy import RecordingProxy

STATUS = "/_plugins/_flow_framework/workflow/{}/_status"


@dataclass(frozen=True)
class Refusing:
    """An app whose OpenSearch (behind ``proxy``) refuses every request to its ``templates`` index."""

    proxy: RecordingProxy
    client: FlaskClient
    templates: str


@pytest.fixture
def refusing(opensearch_url: str, shared_index: str) -> Iterator[Refusing]:
    templates = f"{shared_index}-templates-refused"
    with RecordingProxy(opensearch_url, refuse=lambda method, path: path.startswith(f"/{templates}/")) as proxy:
        settings = Settings(opensearch_hosts=(proxy.url,), state_index=shared_index, templates_index=templates,
                            request_timeout=10)
        yield Refusing(proxy, create_app(settings).test_client(), templates)


def test_reads_of_missing_ids_probe_access_at_most_once_a_second_while_something_is_refused(
        refusing: Refusing) -> None:
    """A caller asking for ids that do not exist cannot make each read cost OpenSearch a whole access probe."""
    started = time.monotonic()
    for _ in range(20):
        assert refusing.client.get(STATUS.format(new_id())).status_code == 404  # refused templates hide nothing
    elapsed = time.monotonic() - started
    probes = [seen for seen in refusing.proxy.seen if seen.path.startswith(f"/{refusing.templates}/")]
    assert 1 <= len(probes) <= elapsed + 2, (len(probes), elapsed)


def test_ready_asked_in_a_loop_costs_opensearch_one_verdict_a_second(refusing: Refusing, shared_index: str) -> None:
    """Anyone may ask /_ready; while something is refused, each verdict is a dozen requests to OpenSearch."""
    started = time.monotonic()
    answers = [refusing.client.get("/_ready") for _ in range(200)]
    elapsed = time.monotonic() - started
    verdicts = [seen for seen in refusing.proxy.seen if seen.path.startswith(f"/_cluster/health/{shared_index}")]
    assert {(a.status_code, a.headers["Retry-After"]) for a in answers} == {(503, "5")}
    assert refusing.templates in answers[-1].get_json()["reason"]
    assert 1 <= len(verdicts) <= elapsed + 2, (len(verdicts), elapsed)
