"""Reading which generation a cluster runs, and keeping what was read.

Two requests: ``GET /`` (the OpenSearch version of the node that answers) and
``GET /_cat/plugins`` (the Flow Framework plugin's version on every node).
Where the plugin is installed its oldest version counts, so that what
flowstatus writes during a rolling upgrade suits every node's plugin.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_exc

from flowstatus.domain.generation import NEWEST, Generation, version_key
from flowstatus.repository.opensearch_client import translated

log = logging.getLogger(__name__)

FLOW_FRAMEWORK = "opensearch-flow-framework"
# How long a generation read is trusted: a rolling upgrade that never made the
# cluster unreachable is seen within this time.
GENERATION_TTL = 300.0


def read_generation(client: OpenSearch) -> Generation:
    """The cluster's :class:`Generation`.

    A cluster that will not say (403 on ``GET /``: flowstatus's user lacks
    ``cluster:monitor/main``), or answers with no OpenSearch version, is taken
    for :data:`~flowstatus.domain.generation.NEWEST`; one that refuses only
    the plugin list is taken for its OpenSearch release, plugin unknown.
    Raises :class:`~flowstatus.repository.errors.StoreUnavailable` when the
    cluster cannot be reached, :class:`~flowstatus.repository.errors.StoreError`
    for any other refusal.
    """
    with translated("generation"):
        try:
            info: dict[str, Any] = client.info()
        except os_exc.AuthorizationException as exc:
            log.warning("OpenSearch does not tell its version to flowstatus's user (%s); answering as the plugin "
                        "of %s", exc.error, NEWEST)
            return NEWEST
        try:
            rows: list[dict[str, Any]] = client.cat.plugins(format="json", h="component,version")
        except os_exc.AuthorizationException:
            rows = []
    versions = sorted((str(row.get("version")) for row in rows if row.get("component") == FLOW_FRAMEWORK),
                      key=version_key)
    plugin = versions[0] if versions else None
    try:
        return Generation.of(plugin or info["version"]["number"], plugin)
    except (KeyError, TypeError, ValueError):
        log.warning("OpenSearch answered no version flowstatus knows (%r); answering as the plugin of %s",
                    info.get("version"), NEWEST)
        return NEWEST


class GenerationCache:
    """The generation ``read`` returns, kept ``ttl`` seconds and until :meth:`forget`; thread-safe.

    Callers wait for one read in flight rather than send their own.
    """

    def __init__(self, read: Callable[[], Generation], ttl: float = GENERATION_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._read = read
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[Generation, float] | None = None
        self._last: Generation | None = None

    def get(self) -> Generation:
        """The kept generation, or a new read (which may raise what ``read`` raises)."""
        with self._lock:
            now = self._clock()
            if self._kept is None or now - self._kept[1] >= self._ttl:
                generation = self._read()
                if generation != self._last:
                    log.info("the cluster runs %s; flowstatus answers as its plugin", generation)
                self._kept, self._last = (generation, now), generation
            return self._kept[0]

    def forget(self) -> None:
        """Read again on the next :meth:`get` (the cluster may have come back as another generation)."""
        self._kept = None
