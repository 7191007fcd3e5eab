"""Progress of a run: a rich bar on a terminal, one line per finished cell otherwise."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..results.schema import CellResult


class Progress:
    """Counts finished cells and failures; shows done/total, failures and an ETA."""

    def __init__(self, total: int, *, enabled: bool = True, stream=None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.counts: dict[str, int] = {}
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.start = time.monotonic()
        self._bar = None
        if self.enabled and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._task = self._bar.add_task("cells", total=total, failed=0)
            self._bar.start()

    def update(self, cell_id: str, result: CellResult) -> None:
        self.done += 1
        status = result.status
        self.counts[status] = self.counts.get(status, 0) + 1
        if status not in ("ok", "skipped"):
            self.failed += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)
            if status not in ("ok", "skipped"):
                from rich.markup import escape  # cell ids and messages are the plugins' text, not markup

                self._bar.console.print(
                    f"[red]{status}[/red] {escape(cell_id)}: {escape(result.message)}", highlight=False, emoji=False
                )
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        extra = f" — {result.message}" if status != "ok" else ""
        wall = result.wall_s
        took = f" {wall:.2f}s" if wall is not None else ""
        print(
            f"[{self.done}/{self.total}] {status:<7} {cell_id}{took}{extra} (failed {self.failed}, ETA {eta:.0f}s)",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
