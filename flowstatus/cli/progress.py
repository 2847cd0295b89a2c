"""Progress display for long CLI work: a live bar on a terminal, nothing when piped."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import TaskID


@contextlib.contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws on stderr only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn()]
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


@contextlib.contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """Yield ``report(stage, done, total)`` for work in named stages counted in documents.

    On a terminal each stage gets a live bar on stderr; piped, a line on stderr
    when a stage starts and when it ends.
    """
    if not sys.stderr.isatty():
        ended: set[str] = set()

        def line(stage: str, done: int, total: int | None) -> None:
            if done == 0:
                print(f"{stage}: {total if total is not None else '?'} documents", file=sys.stderr, flush=True)
            elif done == total and stage not in ended:
                ended.add(stage)
                print(f"{stage}: {done} of {total} documents done", file=sys.stderr, flush=True)

        yield line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bars:
        tasks: dict[str, TaskID] = {}

        def bar(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield bar
