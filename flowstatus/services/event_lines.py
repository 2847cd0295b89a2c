"""Newline-delimited events in, one outcome per line out.

Shared by the bulk REST endpoint and ``flowstatus ingest``: a line that does
not parse is reported and skipped, the others go to the indexer as one batch.
"""

from __future__ import annotations

from collections.abc import Iterable

from flowstatus.domain.access import ANONYMOUS, Caller
from flowstatus.domain.events import Event
from flowstatus.domain.outcomes import LineOutcome
from flowstatus.schemas.events import EventParseError, parse_event
from flowstatus.services.indexer import StatusIndexer


def numbered_lines(data: bytes) -> list[tuple[int, bytes]]:
    """The non-blank lines of an NDJSON body with their 1-based line numbers."""
    return [(n, line) for n, line in enumerate(data.split(b"\n"), start=1) if line.strip()]


def apply_lines(
    indexer: StatusIndexer, lines: Iterable[tuple[int, bytes | str]], caller: Caller = ANONYMOUS
) -> list[LineOutcome]:
    """Parse and apply numbered event lines on behalf of ``caller``; one outcome per line, in order."""
    parsed: list[tuple[int, Event | str]] = []
    for number, line in lines:
        try:
            parsed.append((number, parse_event(line)))
        except EventParseError as exc:
            parsed.append((number, str(exc)))
    events = [item for _, item in parsed if isinstance(item, Event)]
    results = iter(indexer.apply(events, caller))
    return [
        LineOutcome(number, result=next(results))
        if isinstance(item, Event)
        else LineOutcome(number, parse_error=item)
        for number, item in parsed
    ]
