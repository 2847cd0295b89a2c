"""Numbered lines cut into batches bounded in lines and bytes; too-long lines set aside unread."""

from __future__ import annotations

import io

import pytest

from flowstatus.cli.line_batches import Batch, Limits, TooLong, batches, cost, ndjson


def cut(data: bytes, limits: Limits) -> list[Batch]:
    return list(batches(io.BytesIO(data), limits))


def test_blank_lines_are_skipped_but_counted() -> None:
    (batch,) = cut(b'{"a":1}\n\n  \n{"b":2}', Limits(10))
    assert batch.lines == [(1, b'{"a":1}\n'), (4, b'{"b":2}')]
    assert ndjson(batch.lines) == b'{"a":1}\n{"b":2}\n'


def test_batches_hold_at_most_max_lines() -> None:
    data = b"".join(b"%d\n" % n for n in range(1, 8))
    sizes = [[number for number, _ in batch.lines] for batch in cut(data, Limits(3))]
    assert [n for size in sizes for n in size] == list(range(1, 8)) and all(len(size) <= 3 for size in sizes)


def test_batches_stay_within_max_bytes_and_a_line_that_fits_exactly_is_kept() -> None:
    line = b"x" * 99 + b"\n"  # 100 bytes in a body
    got = cut(line * 10 + b"y" * 299 + b"\n" + b"z" * 300, Limits(100, 300))
    assert [[n for n, _ in b.lines] for b in got] == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10], [11]]
    assert all(b.size == sum(cost(text) for _, text in b.lines) <= 300 for b in got)
    assert got[-1].too_long == [TooLong(12, 300)]  # 300 bytes and no newline: 301 in a body


def test_a_too_long_line_is_set_aside_by_number_and_size_and_the_rest_goes_on() -> None:
    data = b"a\n" + b"z" * 5000 + b"\n" + b"b\n"
    (batch,) = cut(data, Limits(10, 1024))
    assert batch.lines == [(1, b"a\n"), (3, b"b\n")] and batch.too_long == [TooLong(2, 5001)]


def test_without_a_byte_bound_no_line_is_too_long() -> None:
    (batch,) = cut(b"z" * 100_000 + b"\n", Limits(10))
    assert batch.lines == [(1, b"z" * 100_000 + b"\n")] and batch.too_long == []


def test_a_lowered_byte_bound_holds_for_the_next_batches() -> None:
    limits = Limits(100, 100)
    got = []
    for batch in batches(io.BytesIO((b"x" * 19 + b"\n") * 20), limits):
        got.append(batch)
        limits.max_bytes = 50
    assert len(got) > 2 and all(b.size <= 50 for b in got[1:])
    assert [n for b in got for n, _ in b.lines] == list(range(1, 21))


class Broken(io.RawIOBase):
    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self.sent:
            raise OSError("the pipe broke")
        self.sent = True
        buffer[:6] = b"first\n"
        return 6


def test_a_read_error_is_raised_after_what_was_read() -> None:
    stream = io.BufferedReader(Broken())  # type: ignore[type-var]
    got = batches(stream, Limits(10))
    assert next(got).lines == [(1, b"first\n")]
    with pytest.raises(OSError, match="the pipe broke"):
        next(got)
