"""``flowstatus ingest``: events from a file or a stream, applied in batches.

A reader thread feeds lines into a queue so that a live stream (``tail -f``,
a pipe from a provisioning engine) is applied as soon as lines arrive, while
a file is applied in full batches.  Events are idempotent, so a batch that
met an unavailable OpenSearch is simply sent again.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import click

from flowstatus.cli.common import components
from flowstatus.cli.progress import progress_bar
from flowstatus.domain.outcomes import LineOutcome, Result
from flowstatus.repository.errors import StoreUnavailable
from flowstatus.schemas.bulk import item_status
from flowstatus.services.event_lines import apply_lines
from flowstatus.services.indexer import StatusIndexer

_END = object()


@dataclass
class Tally:
    """Running totals of an ingest."""

    lines: int = 0
    last_line: int = 0
    applied: int = 0
    noops: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def add(self, outcome: LineOutcome) -> None:
        self.lines += 1
        self.last_line = max(self.last_line, outcome.line)
        result = outcome.result
        if result is None or not result.ok:
            reason = outcome.parse_error if result is None else f"{item_status(result)} {result.reason}"
            self.rejected.append((outcome.line, reason or "rejected"))
        elif result.result is Result.NOOP:
            self.noops += 1
        else:
            self.applied += 1


def batches(stream: BinaryIO, size: int, on_bytes: Callable[[int], None] = lambda n: None) -> Iterator[list[tuple[int, bytes]]]:
    """Numbered non-blank lines of ``stream``, in batches of at most ``size``.

    A batch is cut early when no further line is ready, so streamed input is
    applied without waiting for a full batch.
    """
    lines: queue.Queue[object] = queue.Queue(maxsize=size * 4)

    def read() -> None:
        for number, line in enumerate(stream, start=1):
            on_bytes(len(line))
            if line.strip():
                lines.put((number, line))
        lines.put(_END)

    threading.Thread(target=read, daemon=True, name="ingest-reader").start()
    while True:
        first = lines.get()
        if first is _END:
            return
        batch = [first]
        while len(batch) < size:
            try:
                item = lines.get_nowait()
            except queue.Empty:
                break
            if item is _END:
                yield batch  # type: ignore[misc]
                return
            batch.append(item)
        yield batch  # type: ignore[misc]


def apply_batch(indexer: StatusIndexer, batch: list[tuple[int, bytes]], attempts: int = 6) -> list[LineOutcome]:
    """Apply one batch, re-sending it while OpenSearch is unavailable (up to ``attempts`` times)."""
    for attempt in range(attempts):
        try:
            return apply_lines(indexer, batch)
        except StoreUnavailable:
            if attempt == attempts - 1:
                raise
            time.sleep(min(10.0, 0.5 * 2**attempt))
    raise AssertionError("unreachable")


@click.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def ingest(source: BinaryIO, batch_size: int) -> None:
    """Apply provisioning events (NDJSON) from SOURCE, a file or - for stdin.

    Exits 1 and lists the line numbers of rejected events if any were.
    """
    indexer = components().indexer
    tally = Tally()
    total = os.fstat(source.fileno()).st_size if source.seekable() else None
    started = time.monotonic()
    with progress_bar(f"ingesting {source.name}", total) as advance:
        try:
            for batch in batches(source, batch_size, on_bytes=advance):
                for outcome in apply_batch(indexer, batch):
                    tally.add(outcome)
        except StoreUnavailable as exc:
            raise click.ClickException(
                f"{exc}; lines up to {tally.last_line} were applied, re-run to continue "
                "(events already recorded are no-ops)"
            ) from None
    elapsed = time.monotonic() - started
    click.echo(
        f"{tally.lines} events in {elapsed:.1f}s: {tally.applied} applied, {tally.noops} already recorded, "
        f"{len(tally.rejected)} rejected",
        err=True,
    )
    if tally.rejected:
        for line, reason in tally.rejected[:50]:
            click.echo(f"  line {line}: {reason}", err=True)
        if len(tally.rejected) > 50:
            click.echo(f"  ... and {len(tally.rejected) - 50} more", err=True)
        click.echo("rejected lines: " + ", ".join(str(line) for line, _ in tally.rejected), err=True)
        sys.exit(1)
