"""Numbered NDJSON lines from a file or a live stream, cut into batches.

A reader thread feeds lines into a queue so that a live stream (``tail -f``,
a pipe from a provisioning engine) is sent as soon as lines arrive, while a
file goes in full batches.  Batches are bounded in lines and, when writing to
a server, in bytes; a line that alone is over the byte bound is set aside as
:class:`TooLong`, never held in memory whole and never sent.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

Numbered = tuple[int, bytes]


@dataclass
class Limits:
    """How big a batch may be.  ``max_bytes`` (``None``: unbounded) may be lowered while batches are being cut."""

    max_lines: int
    max_bytes: int | None = None


@dataclass(frozen=True)
class TooLong:
    """A line over the byte bound: its number and size, not its content."""

    line: int
    size: int


@dataclass
class Batch:
    """Lines to send together, in input order, and the too-long lines met among them."""

    lines: list[Numbered] = field(default_factory=list)
    too_long: list[TooLong] = field(default_factory=list)
    size: int = 0


def cost(line: bytes) -> int:
    """Bytes ``line`` takes in an NDJSON body: its content plus one newline."""
    return len(line) + (0 if line.endswith(b"\n") else 1)


def ndjson(lines: list[Numbered]) -> bytes:
    """The request body for ``lines``: each newline-terminated, in order."""
    return b"".join(line if line.endswith(b"\n") else line + b"\n" for _, line in lines)


_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _read(stream: BinaryIO, max_bytes: int | None, on_bytes: Callable[[int], None],
          put: Callable[[object], None]) -> None:
    """Put every non-blank line (or its :class:`TooLong`) of ``stream``, then ``_END`` (or what failed)."""
    number = 0
    try:
        while line := stream.readline(max_bytes or -1):
            number += 1
            on_bytes(len(line))
            if max_bytes is not None and cost(line) > max_bytes:
                size = len(line)
                while not line.endswith(b"\n") and (line := stream.readline(max_bytes)):
                    size += len(line)
                    on_bytes(len(line))
                put(TooLong(number, size))
            elif line.strip():
                put((number, line))
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
        put(_Failed(exc))
        return
    put(_END)


def batches(stream: BinaryIO, limits: Limits, on_bytes: Callable[[int], None] = lambda n: None) -> Iterator[Batch]:
    """The non-blank lines of ``stream``, numbered from 1, in batches within ``limits``.

    A batch is cut early when no further line is ready, so a live stream is
    sent without waiting for a full batch.  Raises what reading ``stream``
    raised, after the batches read before it.
    """
    lines: queue.Queue[object] = queue.Queue(maxsize=limits.max_lines * 4)
    threading.Thread(target=_read, args=(stream, limits.max_bytes, on_bytes, lines.put),
                     daemon=True, name="ingest-reader").start()
    held: object = None
    while True:
        item = lines.get() if held is None else held
        held = None
        batch = Batch()
        while True:
            if item is _END or isinstance(item, _Failed):
                if batch.lines or batch.too_long:
                    yield batch
                if isinstance(item, _Failed):
                    raise item.error
                return
            if isinstance(item, TooLong):
                batch.too_long.append(item)
            else:
                number, line = cast(Numbered, item)
                if batch.lines and limits.max_bytes is not None and batch.size + cost(line) > limits.max_bytes:
                    held = item
                    break
                batch.lines.append((number, line))
                batch.size += cost(line)
                if len(batch.lines) >= limits.max_lines:
                    break
            try:
                item = lines.get_nowait()
            except queue.Empty:
                break
        yield batch
