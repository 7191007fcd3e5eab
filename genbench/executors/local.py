"""Local executor: one isolated process per cell, ``jobs`` at a time, on this machine."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence

from ..results.schema import Cell, CellResult
from .base import Executor, cell_process, cell_result
from .isolation import IsolatedProcess, wait_any


class LocalExecutor(Executor):
    """Run cells in isolated local processes forked from a warm forkserver, ``jobs`` at once."""

    name = "local"

    def run(self, cells: Sequence[Cell]) -> Iterator[tuple[Cell, CellResult]]:
        pending = deque(cells)
        running: list[tuple[Cell, IsolatedProcess]] = []
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    cell = pending.popleft()
                    proc = cell_process(cell, self)
                    running.append((cell, proc))  # before it starts: an interruption still kills it
                    proc.start()
                wait_any([p for _, p in running])
                for item in list(running):
                    cell, proc = item
                    outcome = proc.poll()
                    if outcome is not None:
                        running.remove(item)
                        yield cell, cell_result(cell, outcome, proc.cap)
        finally:
            for _, proc in running:
                proc.kill()


EXECUTOR = LocalExecutor
