"""Local OpenSearch launcher for development and tests (never used by the service).

Runs the OpenSearch ``integ-test-zip`` distribution from Maven Central as
plain child processes bound to 127.0.0.1: no Docker, no daemonising, no
process left behind. See docs/opensearch-local.md for measured timings and
pitfalls, and ``python -m devtools.opensearch --help`` for the command line.

    from devtools.opensearch import local_opensearch, start_cluster, start_node

    with local_opensearch() as url:          # one node, always stopped
        ...
    node = start_node()                      # LocalNode: .url .pid .log_path .stop() .kill()
    cluster = start_cluster(3)               # LocalCluster: .urls .kill_node(i) .start_node(i) ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .cluster import LocalCluster
from .distribution import Distribution, ensure_distribution
from .node import LocalNode
from .settings import DEFAULT_VERSION, LauncherError, LauncherSettings, resolve_settings

__all__ = [
    "DEFAULT_VERSION",
    "Distribution",
    "LauncherError",
    "LauncherSettings",
    "LocalCluster",
    "LocalNode",
    "ensure_distribution",
    "local_opensearch",
    "resolve_settings",
    "start_cluster",
    "start_node",
]


def start_node(**kwargs: Any) -> LocalNode:
    """Start one single-node cluster and wait until it is healthy.

    ``kwargs`` are LocalNode's (version, java_home, heap, cache_dir,
    start_timeout, settings, keep_run_dir, ...). The caller must ``stop()`` it.
    """
    return LocalNode(**kwargs).start()


def start_cluster(size: int = 3, **kwargs: Any) -> LocalCluster:
    """Start a ``size``-node cluster and wait until it is healthy (see LocalCluster)."""
    return LocalCluster(size, **kwargs).start()


@contextmanager
def local_opensearch(**kwargs: Any) -> Iterator[str]:
    """Start one node, yield its URL, and always stop it (run dir removed)."""
    node = start_node(**kwargs)
    try:
        yield node.url
    finally:
        node.stop()
