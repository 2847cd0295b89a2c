"""Repairing a state index whose mapping is not the plugin's, by copying its documents, losing none.

OpenSearch cannot change a field's type in place (a dynamically mapped
``user`` object cannot become ``nested``), and the distribution flowstatus
supports has no ``_reindex``: the documents are copied client-side, with a
scroll and bulk writes, through a temporary index:

1. writes to the broken index are blocked (``index.blocks.write``), so nothing
   written during the copy can be lost;
2. every document is copied, with its id, into ``<index>-repair`` (the
   plugin's mapping), and the copy is checked id by id;
3. the broken index is deleted and created again with the plugin's mapping;
4. the documents are copied back, where no newer one was written meanwhile
   (``create`` operations: a document already there is kept), and checked
   again; the temporary index is deleted.

If the repair stops part way, running it again resumes where it stopped.
Nothing is ever deleted before its copy has been checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from opensearchpy import OpenSearch, helpers

from flowstatus.repository.errors import MappingConflict, StoreError

BATCH = 500
REPAIR_SUFFIX = "-repair"

# stage, documents done, documents in all (None while unknown)
Progress = Callable[[str, int, int | None], None]


def _ids_and_sources(client: OpenSearch, index: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for hit in helpers.scan(client, index=index, query={"query": {"match_all": {}}}, size=BATCH,
                            scroll="2m", preserve_order=False):
        yield hit["_id"], hit["_source"]


def _count(client: OpenSearch, index: str) -> int:
    client.indices.refresh(index=index)
    return int(client.count(index=index)["count"])


def copy_documents(client: OpenSearch, source: str, target: str, stage: str, progress: Progress,
                   *, keep_existing: bool = False) -> None:
    """Copy every document of ``source`` into ``target`` with its id; raise unless all arrived.

    ``keep_existing``: a document already in ``target`` is kept, not overwritten.
    """
    total = _count(client, source)
    done = 0
    progress(stage, 0, total)
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal done
        ok, errors = helpers.bulk(client, batch, raise_on_error=False, refresh=False)
        if keep_existing:  # a 409 is a document written meanwhile: newer than the copy
            ok += sum(1 for e in errors if next(iter(e.values())).get("status") == 409)
            errors = [e for e in errors if next(iter(e.values())).get("status") != 409]
        if errors:
            raise StoreError(f"{len(errors)} documents could not be copied from {source} to {target}: {errors[:3]}")
        done += ok
        progress(stage, done, total)
        batch.clear()

    for doc_id, source_doc in _ids_and_sources(client, source):
        op = "create" if keep_existing else "index"
        batch.append({"_op_type": op, "_index": target, "_id": doc_id, "_source": source_doc})
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    _check_copy(client, source, target)


def _check_copy(client: OpenSearch, source: str, target: str) -> None:
    """Raise unless ``target`` holds every id of ``source``."""
    if _count(client, target) < _count(client, source):
        raise StoreError(f"the copy of {source} into {target} is short; nothing was deleted")
    ids = [doc_id for doc_id, _ in _ids_and_sources(client, source)]
    for start in range(0, len(ids), BATCH):
        found = client.mget(index=target, body={"ids": ids[start:start + BATCH]}, _source=False)
        missing = [d["_id"] for d in found["docs"] if not d.get("found")]
        if missing:
            raise StoreError(f"{len(missing)} documents of {source} are missing from {target}: {missing[:5]}")


def repair(client: OpenSearch, index: str, *, correct: bool, create: Callable[[str], None],
           progress: Progress) -> bool:
    """Give ``index`` the plugin's mapping, keeping every document.

    ``correct``: whether ``index`` (if it exists) already has the plugin's
    mapping; ``create(name)`` makes a correctly mapped index of that name (or
    accepts one that already is).  Returns ``True`` if anything was copied.
    Raises :class:`~flowstatus.repository.errors.StoreError` if a copy is
    incomplete; what it was copied from is then kept.
    """
    temporary = f"{index}{REPAIR_SUFFIX}"
    index_exists = bool(client.indices.exists(index=index))
    temporary_exists = bool(client.indices.exists(index=temporary))
    if index_exists and correct and not temporary_exists:
        return False
    if index_exists and not correct:
        client.indices.put_settings(index=index, body={"index.blocks.write": True})
        if temporary_exists:  # a first copy that stopped part way: the broken index is still whole
            client.indices.delete(index=temporary)
        create(temporary)
        copy_documents(client, index, temporary, "copying into a correctly mapped index", progress)
        client.indices.delete(index=index)
    elif not temporary_exists:
        return False
    create(index)
    copy_documents(client, temporary, index, "copying back", progress, keep_existing=True)
    client.indices.delete(index=temporary)
    return True


__all__ = ["MappingConflict", "Progress", "copy_documents", "repair"]
