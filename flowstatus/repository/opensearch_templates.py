"""The OpenSearch adapter of :class:`~flowstatus.repository.step_port.TemplateStore`.

Reads the plugin's template documents by id with ``_source_includes`` set to
the provision graph's fields (:data:`~flowstatus.schemas.steps.GRAPH_FIELDS`):
the rest of a template, credentials included, never leaves OpenSearch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from marshmallow import ValidationError
from opensearchpy import OpenSearch

from flowstatus.repository.errors import StoreUnavailable
from flowstatus.repository.opensearch_client import translated
from flowstatus.repository.step_port import StoredGraph, TemplateStore, Version
from flowstatus.schemas.steps import GRAPH_FIELDS, load_graph
from flowstatus.settings import DEFAULT_TEMPLATES_INDEX

log = logging.getLogger(__name__)



class OpenSearchTemplateStore(TemplateStore):
    """Provision graphs from the template index ``index``."""

    def __init__(self, client: OpenSearch, index: str = DEFAULT_TEMPLATES_INDEX) -> None:
        self.client = client
        self.index = index

    def get_many(self, workflow_ids: Iterable[str]) -> dict[str, StoredGraph | None]:
        ids = list(dict.fromkeys(workflow_ids))
        found: dict[str, StoredGraph | None] = dict.fromkeys(ids)
        if not ids:
            return found
        with translated("templates"):
            body = self.client.mget(index=self.index, body={"ids": ids}, ignore=404,
                                    _source_includes=",".join(GRAPH_FIELDS))
        for doc in body.get("docs", [body]):
            error = doc.get("error")
            if isinstance(error, dict) and error.get("type") == "index_not_found_exception":
                return found  # no template was ever stored
            if error is not None:
                raise StoreUnavailable(f"OpenSearch cannot read templates now: {error}")
            if doc.get("found"):
                version = Version(doc["_seq_no"], doc["_primary_term"])
                try:
                    found[doc["_id"]] = StoredGraph(load_graph(doc.get("_source") or {}), version)
                except ValidationError as exc:
                    log.warning("the template of %r does not load, its steps are not listed: %s",
                                doc["_id"], exc.messages)
                    found[doc["_id"]] = StoredGraph(None, version)
        return found
