"""``flowstatus ingest``: events from a file or a stream, applied in batches.

Without ``--url`` the events go straight to OpenSearch through the service
layer; with ``--url`` they go to a flowstatus server's bulk endpoint
(:mod:`flowstatus.cli.remote_ingest`), through its front door.  Either way
they are read and batched alike (:mod:`flowstatus.cli.line_batches`) and end
with the same summary (:mod:`flowstatus.cli.ingest_tally`).  Events are
idempotent, so a batch that met an unavailable store or server is simply
sent again.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

import click

from flowstatus.cli.client_options import Target, connect, exit_on_client_error, server_options
from flowstatus.cli.common import components
from flowstatus.cli.ingest_tally import EXIT_REJECTED, EXIT_STOPPED, Stopped, Tally
from flowstatus.cli.line_batches import Batch, Limits, Numbered, batches
from flowstatus.cli.progress import progress_bar
from flowstatus.cli.retries import backoff
from flowstatus.domain.outcomes import LineOutcome
from flowstatus.repository.errors import StoreUnavailable
from flowstatus.services.event_lines import apply_lines

if TYPE_CHECKING:
    from flowstatus.services.indexer import StatusIndexer

# Below the server's default FLOWSTATUS_MAX_BULK_BYTES (10 MiB), with room to spare.
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_RETRIES = 8
URL_HELP = ("Send the events to this flowstatus server's POST /_flowstatus/_bulk instead of writing to OpenSearch. "
            "FLOWSTATUS_URL is not read here: it is watch's default, and must not change where an ingest writes.")


def apply_batch(indexer: StatusIndexer, batch: list[Numbered], attempts: int = DEFAULT_RETRIES + 1,
                sleep: Callable[[float], None] = time.sleep) -> list[LineOutcome]:
    """Apply one batch, re-sending it while OpenSearch is unavailable (up to ``attempts`` times).

    Raises the last :class:`StoreUnavailable` when the attempts run out.
    """
    for attempt in range(attempts):
        try:
            return apply_lines(indexer, batch)
        except StoreUnavailable:
            if attempt == attempts - 1:
                raise
            sleep(backoff(attempt))
    raise AssertionError("unreachable")


def _to_opensearch(tally: Tally, attempts: int) -> Callable[[Batch], None]:
    indexer = components().indexer

    def send(batch: Batch) -> None:
        if not batch.lines:
            return
        try:
            outcomes = apply_batch(indexer, batch.lines, attempts)
        except StoreUnavailable as exc:
            raise Stopped(str(exc), batch.lines[0][0]) from None
        for outcome in outcomes:
            tally.add(outcome)

    return send


def _to_server(server: Target, tally: Tally, limits: Limits, attempts: int) -> Callable[[Batch], None]:
    from flowstatus.cli.remote_ingest import BulkSender

    def note(message: str) -> None:
        click.echo(f"flowstatus ingest: {message}", err=True)

    return BulkSender(connect(server), tally, limits, attempts, note).send


@click.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000),
              help="Most events per batch.")
@click.option("--max-bytes", default=DEFAULT_MAX_BYTES, show_default=True, type=click.IntRange(1024, 2**31),
              help="With --url: largest request body; keep it below the server's FLOWSTATUS_MAX_BULK_BYTES. "
                   "A longer line is rejected, never sent.")
@click.option("--retries", default=DEFAULT_RETRIES, show_default=True, type=click.IntRange(0, 100),
              help="Times a batch is sent again while OpenSearch or the server is unavailable "
                   "(jittered backoff, honouring Retry-After).")
@server_options(url_help=URL_HELP, also_needing_url=("max_bytes",))
def ingest(source: BinaryIO, batch_size: int, max_bytes: int, retries: int, server: Target | None) -> None:
    """Apply provisioning events (NDJSON) from SOURCE, a file or - for stdin.

    Without --url, events are written to OpenSearch directly (OPENSEARCH_URL and
    the other OPENSEARCH_* settings), bypassing flowstatus's users and access
    rules. With --url, they are sent to that flowstatus server as --user, as
    the server's access rules allow.

    Exit status: 0 when every line was applied or already recorded; 1 when
    lines were rejected (listed with their numbers and reasons); 2 for a usage
    error; 3 when it stopped (unreachable after the retries, TLS failure;
    it names the last line applied); 4 when credentials are missing or
    refused (401), or the user may not write (403).
    """
    tally = Tally()
    limits = Limits(batch_size, max_bytes if server else None)
    total = os.fstat(source.fileno()).st_size if source.seekable() else None
    with exit_on_client_error("ingest"):
        send = _to_server(server, tally, limits, retries + 1) if server else _to_opensearch(tally, retries + 1)
        started = time.monotonic()
        try:
            with progress_bar(f"ingesting {source.name}", total) as advance:
                for batch in batches(source, limits, on_bytes=advance):
                    send(batch)
        except BaseException as exc:
            if tally.lines:  # what was done before it stopped, was refused or interrupted
                tally.report(time.monotonic() - started)
            if isinstance(exc, Stopped):
                click.echo(f"flowstatus ingest: {exc}", err=True)
                sys.exit(EXIT_STOPPED)
            raise
    tally.report(time.monotonic() - started)
    if tally.rejected:
        sys.exit(EXIT_REJECTED)
