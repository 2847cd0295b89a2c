"""One node with the real Flow Framework plugin for the whole package, and flowstatus on its state index.

The node runs OpenSearch ``FLOWSTATUS_INTEROP_VERSION`` (default 2.19.6)
with job-scheduler, ml-commons and the flow-framework plugin of the same
version; it starts once (20-60 s on a 2-core machine) and is stopped when the
package ends.  Without the flow-framework zip the package fails under
``CI=true`` and is skipped elsewhere.

flowstatus runs in-process on the node's real state index
(``.plugins-flow-framework-state``), as an app behind Flask's test client;
tests that need a real server start ``flowstatus serve`` themselves.

Tests marked ``fresh_state_index`` delete the state index; they run first,
before any other test of the package has workflows in it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

# Comparisons live in helper modules: let pytest show their differences.
pytest.register_assert_rewrite("tests.interop.answers", "tests.interop.plugin")

from devtools.opensearch import LocalNode, start_node
from flowstatus.app import create_app
from flowstatus.composition import Components
from flowstatus.settings import Settings
from tests.devtools.conftest import require_flow_framework_zip
from tests.interop.answers import AppEndpoint
from tests.interop.plugin import Plugin

VERSION_ENV = "FLOWSTATUS_INTEROP_VERSION"
DEFAULT_VERSION = "2.19.6"
FRESH_STATE_INDEX = "fresh_state_index"



@dataclass(frozen=True)
class PluginGeneration:
    """What the plugin of one version does where versions differ (docs/compatibility.md lists each)."""

    # The ``user`` object as it writes and renders one (common-utils ``User``:
    # five keys up to 3.1, custom attributes last from 3.3).
    user: dict
    provision_status: int  # of ``_provision``
    # The FAILED ``error`` of a ``create_index_1`` step whose index exists:
    # ``{index}`` is the index's name (its uuid follows it in the text).
    index_exists_error: str
    maps_sharing: bool  # whether its state index maps ``all_shared_principals``

    def index_exists(self, index: str) -> re.Pattern[str]:
        """The FAILED ``error`` for ``index`` existing, as a pattern (the index's uuid is any)."""
        named = re.escape(f"index [{index}/") + r"[^\]/]+\]"
        return re.compile(re.escape(self.index_exists_error).replace(re.escape("{index}"), named))


PLUGIN_GENERATIONS = {
    "2.19.6": PluginGeneration(
        user={"name": "alice", "backend_roles": ["odfe"], "roles": ["all_access"], "custom_attribute_names": [],
              "user_requested_tenant": None},
        provision_status=200,
        index_exists_error="{index} already exists during step create_index_1, restStatus: BAD_REQUEST",
        maps_sharing=False),
    "3.6.0": PluginGeneration(
        user={"name": "alice", "backend_roles": ["odfe"], "roles": ["all_access"], "user_requested_tenant": None,
              "user_requested_tenant_access": None, "custom_attribute_names": []},
        provision_status=202,
        index_exists_error="WorkflowStepException during step create_index_1, {index} already exists, "
                           "restStatus: BAD_REQUEST",
        maps_sharing=True),
}
# Which node the package ran against, for the session's summary.
_NODE: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{FRESH_STATE_INDEX}: deletes the plugin node's state index; "
                                       "runs first in tests/interop")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move this package's ``fresh_state_index`` tests before its other tests (a stable sort)."""
    here = [i for i, item in enumerate(items) if item.nodeid.startswith("tests/interop/")]
    if not here:
        return
    ours = [items[i] for i in here]
    ours.sort(key=lambda item: item.get_closest_marker(FRESH_STATE_INDEX) is None)
    for i, item in zip(here, ours, strict=True):
        items[i] = item


@pytest.fixture(scope="package")
def interop_version() -> str:
    """The OpenSearch (and plugin) version the package runs against."""
    return os.environ.get(VERSION_ENV) or DEFAULT_VERSION


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _NODE:
        terminalreporter.write_sep("-", f"interop tests ran against OpenSearch {_NODE['version']} with "
                                        f"{_NODE['plugins']} at {_NODE['url']}")


@pytest.fixture(scope="package")
def plugin_generation(interop_version: str) -> PluginGeneration:
    """How this version's plugin answers where versions differ."""
    return PLUGIN_GENERATIONS[interop_version]


@pytest.fixture(scope="package")
def plugin_user(plugin_generation: PluginGeneration) -> dict:
    """A ``user`` object exactly as this version's plugin writes one (with security on)."""
    return plugin_generation.user


@pytest.fixture(scope="package")
def plugin_node(interop_version: str) -> Iterator[LocalNode]:
    """The one Flow Framework node of the package."""
    require_flow_framework_zip(interop_version)
    node = start_node("flow-framework", version=interop_version)
    plugins = ", ".join(f"{row['component']} {row['version']}" for row in node.get_json("/_cat/plugins?format=json"))
    _NODE.update(version=node.get_json("/")["version"]["number"], plugins=plugins, url=node.url)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="package")
def plugin(plugin_node: LocalNode) -> Plugin:
    """The plugin's REST API on the node."""
    return Plugin(plugin_node.url)


@pytest.fixture(scope="package")
def settings(plugin_node: LocalNode) -> Settings:
    """flowstatus's settings for the node: the plugin's own state index, the defaults otherwise."""
    return Settings(opensearch_hosts=(plugin_node.url,), request_timeout=10)


@pytest.fixture(scope="package")
def flowstatus(settings: Settings) -> AppEndpoint:
    """A flowstatus app on the plugin's state index, access control off (every caller is an admin)."""
    return AppEndpoint(create_app(settings).test_client())


@pytest.fixture(scope="package")
def components(settings: Settings) -> Components:
    """flowstatus's collaborators for the node; its indexer writes as flowstatus's event routes do."""
    return Components(settings)
