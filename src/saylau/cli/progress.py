"""Progress bars for long phases: one bar per task, with throughput and time left."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["PhaseBars", "RateColumn", "phase_bars"]


class RateColumn(ProgressColumn):
    """Items per second of the task (rich's own speed estimate)."""

    def render(self, task: Any) -> Text:
        """``1,234/s``, or nothing before the first estimate."""
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


class PhaseBars:
    """A ``ProgressHook`` (task, advance, total) drawing one bar per task; silent without a progress."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, task: str, advance: int, total: int | None = None) -> None:
        if self.progress is None:
            return
        if task not in self.tasks:
            self.tasks[task] = self.progress.add_task(task, total=total)
        elif total is not None:
            self.progress.update(self.tasks[task], total=total)
        if advance:
            self.progress.advance(self.tasks[task], advance)


@contextmanager
def phase_bars(console: Console, quiet: bool = False) -> Iterator[PhaseBars]:
    """Bars on ``console`` (none when ``quiet``) for the duration of the block."""
    if quiet:
        yield PhaseBars(None)
        return
    progress = Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with progress:
        yield PhaseBars(progress)
