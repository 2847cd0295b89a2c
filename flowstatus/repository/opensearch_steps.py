"""The OpenSearch adapter of :class:`~flowstatus.repository.step_port.StepStore`: the companion index.

One document per workflow (``_id`` = workflow id) holds its step records,
and one (``observer/lease``) the step observer's lease.  The index is
treated as the state index is: created hidden with ``auto_expand_replicas``
``0-1``, written only through an alias with ``require_alias`` (so no write
ever creates it with dynamic mappings), every write guarded by
``if_seq_no``/``if_primary_term``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from marshmallow import ValidationError
from opensearchpy import OpenSearch

from flowstatus.domain.step_observations import Lease
from flowstatus.repository.errors import StoreError, StoreUnavailable
from flowstatus.repository.opensearch_client import PRIMARIES_WAIT, translated, wait_for_primaries
from flowstatus.repository.opensearch_state import CREATE_SETTINGS, OpenSearchStateRepository, _alias_missing
from flowstatus.repository.port import IndexReport, Outcome, WriteResult
from flowstatus.repository.step_port import (
    LEASE_ID,
    PutRecords,
    StepStore,
    StoredLease,
    StoredRecords,
    Version,
)
from flowstatus.schemas.steps import dump_lease, dump_records, load_lease, load_records

log = logging.getLogger(__name__)

MAPPING: dict[str, Any] = json.loads(
    resources.files("flowstatus.repository").joinpath("mappings/workflow-steps.json").read_text()
)
SUFFIX = "-flowstatus-steps"
STEPS_WRITE_SUFFIX = "-writes"


def steps_index(state_index: str) -> str:
    """The companion index of ``state_index`` (``.plugins-flow-framework-state-flowstatus-steps`` by default)."""
    return f"{state_index}{SUFFIX}"


def _version(doc: Mapping[str, Any]) -> Version:
    return Version(doc["_seq_no"], doc["_primary_term"])


class OpenSearchStepStore(StepStore):
    """The companion index ``index`` on OpenSearch (reads through ``client``, writes through ``write_client``)."""

    def __init__(self, client: OpenSearch, index: str, *, write_client: OpenSearch | None = None,
                 refresh: str = "false", primaries_wait: float = PRIMARIES_WAIT) -> None:
        self.client = client
        self.primaries_wait = primaries_wait
        self.write_client = write_client or client
        self.index = index
        self.refresh = refresh
        self._ready = False

    @property
    def write_alias(self) -> str:
        return f"{self.index}{STEPS_WRITE_SUFFIX}"

    def ensure_index(self) -> IndexReport:
        with translated("ensure_index"):
            report = IndexReport.CREATED if self._created() else self._bring_up_to_date()
        self._ready = True
        return report

    def _created(self) -> bool:
        """Create the index with its mapping and write alias; ``False`` if it exists already (a racing creator)."""
        body = {"settings": CREATE_SETTINGS, "mappings": MAPPING, "aliases": {self.write_alias: {}}}
        answer = self.client.indices.create(index=self.index, body=body, ignore=400)
        error = answer.get("error")
        if error is None:
            return True
        if isinstance(error, dict) and error.get("type") == "resource_already_exists_exception":
            wait_for_primaries(self.client, self.index, self.primaries_wait)
            return False
        raise StoreError(f"OpenSearch would not create {self.index}: {error}")

    def _bring_up_to_date(self) -> IndexReport:
        """Add the properties and alias an index made by an older flowstatus (or a racing creator) lacks."""
        (current,) = self.client.indices.get_mapping(index=self.index).values()
        properties = current.get("mappings", {}).get("properties", {})
        report = IndexReport.CURRENT
        if set(MAPPING["properties"]) - set(properties):
            self.client.indices.put_mapping(index=self.index, body=MAPPING)
            report = IndexReport.UPGRADED
        if not self.client.indices.exists_alias(index=self.index, name=self.write_alias):
            self.client.indices.put_alias(index=self.index, name=self.write_alias)
        return report

    def index_exists(self) -> bool:
        with translated("index_exists"):
            return bool(self.client.indices.exists(index=self.index))

    def _docs(self, ids: list[str]) -> list[dict[str, Any]] | None:
        """The multi-get of ``ids`` (``None``: no index); a shard that cannot answer raises StoreUnavailable."""
        with translated("mget"):
            body = self.client.mget(index=self.index, body={"ids": ids}, ignore=404)
        docs: list[dict[str, Any]] = body.get("docs", [])
        if "error" in body or any("error" in d for d in docs):
            error = body.get("error") or next(d["error"] for d in docs if "error" in d)
            if isinstance(error, dict) and error.get("type") == "index_not_found_exception":
                return None
            raise StoreUnavailable(f"OpenSearch cannot read step records now: {error}")
        return docs

    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, StoredRecords | None]:
        ids = list(dict.fromkeys(workflow_ids))
        found: dict[str, StoredRecords | None] = dict.fromkeys(ids)
        for doc in (self._docs(ids) if ids else None) or ():
            if doc.get("found"):
                try:
                    records = load_records(doc["_source"])
                except ValidationError as exc:
                    log.warning("step records of %r do not load, ignored: %s", doc["_id"], exc.messages)
                    records = None
                found[doc["_id"]] = StoredRecords(records, _version(doc))
        return found

    def write_many(self, puts: Sequence[PutRecords]) -> list[WriteResult]:
        return self._write([(p.records.workflow_id, dump_records(p.records), p.expected) for p in puts])

    def read_lease(self) -> StoredLease | None:
        docs = self._docs([LEASE_ID])
        if not docs or not docs[0].get("found"):
            return None
        try:
            lease: Lease | None = load_lease(docs[0]["_source"])
        except ValidationError:
            lease = None
        return StoredLease(lease, _version(docs[0]))

    def write_lease(self, lease: Lease, expected: Version | None) -> bool:
        (result,) = self._write([(LEASE_ID, dump_lease(lease), expected)])
        if result.outcome in (Outcome.DONE, Outcome.CONFLICT):
            return result.outcome is Outcome.DONE
        raise StoreUnavailable(f"the observer's lease could not be written: {result.error}")

    def _write(self, docs: list[tuple[str, dict[str, Any], Version | None]]) -> list[WriteResult]:
        """Write ``(id, source, expected version)`` triples in one bulk request, through the write alias."""
        if not docs:
            return []
        if not self._ready:
            self.ensure_index()
        actions: list[dict[str, Any]] = []
        for doc_id, source, expected in docs:
            meta: dict[str, Any] = {"_index": self.write_alias, "_id": doc_id}
            if expected is None:
                actions += [{"create": meta}, source]
            else:
                actions += [{"index": {**meta, "if_seq_no": expected.seq_no,
                                       "if_primary_term": expected.primary_term}}, source]
        params = {"require_alias": "true"}
        if self.refresh != "false":
            params["refresh"] = self.refresh
        body = self._bulk(actions, params)
        if any(_alias_missing(item) for item in body["items"]):
            log.warning("the companion index or its write alias is gone; creating it again before writing")
            self.ensure_index()
            body = self._bulk(actions, params)
        return [OpenSearchStateRepository._result(next(iter(item.values()))) for item in body["items"]]

    def _bulk(self, actions: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        with translated("bulk"):
            body: dict[str, Any] = self.write_client.bulk(body=actions, params=params)
        if "items" not in body:
            raise StoreError(f"OpenSearch answered a bulk request without items: {body}")
        return body
