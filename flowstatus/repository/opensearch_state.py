"""The OpenSearch adapter of the state-repository port.

Documents cross it through :mod:`flowstatus.schemas.state` only, so what is
stored is always the plugin's format.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from marshmallow import ValidationError
from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_exc

from flowstatus.domain.generation import Generation
from flowstatus.observability import metrics
from flowstatus.observability.request_context import opaque_id
from flowstatus.repository.errors import (
    CorruptDocument,
    DocumentMissing,
    IndexMissing,
    MappingConflict,
    StoreAccessRefused,
    StoreUnavailable,
)
from flowstatus.repository.opensearch_access import READ_TEMPLATES, RECORD_STEPS, Companion, StateIndexAccess
from flowstatus.repository.opensearch_client import (
    PRIMARIES_WAIT,
    UNAVAILABLE_STATUSES,
    access_refusal,
    build_client,
    translated,
    wait_for_primaries,
)
from flowstatus.repository.opensearch_generation import GENERATION_TTL, GenerationCache, read_generation
from flowstatus.repository.opensearch_repair import Progress, repair
from flowstatus.repository.port import (
    Create,
    Delete,
    IndexReport,
    Lookup,
    Outcome,
    Readiness,
    Replace,
    StateRepository,
    Versioned,
    WriteOp,
    WriteResult,
)
from flowstatus.repository.rounds import Rounds
from flowstatus.repository.state_mapping import (
    MAPPING,  # noqa: F401 - re-exported: imported from here
    SCHEMA_VERSION,
    mapping_for,
)
from flowstatus.schemas.fast_state import read_state
from flowstatus.schemas.state import dump_state
from flowstatus.settings import Settings

log = logging.getLogger(__name__)

# The plugin sets only auto_expand_replicas.  It can leave the index visible
# because, inside a cluster that runs the plugin, the index is a registered
# system index; elsewhere a visible dot-index draws a deprecation warning on
# create, so flowstatus creates it hidden (reads by name are unaffected).
CREATE_SETTINGS = {"index": {"auto_expand_replicas": "0-1", "hidden": True}}
UPGRADE_SETTINGS = {"index": {"auto_expand_replicas": "0-1"}}
NESTED_LIMIT = "index.mapping.nested_objects.limit"
READS_PER_ROUND = 256  # status reads one multi-get carries at most
OPAQUE_ID_CHARS = 4000  # X-Opaque-Id of a shared read: every request id, within OpenSearch's header limits
# Writes go through an alias with require_alias, so that no write ever creates the index.
WRITE_ALIAS_SUFFIX = "-flowstatus-writes"
DEFAULT_NESTED_LIMIT = 10_000  # OpenSearch's default


def _alias_missing(item: dict[str, Any]) -> bool:
    """A bulk item refused because its target alias (or index) does not exist."""
    result = next(iter(item.values()))
    return result.get("status") == 404 and _error_type(result) == "index_not_found_exception"


def _error_type(body: dict[str, Any]) -> str | None:
    error = body.get("error")
    return error.get("type") if isinstance(error, dict) else None


class OpenSearchStateRepository(StateRepository):
    """State documents in an OpenSearch index, one per workflow, ``_id`` = workflow id.

    ``refresh`` is the refresh policy of writes (``"false"``, ``"true"`` or
    ``"wait_for"``); status reads are realtime and never need one.
    ``companions`` names the indices beside it whose permissions readiness
    checks too (see :class:`~.opensearch_access.StateIndexAccess`).
    ``generation_ttl`` is how long (seconds) the cluster's generation is kept.
    """

    def __init__(
        self,
        client: OpenSearch,
        index: str,
        *,
        refresh: str = "false",
        write_client: OpenSearch | None = None,
        wait_for_active_shards: str = "1",
        companions: tuple[Companion, ...] = (),
        generation_ttl: float = GENERATION_TTL,
        primaries_wait: float = PRIMARIES_WAIT,
    ) -> None:
        self.client = client
        self.primaries_wait = primaries_wait
        self.write_client = write_client or client
        self.wait_for_active_shards = wait_for_active_shards
        self.index = index
        self.refresh = refresh
        self._index_ready = False
        self._nested_limit: int | None = None
        self._generations = GenerationCache(lambda: read_generation(self.client), generation_ttl)
        self._mget_path = f"/{quote(index, safe='')}/_mget"
        self._reads: Rounds[tuple[str, str | None], Lookup] = Rounds(self._read_round, max_items=READS_PER_ROUND)
        self.access = StateIndexAccess(client, index, self.write_alias, companions=companions)

    @classmethod
    def from_settings(cls, settings: Settings, client: OpenSearch | None = None,
                      write_client: OpenSearch | None = None) -> OpenSearchStateRepository:
        """The repository ``settings`` describe, reading through ``client`` and writing through
        ``write_client`` (new ones where not given)."""
        from flowstatus.repository.opensearch_steps import STEPS_WRITE_SUFFIX, steps_index  # builds on this module

        steps = steps_index(settings.state_index)
        return cls(
            client or build_client(settings),
            settings.state_index,
            refresh=settings.refresh,
            write_client=write_client or build_client(settings, for_writes=True),
            wait_for_active_shards=settings.wait_for_active_shards,
            companions=(Companion(RECORD_STEPS, steps, f"{steps}{STEPS_WRITE_SUFFIX}"),
                        Companion(READ_TEMPLATES, settings.templates_index)),
        )

    # -- index administration -------------------------------------------------

    @property
    def write_alias(self) -> str:
        """The alias every write goes through (see :meth:`write_many`)."""
        return f"{self.index}{WRITE_ALIAS_SUFFIX}"

    def generation(self) -> Generation:
        """See :meth:`StateRepository.generation` (how: :mod:`.opensearch_generation`)."""
        return self._generations.get()

    def _mapping(self) -> dict[str, Any]:
        """The mapping of the cluster's plugin, from a fresh look at the cluster (it may have been upgraded)."""
        self._generations.forget()
        return mapping_for(self.generation())

    def ensure_index(self) -> IndexReport:
        """See :meth:`StateRepository.ensure_index`.

        An index that is already current with its write alias is only read
        (its mapping and alias), so a user who may not create or change the
        index (docs/secured-cluster.md) still writes to one made for it.
        """
        mapping = self._mapping()
        body = {"settings": CREATE_SETTINGS, "mappings": mapping, "aliases": {self.write_alias: {}}}
        with translated("ensure_index"):
            try:
                report = self._upgrade(mapping)
            except os_exc.NotFoundError:
                try:
                    self.client.indices.create(index=self.index, body=body)
                    report = IndexReport.CREATED
                except os_exc.RequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise
                    wait_for_primaries(self.client, self.index, self.primaries_wait)  # another creator won the race
                    report = self._upgrade(mapping)
            if report is not IndexReport.CREATED and not self.client.indices.exists_alias(
                    index=self.index, name=self.write_alias):
                self.client.indices.put_alias(index=self.index, name=self.write_alias)
        self._index_ready = True
        return report

    def _upgrade(self, mapping: dict[str, Any]) -> IndexReport:
        """Give the existing index what ``mapping`` has and it lacks; a property it has beyond that stays."""
        (current,) = self.client.indices.get_mapping(index=self.index).values()
        mappings = current.get("mappings", {})
        version = mappings.get("_meta", {}).get("schema_version", 0)
        missing = set(mapping["properties"]) - set(mappings.get("properties", {}))
        if version >= SCHEMA_VERSION and not missing:
            return IndexReport.CURRENT
        try:
            self.client.indices.put_mapping(index=self.index, body=mapping)
        except os_exc.RequestError as exc:
            raise MappingConflict(
                f"index {self.index} (schema_version {version}) cannot take the plugin's mapping in place "
                f"(run `flowstatus init-index --repair` to copy its documents into a correctly mapped one): "
                f"{exc.info}"
            ) from exc
        self.client.indices.put_settings(index=self.index, body=UPGRADE_SETTINGS)
        return IndexReport.UPGRADED

    def repair_index(self, progress: Progress) -> IndexReport:
        """See :meth:`StateRepository.repair_index` (the copy: :mod:`.opensearch_repair`)."""
        try:
            report = self.ensure_index()
            correct = True
        except MappingConflict:
            report, correct = IndexReport.CURRENT, False

        def create(name: str) -> None:
            if name == self.index:
                self.ensure_index()
                return
            body = {"settings": CREATE_SETTINGS, "mappings": self._mapping()}
            self.client.indices.create(index=name, body=body)

        with translated("repair"):
            repaired = repair(self.client, self.index, correct=correct, create=create, progress=progress)
        return IndexReport.REPAIRED if repaired else report

    def index_exists(self) -> bool:
        with translated("index_exists"):
            return bool(self.client.indices.exists(index=self.index))

    def nested_objects_limit(self) -> int:
        if self._nested_limit is None:
            with translated("settings"):
                body = self.client.indices.get_settings(
                    index=self.index, name=NESTED_LIMIT, include_defaults=True, flat_settings=True, ignore=404)
            if "error" in body:
                return DEFAULT_NESTED_LIMIT  # no index yet: it is created with the default
            (found,) = body.values()
            merged = {**found.get("defaults", {}), **found.get("settings", {})}
            self._nested_limit = int(merged.get(NESTED_LIMIT, DEFAULT_NESTED_LIMIT))
        return self._nested_limit

    def readiness(self) -> Readiness:
        """See :meth:`StateRepository.readiness`; also whether OpenSearch lets flowstatus's user read,
        search and write the index (:class:`~.opensearch_access.StateIndexAccess`), which on a
        secured cluster it may refuse or silently hide."""
        try:
            reason = self._shard_readiness()
        except StoreAccessRefused as exc:
            return Readiness(self.access.problem() or str(exc))
        return Readiness(reason or self.access.problem())

    def _shard_readiness(self) -> str | None:
        if not self.index_exists():
            return "the state index does not exist"
        with translated("health"):
            # No wait_for_* parameter: the state now, never a wait.
            health = self.client.cluster.health(index=self.index)
        if health.get("status") == "red" or not health.get("active_primary_shards"):
            return "the primary copy of the state index's shard is not active"
        needed = self.wait_for_active_shards
        if needed == "all" and health.get("status") != "green":
            return "writes wait for all copies of the state index's shard, and not all are active"
        if needed.isdigit() and int(health.get("active_shards", 0)) < int(needed):
            return (f"writes wait for {needed} active copies of the state index's shard, "
                    f"{health.get('active_shards', 0)} are active")
        return None

    # -- reads -----------------------------------------------------------------

    def get(self, workflow_id: str) -> Versioned:
        """See :meth:`StateRepository.get`.

        Concurrent reads in this process share one realtime multi-get per
        round (:class:`~flowstatus.repository.rounds.Rounds`): a lone read
        goes at once, and reads that arrive while one is in flight go
        together in the next, each still realtime.  The round carries every
        caller's request id in ``X-Opaque-Id``.
        """
        result = self._reads.submit((workflow_id, opaque_id.get()))
        if result is None:
            raise DocumentMissing(workflow_id)
        if isinstance(result, CorruptDocument):
            raise result
        return result

    def _read_round(self, reads: Sequence[tuple[str, str | None]]) -> list[Lookup]:
        ids = list(dict.fromkeys(workflow_id for workflow_id, _ in reads))
        opaque = ",".join(dict.fromkeys(rid for _, rid in reads if rid))[:OPAQUE_ID_CHARS]
        found = self._mget(ids, "get", {"X-Opaque-Id": opaque} if opaque else None)
        return [found[workflow_id] for workflow_id, _ in reads]

    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, Lookup]:
        return self._mget(list(dict.fromkeys(workflow_ids)), "mget", None)

    def versions(self, workflow_ids: Iterable[str]) -> dict[str, tuple[int, int] | None]:
        docs = self._mget_docs(list(dict.fromkeys(workflow_ids)), "versions", None, {"_source": "false"})
        return {doc["_id"]: (doc["_primary_term"], doc["_seq_no"]) if doc.get("found") else None for doc in docs}

    def _mget(self, ids: list[str], operation: str, headers: dict[str, str] | None) -> dict[str, Lookup]:
        """One realtime multi-get of ``ids`` (distinct), straight through the transport."""
        return {doc["_id"]: self._versioned(doc) if doc.get("found") else None
                for doc in self._mget_docs(ids, operation, headers, {})}

    def _mget_docs(self, ids: list[str], operation: str, headers: dict[str, str] | None,
                   params: dict[str, str]) -> list[dict[str, Any]]:
        """The documents of one realtime multi-get of ``ids``; raises for the index or a document that failed.

        A document not found is checked against access first (see
        :meth:`~.opensearch_access.StateIndexAccess.ensure_visible`): OpenSearch may hide it.
        """
        if not ids:
            return []
        with translated(operation):
            body = self.client.transport.perform_request(
                "POST", self._mget_path, headers=headers, params={"ignore": 404, **params}, body={"ids": ids})
        if _error_type(body) == "index_not_found_exception":
            raise IndexMissing(self.index)
        docs: list[dict[str, Any]] = body["docs"]
        for doc in docs:
            if "error" not in doc:
                continue
            if _error_type(doc) == "index_not_found_exception":
                raise IndexMissing(self.index)
            refusal = access_refusal(403, doc)
            if refusal is not None:
                metrics.OPENSEARCH_ERRORS.labels("mget", "refused").inc()
                raise StoreAccessRefused(refusal)
            # A multi-get answers 200 and reports a shard that cannot answer
            # now (recovering, its node gone, overloaded) per document.
            metrics.OPENSEARCH_ERRORS.labels("mget", "unavailable").inc()
            raise StoreUnavailable(f"OpenSearch cannot read {doc['_id']!r} now: {doc['error']}")
        if not all(doc.get("found") for doc in docs):
            self.access.ensure_visible()
        return docs

    @staticmethod
    def _versioned(doc: dict[str, Any]) -> Versioned | CorruptDocument:
        try:
            state = read_state(doc["_source"])
        except ValidationError as exc:
            return CorruptDocument(doc["_id"], exc.messages)
        return Versioned(state, doc["_seq_no"], doc["_primary_term"])

    # -- writes ----------------------------------------------------------------

    def write_many(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """See :meth:`StateRepository.write_many`.

        Writes go through :attr:`write_alias` with ``require_alias``, so a
        write never creates the state index: were the index deleted, the alias
        would go with it and OpenSearch would refuse the write rather than
        create the index with dynamic mappings (which the plugin's reads, the
        access filters and search cannot use).  Then the index is created
        again with the plugin's mapping, or its alias restored if another
        writer (the plugin) re-created it, and the round is sent once more.
        An index that cannot take the plugin's mapping raises
        :class:`~flowstatus.repository.errors.MappingConflict`: writes are
        refused until ``flowstatus init-index --repair`` fixes it.
        """
        if not ops:
            return []
        if not self._index_ready:
            self.ensure_index()
        body = self._bulk(ops)
        if any(_alias_missing(item) for item in body["items"]):
            log.warning("the state index or its write alias is gone; creating it again before writing")
            self._index_ready = False
            self.ensure_index()
            body = self._bulk(ops)
        return [self._result(next(iter(item.values()))) for item in body["items"]]

    def _bulk(self, ops: Sequence[WriteOp]) -> dict[str, Any]:
        generation = self.generation()
        actions: list[dict[str, Any]] = []
        for op in ops:
            actions.extend(self._action(op, generation))
        params = {"require_alias": "true"}
        if self.refresh != "false":
            params["refresh"] = self.refresh
        if self.wait_for_active_shards != "1":
            params["wait_for_active_shards"] = self.wait_for_active_shards
        try:
            with translated("bulk"):
                body: dict[str, Any] = self.write_client.bulk(body=actions, params=params)
        except StoreUnavailable:
            self._generations.forget()  # it may come back as another generation (an upgrade restarts nodes)
            raise
        return body

    def _action(self, op: WriteOp, generation: Generation) -> list[dict[str, Any]]:
        meta: dict[str, Any] = {"_index": self.write_alias, "_id": op.workflow_id}
        if isinstance(op, Create):
            return [{"create": meta}, dump_state(op.state, generation)]
        cas = {"if_seq_no": op.seq_no, "if_primary_term": op.primary_term}
        if isinstance(op, Replace):
            return [{"index": {**meta, **cas}}, dump_state(op.state, generation)]
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
        if access_refusal(status, item) is not None:
            # Nothing was written: re-send once an operator grants the access (/_ready says what is missing).
            return WriteResult(Outcome.UNAVAILABLE, error="OpenSearch refuses flowstatus access to the state index; "
                                                          "/_ready says why")
        error = item.get("error") or {}
        outcome = Outcome.UNAVAILABLE if status in UNAVAILABLE_STATUSES else Outcome.FAILED
        return WriteResult(outcome, error=f"{error.get('type')}: {error.get('reason')}")
