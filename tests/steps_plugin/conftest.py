"""One node with the real Flow Framework plugin (2.19.6) for the package, and flowstatus observing it.

The node starts once (20-60 s on a 2-core machine) and is stopped when the
package ends; ``FLOWSTATUS_FLOW_FRAMEWORK_URL`` names a node with the plugin
that is already running instead.  Without the flow-framework zip the package
fails under ``CI=true`` and is skipped elsewhere.

flowstatus runs in-process on the node's real indices (the plugin's state
and template indices, and its own companion index beside them), with its
step observer running in the background every 0.2 s for the whole package.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

pytest.register_assert_rewrite("tests.steps_plugin.graphs")

from flask.testing import FlaskClient

from devtools.opensearch import start_node
from flowstatus.app import create_app
from flowstatus.composition import Components
from flowstatus.settings import Settings
from tests.devtools.conftest import require_flow_framework_zip
from tests.interop.plugin import Plugin

VERSION = "2.19.6"
URL_ENV = "FLOWSTATUS_FLOW_FRAMEWORK_URL"
OBSERVER_INTERVAL = 0.2


@pytest.fixture(scope="package")
def node_url() -> Iterator[str]:
    """The URL of the package's one Flow Framework node."""
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV]
        return
    require_flow_framework_zip(VERSION)
    node = start_node("flow-framework", version=VERSION)
    try:
        yield node.url
    finally:
        node.stop()


@pytest.fixture(scope="package")
def plugin(node_url: str) -> Plugin:
    return Plugin(node_url)


@pytest.fixture(scope="package")
def components(node_url: str) -> Iterator[Components]:
    """flowstatus on the node's indices, its observer looking every 0.2 s while the package runs."""
    built = Components(Settings(opensearch_hosts=(node_url,), request_timeout=10,
                                step_observer_interval=OBSERVER_INTERVAL))
    built.step_observer.start()
    try:
        yield built
    finally:
        built.step_observer.stop()


@pytest.fixture(scope="package")
def client(components: Components) -> FlaskClient:
    return create_app(components=components).test_client()
