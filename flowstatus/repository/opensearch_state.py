"""The OpenSearch adapter of the state-repository port.

This package is the only code that imports opensearch-py.  Documents cross it
through :mod:`flowstatus.schemas.state` only, so what is stored is always the plugin's
format.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any

import orjson
from marshmallow import ValidationError
from opensearchpy import JSONSerializer, OpenSearch, Transport
from opensearchpy import exceptions as os_exc

from flowstatus.observability import metrics
from flowstatus.observability.request_context import request_id
from flowstatus.repository.errors import (
    CorruptDocument,
    DocumentMissing,
    IndexMissing,
    MappingConflict,
    StoreError,
    StoreUnavailable,
)
from flowstatus.repository.port import (
    Create,
    Delete,
    IndexReport,
    Lookup,
    Outcome,
    Replace,
    StateRepository,
    Versioned,
    WriteOp,
    WriteResult,
)
from flowstatus.schemas.state import dump_state, load_state
from flowstatus.settings import Settings

MAPPING: dict[str, Any] = json.loads(
    resources.files("flowstatus.repository").joinpath("mappings/workflow-state.json").read_text()
)
SCHEMA_VERSION: int = MAPPING["_meta"]["schema_version"]

# The plugin sets only auto_expand_replicas.  It can leave the index visible
# because, inside a cluster that runs the plugin, the index is a registered
# system index; elsewhere a visible dot-index draws a deprecation warning on
# create, so flowstatus creates it hidden (reads by name are unaffected).
CREATE_SETTINGS = {"index": {"auto_expand_replicas": "0-1", "hidden": True}}
UPGRADE_SETTINGS = {"index": {"auto_expand_replicas": "0-1"}}

# Statuses that mean "the cluster cannot serve this now", worth a retry later.
UNAVAILABLE_STATUSES = frozenset({408, 429, 502, 503, 504})


class OrjsonSerializer(JSONSerializer):  # type: ignore[misc]
    """opensearch-py's JSON (de)serializer on orjson: several times faster on big states."""

    def loads(self, s: str | bytes) -> Any:
        return orjson.loads(s)

    def dumps(self, data: Any) -> str:
        if isinstance(data, str):
            return data
        return orjson.dumps(data, default=self.default).decode()


class OpaqueIdTransport(Transport):  # type: ignore[misc]
    """Sends the current request's id as ``X-Opaque-Id`` on every call.

    OpenSearch records it in its tasks and slow logs, so an operator can
    follow one flowstatus request into the cluster.
    """

    def perform_request(self, method: str, url: str, *args: Any, headers: Any = None, **kwargs: Any) -> Any:
        rid = request_id.get()
        if rid is not None:
            headers = {**(headers or {}), "X-Opaque-Id": rid}
        return super().perform_request(method, url, *args, headers=headers, **kwargs)  # type: ignore[misc]


def build_client(settings: Settings, *, for_writes: bool = False) -> OpenSearch:
    """An opensearch-py client, pooled, with the request-path timeout.

    A read that fails on one node (refused, or slower than the timeout) is
    retried once on each other node.  The client for writes never retries:
    a write whose outcome is unknown must be read back, not repeated blindly
    (the indexer does that).

    Either client takes a node that timed out out of rotation (for
    opensearch-py's dead timeout, 60 s and doubling).  opensearch-py marks a
    node dead only where it decides to retry, so ``retry_on_timeout`` is on
    for the write client too: with ``max_retries=0`` it still never retries.
    Without it a stalled node stayed in the write rotation and, with the
    per-thread round robin, every write went to it first and paid the whole
    timeout plus a read-back (tests/reliability/test_slow_node.py).
    """
    retries = 0 if for_writes else len(settings.opensearch_hosts) - 1
    auth = None
    if settings.opensearch_username is not None:
        auth = (settings.opensearch_username, settings.opensearch_password or "")
    return OpenSearch(
        hosts=list(settings.opensearch_hosts),
        http_auth=auth,
        verify_certs=settings.opensearch_verify_certs,
        ca_certs=settings.opensearch_ca_certs,
        client_cert=settings.opensearch_client_cert,
        client_key=settings.opensearch_client_key,
        timeout=settings.request_timeout,
        pool_maxsize=settings.pool_size,  # opensearch-py ignores `maxsize`: one connection per pool
        serializer=OrjsonSerializer(),
        transport_class=OpaqueIdTransport,
        max_retries=retries,
        retry_on_timeout=True,
    )


@contextmanager
def _translated(operation: str = "other") -> Iterator[None]:
    """Time one OpenSearch call and turn opensearch-py exceptions into the port's.

    Nothing transport-specific leaks out of the repository.
    """
    started = time.perf_counter()
    try:
        yield
    except os_exc.ConnectionError as exc:  # includes ConnectionTimeout
        metrics.OPENSEARCH_ERRORS.labels(operation, "unavailable").inc()
        raise StoreUnavailable(f"OpenSearch is unreachable: {exc.error}") from exc
    except os_exc.TransportError as exc:
        if exc.status_code in UNAVAILABLE_STATUSES:
            metrics.OPENSEARCH_ERRORS.labels(operation, "unavailable").inc()
            raise StoreUnavailable(f"OpenSearch answered {exc.status_code}: {exc.error}") from exc
        metrics.OPENSEARCH_ERRORS.labels(operation, "error").inc()
        raise StoreError(f"OpenSearch answered {exc.status_code}: {exc.error}") from exc
    finally:
        metrics.OPENSEARCH_LATENCY.labels(operation).observe(time.perf_counter() - started)


def _error_type(body: dict[str, Any]) -> str | None:
    error = body.get("error")
    return error.get("type") if isinstance(error, dict) else None


class OpenSearchStateRepository(StateRepository):
    """State documents in an OpenSearch index, one per workflow, ``_id`` = workflow id.

    ``refresh`` is the refresh policy of writes (``"false"``, ``"true"`` or
    ``"wait_for"``); status reads are realtime and never need one.
    """

    def __init__(
        self,
        client: OpenSearch,
        index: str,
        *,
        refresh: str = "false",
        write_client: OpenSearch | None = None,
        wait_for_active_shards: str = "1",
    ) -> None:
        self.client = client
        self.write_client = write_client or client
        self.wait_for_active_shards = wait_for_active_shards
        self.index = index
        self.refresh = refresh
        self._index_ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenSearchStateRepository:
        return cls(
            build_client(settings),
            settings.state_index,
            refresh=settings.refresh,
            write_client=build_client(settings, for_writes=True),
            wait_for_active_shards=settings.wait_for_active_shards,
        )

    # -- index administration -------------------------------------------------

    def ensure_index(self) -> IndexReport:
        with _translated("ensure_index"):
            try:
                self.client.indices.create(
                    index=self.index, body={"settings": CREATE_SETTINGS, "mappings": MAPPING}
                )
                report = IndexReport.CREATED
            except os_exc.RequestError as exc:
                if exc.error != "resource_already_exists_exception":
                    raise
                report = self._upgrade()
        self._index_ready = True
        return report

    def _upgrade(self) -> IndexReport:
        (current,) = self.client.indices.get_mapping(index=self.index).values()
        mappings = current.get("mappings", {})
        version = mappings.get("_meta", {}).get("schema_version", 0)
        missing = set(MAPPING["properties"]) - set(mappings.get("properties", {}))
        if version >= SCHEMA_VERSION and not missing:
            return IndexReport.CURRENT
        try:
            self.client.indices.put_mapping(index=self.index, body=MAPPING)
        except os_exc.RequestError as exc:
            raise MappingConflict(
                f"index {self.index} (schema_version {version}) cannot take the plugin's "
                f"mapping in place: {exc.info}"
            ) from exc
        self.client.indices.put_settings(index=self.index, body=UPGRADE_SETTINGS)
        return IndexReport.UPGRADED

    def index_exists(self) -> bool:
        with _translated("index_exists"):
            return bool(self.client.indices.exists(index=self.index))

    # -- reads -----------------------------------------------------------------

    def get(self, workflow_id: str) -> Versioned:
        with _translated("get"):
            body = self.client.get(index=self.index, id=workflow_id, ignore=404)
        if _error_type(body) == "index_not_found_exception":
            raise IndexMissing(self.index)
        if "error" in body:
            raise StoreError(f"OpenSearch could not read {workflow_id!r}: {body['error']}")
        if not body.get("found"):
            raise DocumentMissing(workflow_id)
        result = self._versioned(body)
        if isinstance(result, CorruptDocument):
            raise result
        return result

    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, Lookup]:
        ids = list(dict.fromkeys(workflow_ids))
        if not ids:
            return {}
        with _translated("mget"):
            body = self.client.mget(index=self.index, body={"ids": ids}, ignore=404)
        if _error_type(body) == "index_not_found_exception":
            raise IndexMissing(self.index)
        found: dict[str, Lookup] = {}
        for doc in body["docs"]:
            if _error_type(doc) == "index_not_found_exception":
                raise IndexMissing(self.index)
            if "error" in doc:
                # A multi-get answers 200 and reports a shard that cannot answer
                # now (recovering, its node gone, overloaded) per document.
                metrics.OPENSEARCH_ERRORS.labels("mget", "unavailable").inc()
                raise StoreUnavailable(f"OpenSearch cannot read {doc['_id']!r} now: {doc['error']}")
            found[doc["_id"]] = self._versioned(doc) if doc.get("found") else None
        return found

    @staticmethod
    def _versioned(doc: dict[str, Any]) -> Versioned | CorruptDocument:
        try:
            state = load_state(doc["_source"])
        except ValidationError as exc:
            return CorruptDocument(doc["_id"], exc.messages)
        return Versioned(state, doc["_seq_no"], doc["_primary_term"])

    # -- writes ----------------------------------------------------------------

    def write_many(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        if not ops:
            return []
        if not self._index_ready:
            # A bulk write to a missing index would auto-create it with
            # dynamic mappings; create it with the plugin's mapping first.
            self.ensure_index()
        actions: list[dict[str, Any]] = []
        for op in ops:
            actions.extend(self._action(op))
        params = {} if self.refresh == "false" else {"refresh": self.refresh}
        if self.wait_for_active_shards != "1":
            params["wait_for_active_shards"] = self.wait_for_active_shards
        with _translated("bulk"):
            body = self.write_client.bulk(body=actions, **params)
        return [self._result(next(iter(item.values()))) for item in body["items"]]

    def _action(self, op: WriteOp) -> list[dict[str, Any]]:
        meta: dict[str, Any] = {"_index": self.index, "_id": op.workflow_id}
        if isinstance(op, Create):
            return [{"create": meta}, dump_state(op.state)]
        cas = {"if_seq_no": op.seq_no, "if_primary_term": op.primary_term}
        if isinstance(op, Replace):
            return [{"index": {**meta, **cas}}, dump_state(op.state)]
        if isinstance(op, Delete):
            return [{"delete": {**meta, **cas}}]
        raise TypeError(f"not a write op: {op!r}")

    @staticmethod
    def _result(item: dict[str, Any]) -> WriteResult:
        status = item.get("status", 500)
        if 200 <= status < 300:
            return WriteResult(Outcome.DONE, item.get("_seq_no"), item.get("_primary_term"))
        if status == 409:
            return WriteResult(Outcome.CONFLICT, error=item["error"].get("reason"))
        error = item.get("error") or {}
        outcome = Outcome.UNAVAILABLE if status in UNAVAILABLE_STATUSES else Outcome.FAILED
        return WriteResult(outcome, error=f"{error.get('type')}: {error.get('reason')}")
