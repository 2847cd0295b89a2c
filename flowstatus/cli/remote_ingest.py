"""``flowstatus ingest --url``: batches of events to a flowstatus server's ``POST /_flowstatus/_bulk``.

Every event is idempotent, so whatever may not have been applied is simply
sent again: a batch that met no connection or a 408/429/502/503/504, and the
lines the server answered 503 for (OpenSearch could not take them).  Waits
honour the server's ``Retry-After`` with jittered exponential backoff, for a
bounded number of attempts.  Batches go one at a time, so events of one
workflow are applied in input order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flowstatus.cli.http_client import ClientError, ServerClient, Unavailable
from flowstatus.cli.ingest_tally import Stopped, Tally
from flowstatus.cli.line_batches import Batch, Limits, Numbered, cost, ndjson
from flowstatus.cli.retries import backoff

BULK_PATH = "/_flowstatus/_bulk"
NDJSON = {"Content-Type": "application/x-ndjson"}
TIMEOUT = 120.0  # seconds for one batch; a timed-out batch is sent again


def _item_reason(kind: str, item: dict[str, Any]) -> str:
    error = item.get("error")
    reason = (error.get("reason") if isinstance(error, dict) else None) or "rejected"
    # An unparsable line reads as it does without --url: the parser's reason alone.
    return str(reason) if kind == "invalid" else f"{item.get('status')} {reason}"


@dataclass
class BulkSender:
    """Sends batches to the bulk endpoint and settles each line in ``tally``, by its line number.

    The answer's items come in the order of the lines sent, so each batch keeps
    its own line numbers to map them back.  ``attempts`` bounds the tries of
    each batch; then :class:`~flowstatus.cli.ingest_tally.Stopped` is raised.  401/403 raise
    :class:`~flowstatus.cli.http_client.AccessDenied`; any other unexpected
    answer :class:`~flowstatus.cli.http_client.ClientError`.
    """

    client: ServerClient
    tally: Tally
    limits: Limits
    attempts: int
    note: Callable[[str], None]
    sleep: Callable[[float], None] = time.sleep
    max_line: int | None = field(init=False)  # what the reader held lines against (a 413 lowers later batches')
    _told_too_large: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.max_line = self.limits.max_bytes

    def send(self, batch: Batch) -> None:
        for line in batch.too_long:
            self.tally.settle(line.line, rejected=f"413 line of {line.size} bytes is over --max-bytes "
                                                  f"({self.max_line}); not sent")
        if batch.lines:
            self._send(batch.lines)

    def _send(self, lines: list[Numbered]) -> None:
        attempt = 0
        while lines:
            try:
                answer = self.client.call("POST", BULK_PATH, body=ndjson(lines), headers=NDJSON, timeout=TIMEOUT)
            except Unavailable as exc:
                problem, retry_after = str(exc), exc.retry_after
            else:
                if answer.status == 413:
                    self._split(lines)
                    return
                if answer.status != 200:
                    raise ClientError(f"the server answered {answer.status} to a batch of lines "
                                      f"{lines[0][0]}-{lines[-1][0]}: {answer.reason()}")
                lines, problem = self._settle(lines, answer.json())
                retry_after = None
                if not lines:
                    return
            if attempt + 1 >= self.attempts:
                raise Stopped(f"gave up after {self.attempts} attempts: {problem}", lines[0][0])
            delay = backoff(attempt, retry_after)
            self.note(f"{problem}; sending lines {lines[0][0]}-{lines[-1][0]} again in {delay:.1f}s "
                      f"(attempt {attempt + 2} of {self.attempts})")
            self.sleep(delay)
            attempt += 1

    def _settle(self, lines: list[Numbered], body: Any) -> tuple[list[Numbered], str]:
        """Settle each line by its item; return the lines to send again (answered 503), and why."""
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) != len(lines):
            raise ClientError(f"the server answered {len(items) if isinstance(items, list) else 'no'} items "
                              f"for the {len(lines)} lines {lines[0][0]}-{lines[-1][0]}")
        again: list[Numbered] = []
        why = ""
        for (number, line), item in zip(lines, items):
            if not (isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())), dict)):
                raise ClientError(f"the server answered an item that is not a bulk result for line {number}: "
                                  f"{str(item)[:200]}")
            ((kind, result),) = item.items()
            status = result.get("status")
            if status == 503:
                again.append((number, line))
                why = _item_reason(kind, result)
            elif isinstance(status, int) and 200 <= status < 300:
                self.tally.settle(number, noop=result.get("result") == "noop")
            else:
                self.tally.settle(number, rejected=_item_reason(kind, result))
        return again, f"{len(again)} lines answered {why}"

    def _split(self, lines: list[Numbered]) -> None:
        """413: the server takes smaller bodies than ``--max-bytes``; send halves, and smaller batches from now on."""
        size = sum(cost(line) for _, line in lines)
        if len(lines) == 1:
            number, _ = lines[0]
            self.tally.settle(number, rejected=f"413 line of {size} bytes is larger than the server accepts "
                                               "(its FLOWSTATUS_MAX_BULK_BYTES); not applied")
            return
        if not self._told_too_large:
            self.note(f"the server refused {size} bytes as too large (413); sending smaller batches "
                      "(set --max-bytes below its FLOWSTATUS_MAX_BULK_BYTES)")
            self._told_too_large = True
        self.limits.max_bytes = max(1, size // 2)
        half = len(lines) // 2
        self._send(lines[:half])
        self._send(lines[half:])
