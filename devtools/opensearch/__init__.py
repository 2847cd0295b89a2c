"""Local OpenSearch launcher for development and tests (never used by the service).

Runs the OpenSearch ``integ-test-zip`` distribution from Maven Central as
plain child processes bound to 127.0.0.1: no Docker, no daemonising, no
process left behind. See docs/opensearch-local.md for measured timings and
pitfalls, and ``python -m devtools.opensearch --help`` for the command line.

    from devtools.opensearch import local_opensearch, start_cluster, start_node

    with local_opensearch() as url:          # one node, always stopped
        ...
    node = start_node()                      # LocalNode: .url .pid .log_path .request() .stop() .kill()
    cluster = start_cluster(3)               # LocalCluster: .urls .kill_node(i) .start_node(i) ...
    ff = start_node("flow-framework")        # job-scheduler + ml-commons + flow-framework (2.19.6)
    sec = start_node("security")             # SecureNode (2.19.4): https, .ca_path .admin .users .request_as()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .cluster import LocalCluster
from .distribution import Distribution, ensure_distribution
from .flowframework import PluginZipNotFound, flow_framework_plugins, flow_framework_zip
from .node import LocalNode
from .pki import CertFiles
from .plugins import Plugin, PluginInstall, PluginSet, ensure_plugin_install
from .presets import PRESETS, preset_node
from .security import InternalUser, SecureNode
from .settings import DEFAULT_VERSION, LauncherError, LauncherSettings, resolve_settings

__all__ = [
    "DEFAULT_VERSION",
    "PRESETS",
    "CertFiles",
    "Distribution",
    "InternalUser",
    "LauncherError",
    "LauncherSettings",
    "LocalCluster",
    "LocalNode",
    "Plugin",
    "PluginInstall",
    "PluginSet",
    "PluginZipNotFound",
    "SecureNode",
    "ensure_distribution",
    "ensure_plugin_install",
    "flow_framework_plugins",
    "flow_framework_zip",
    "local_opensearch",
    "resolve_settings",
    "start_cluster",
    "start_node",
]


def start_node(plugins: str | None = None, **kwargs: Any) -> LocalNode:
    """Start one single-node cluster and wait until it is healthy.

    ``plugins`` names the kind of node: ``flow-framework``, ``security`` (a
    SecureNode) or None for FLOWSTATUS_OPENSEARCH_PLUGINS, else a plain node
    (see presets.py). ``kwargs`` are LocalNode's (version, java_home, heap,
    cache_dir, start_timeout, settings, keep_run_dir, ...; SecureNode's for
    ``security``). The caller must ``stop()`` it. Raises LauncherError
    (PluginZipNotFound when the flow-framework zip is nowhere).
    """
    return preset_node(plugins, **kwargs).start()


def start_cluster(size: int = 3, **kwargs: Any) -> LocalCluster:
    """Start a ``size``-node cluster and wait until it is healthy (see LocalCluster)."""
    return LocalCluster(size, **kwargs).start()


@contextmanager
def local_opensearch(**kwargs: Any) -> Iterator[str]:
    """Start one node, yield its URL, and always stop it (run dir removed).

    The node is of the kind ``FLOWSTATUS_OPENSEARCH_PLUGINS`` names, unless
    ``plugins`` is passed (see :func:`start_node`); a secured node's URL is
    https and needs its CA and credentials, so use start_node() for those.
    """
    node = start_node(**kwargs)
    try:
        yield node.url
    finally:
        node.stop()
