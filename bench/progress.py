"""Progress lines of a benchmark run, on stderr (stdout carries the report)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Progress lines on stderr: elapsed time since start, row i of n."""

    def __init__(self, total_rows: int) -> None:
        self.started = time.monotonic()
        self.total = total_rows
        self.done = 0

    def stamp(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        return f"[{elapsed // 60:02d}:{elapsed % 60:02d}]"

    def say(self, text: str) -> None:
        print(f"{self.stamp()} {text}", file=sys.stderr, flush=True)

    def row_label(self, text: str) -> str:
        """``row i/n text``, numbering rows in the order they are labelled."""
        self.done += 1
        return f"row {self.done}/{self.total} {text}"
