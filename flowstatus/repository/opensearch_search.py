"""The OpenSearch adapter of the search port: runs a search and answers with OpenSearch's own response.

Bodies arrive here already restricted (:mod:`flowstatus.domain.search_scope`);
this module only runs them, bounded in time, and says what OpenSearch
answered in the terms of :mod:`flowstatus.repository.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_exc

from flowstatus.repository.errors import SearchIndexMissing, SearchRejected, StoreError, StoreUnavailable
from flowstatus.repository.opensearch_client import UNAVAILABLE_STATUSES, access_refusal, build_client, translated
from flowstatus.repository.port import StateSearch
from flowstatus.settings import Settings

# OpenSearch stops the search at the timeout and answers with what it has
# (``timed_out: true``); waiting this much longer lets that answer arrive
# instead of the client giving up first.
ANSWER_GRACE_SECONDS = 1.0


class OpenSearchStateSearch(StateSearch):
    """Runs searches on the state index within ``timeout`` seconds.

    Takes the client it is given, so that one process keeps one connection
    pool for reads and searches (the composition root shares it).
    """

    def __init__(self, client: OpenSearch, index: str, *, timeout: float) -> None:
        self.client = client
        self.index = index
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings, client: OpenSearch | None = None) -> OpenSearchStateSearch:
        """A search on ``settings``' state index through ``client`` (default: a new one)."""
        return cls(client or build_client(settings), settings.state_index, timeout=settings.request_timeout)

    def search(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """See :meth:`StateSearch.search`.

        The body's ``timeout`` is replaced by this search's, as the plugin
        replaces it by its request timeout.
        """
        request = {**body, "timeout": f"{max(1, round(self.timeout * 1000))}ms"}
        with translated("search"):
            try:
                response: dict[str, Any] = self.client.search(
                    index=self.index, body=request, request_timeout=self.timeout + ANSWER_GRACE_SECONDS
                )
            except os_exc.TransportError as exc:
                refusal = self._refusal(exc)
                if refusal is None:
                    raise
                raise refusal from exc
        return response

    def _refusal(self, exc: os_exc.TransportError) -> StoreError | None:
        """What ``exc`` means for the caller, or ``None`` to let :func:`_translated` decide."""
        if isinstance(exc, os_exc.ConnectionError) or not isinstance(exc.status_code, int):
            return None
        if access_refusal(exc.status_code, exc.info) is not None:
            return None  # flowstatus's own access, not the caller's body: never passed on as OpenSearch's answer
        error = exc.info.get("error") if isinstance(exc.info, dict) else None
        if exc.status_code == 404 and isinstance(error, dict) and error.get("type") == "index_not_found_exception":
            return SearchIndexMissing(self.index, error)
        if isinstance(error, dict) and any(
            isinstance(c, dict) and c.get("type") == "time_exceeded_exception" for c in error.get("root_cause", [])
        ):
            return StoreUnavailable(f"the search took longer than {self.timeout} s")
        if 400 <= exc.status_code < 500 and exc.status_code not in UNAVAILABLE_STATUSES:
            return SearchRejected(exc.status_code, exc.info)
        return None
