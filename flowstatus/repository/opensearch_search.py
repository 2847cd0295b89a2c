"""The OpenSearch adapter of the search port: runs a search and answers with OpenSearch's own response.

Bodies arrive here already checked, rebuilt and restricted
(:mod:`flowstatus.services.scoped_search`); this module only runs them,
bounded in time, and says what OpenSearch answered in the terms of
:mod:`flowstatus.repository.errors`.

Time: every search carries the body's ``timeout`` (OpenSearch stops
collecting and answers with what it has, ``timed_out: true``) and the
request parameter ``cancel_after_time_interval`` (OpenSearch cancels the
search task, in every phase, at the same moment).  The client waits a grace
period longer, so that OpenSearch's answer arrives first; should the client
give up anyway, closing the connection cancels the task too.  Either way a
search flowstatus has stopped waiting for does not keep running in the
cluster.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
# Failures OpenSearch answers with a 5xx that a different request would avoid: more buckets than the
# cluster's search.max_buckets (503), an aggregation it cannot run as asked (500).
REQUEST_FAULTS = frozenset({"too_many_buckets_exception", "aggregation_execution_exception"})


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
        replaces it by its request timeout, and OpenSearch is told to cancel
        the search at the same time.  A search OpenSearch cancelled or timed
        out as a whole is :class:`~flowstatus.repository.errors.StoreUnavailable`;
        one that would build more buckets than the cluster allows is a
        :class:`~flowstatus.repository.errors.SearchRejected` 400.
        """
        interval = f"{max(1, round(self.timeout * 1000))}ms"
        request = {**body, "timeout": interval}
        with translated("search"):
            try:
                response: dict[str, Any] = self.client.search(
                    index=self.index,
                    body=request,
                    params={"cancel_after_time_interval": interval},
                    request_timeout=self.timeout + ANSWER_GRACE_SECONDS,
                )
            except os_exc.TransportError as exc:
                refusal = self._refusal(exc)
                if refusal is None:
                    raise
                raise refusal from exc
        return response

    def _refusal(self, exc: os_exc.TransportError) -> StoreError | None:
        """What ``exc`` means for the caller, or ``None`` to let :func:`translated` decide."""
        if isinstance(exc, os_exc.ConnectionError) or not isinstance(exc.status_code, int):
            return None
        if access_refusal(exc.status_code, exc.info) is not None:
            return None  # flowstatus's own access, not the caller's body: never passed on as OpenSearch's answer
        info: dict[str, Any] = exc.info if isinstance(exc.info, dict) else {}
        found = info.get("error")
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        causes = set(_cause_types(error))
        if exc.status_code == 404 and error.get("type") == "index_not_found_exception":
            return SearchIndexMissing(self.index, error)
        if "time_exceeded_exception" in causes:
            return StoreUnavailable(f"the search took longer than {self.timeout} s")
        if "task_cancelled_exception" in causes:
            return StoreUnavailable(f"OpenSearch cancelled the search after its timeout of {self.timeout} s")
        if causes & REQUEST_FAULTS:
            # OpenSearch answers 503 or 500, but retrying the same search cannot succeed: it is the request's fault.
            return SearchRejected(400, {**info, "status": 400})
        if 400 <= exc.status_code < 500 and exc.status_code not in UNAVAILABLE_STATUSES:
            return SearchRejected(exc.status_code, exc.info)
        return None


def _cause_types(error: Mapping[str, Any]) -> Iterator[str]:
    """The ``type`` of ``error``, of its root causes and of its ``caused_by`` chain."""
    if isinstance(error.get("type"), str):
        yield error["type"]
    for cause in error.get("root_cause") or []:
        if isinstance(cause, dict) and isinstance(cause.get("type"), str):
            yield cause["type"]
    caused_by = error.get("caused_by")
    if isinstance(caused_by, dict):
        yield from _cause_types(caused_by)
