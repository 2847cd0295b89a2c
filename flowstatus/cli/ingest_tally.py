"""What ``flowstatus ingest`` counts, and the summary it ends with (the same for OpenSearch and a server)."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from flowstatus.domain.outcomes import LineOutcome, Result
from flowstatus.schemas.bulk import item_status

SHOWN = 50  # rejected lines listed with their reason; the rest only by number
EXIT_REJECTED = 1  # some lines were rejected
EXIT_STOPPED = 3  # the store or server stayed unavailable: the ingest stopped before the end


class Stopped(Exception):
    """The ingest stopped before the end; every line before ``resume_line`` was applied (or rejected, as reported)."""

    def __init__(self, reason: str, resume_line: int) -> None:
        done = f"lines up to {resume_line - 1} were applied" if resume_line > 1 else "no line was applied"
        super().__init__(f"{reason}; {done}, re-run to continue (events already recorded are no-ops)")
        self.resume_line = resume_line


@dataclass
class Tally:
    """Running totals of an ingest."""

    lines: int = 0
    applied: int = 0
    noops: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def settle(self, line: int, *, noop: bool = False, rejected: str | None = None) -> None:
        """Count line ``line``: applied, already recorded (``noop``) or ``rejected`` for that reason."""
        self.lines += 1
        if rejected is not None:
            self.rejected.append((line, rejected or "rejected"))
        elif noop:
            self.noops += 1
        else:
            self.applied += 1

    def add(self, outcome: LineOutcome) -> None:
        """Count what the indexer made of one line."""
        result = outcome.result
        if result is None or not result.ok:
            reason = outcome.parse_error if result is None else f"{item_status(result)} {result.reason}"
            self.settle(outcome.line, rejected=reason or "")
        else:
            self.settle(outcome.line, noop=result.result is Result.NOOP)

    def report(self, elapsed: float) -> None:
        """The summary on stderr: counts, then each rejected line with its reason."""
        click.echo(f"{self.lines} events in {elapsed:.1f}s: {self.applied} applied, {self.noops} already recorded, "
                   f"{len(self.rejected)} rejected", err=True)
        if not self.rejected:
            return
        ordered = sorted(self.rejected)
        for line, reason in ordered[:SHOWN]:
            click.echo(f"  line {line}: {reason}", err=True)
        if len(ordered) > SHOWN:
            click.echo(f"  ... and {len(ordered) - SHOWN} more", err=True)
        click.echo("rejected lines: " + ", ".join(str(line) for line, _ in ordered), err=True)
