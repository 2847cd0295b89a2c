"""The OpenSearch the bench runs against, and whether it has the Flow Framework plugin.

Without ``OPENSEARCH_URL`` the bench starts one node with the plugin
(:func:`devtools.opensearch.start_node` ``("flow-framework")``: job-scheduler,
ml-commons and flow-framework, a 1g heap) for the run and stops it after.
With ``OPENSEARCH_URL`` it uses the first URL and asks ``_cat/plugins``
whether the plugin is installed; without it the plugin's columns are n/a.
The node's pid (for its CPU time) is known when it is local.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench import procfs
from bench.progress import Progress
from bench.rawhttp import OpenSearchHttp

FLOW_FRAMEWORK = "opensearch-flow-framework"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Node:
    url: str
    pid: int | None  # the local OpenSearch process, None when it is elsewhere
    source: str  # "OPENSEARCH_URL" or "devtools.opensearch (flow-framework)"


def plugin_versions(cat_plugins: Any) -> dict[str, str]:
    """``{component: version}`` from a ``_cat/plugins?format=json`` answer (the first node's entry of each)."""
    out: dict[str, str] = {}
    for entry in cat_plugins if isinstance(cat_plugins, list) else []:
        if isinstance(entry, dict) and entry.get("component"):
            out.setdefault(str(entry["component"]), str(entry.get("version")))
    return out


def flow_framework_version(client: OpenSearchHttp) -> str | None:
    """The Flow Framework plugin's version on the node, None if it is not installed (or not listed)."""
    status, body = client.request("GET", "/_cat/plugins?format=json")
    return plugin_versions(body).get(FLOW_FRAMEWORK) if status == 200 else None


@contextlib.contextmanager
def opensearch(progress: Progress) -> Iterator[Node]:
    """The node of the run: ``OPENSEARCH_URL``'s, or a Flow Framework node started here and stopped after."""
    url = os.environ.get("OPENSEARCH_URL")
    if url:
        first = url.split(",")[0].strip()
        parts = urlsplit(first)
        pid = procfs.listening_pid(parts.port) if parts.port and parts.hostname in LOCAL_HOSTS else None
        progress.say(f"OpenSearch from OPENSEARCH_URL: {first}" + (f" (local pid {pid})" if pid else ""))
        yield Node(first, pid, "OPENSEARCH_URL")
        return
    from devtools.opensearch import start_node

    progress.say("starting a local OpenSearch node with the Flow Framework plugin (devtools.opensearch, ~25 s)")
    node = start_node("flow-framework")
    try:
        yield Node(node.url, node.pid, "devtools.opensearch (flow-framework)")
    finally:
        node.stop()
