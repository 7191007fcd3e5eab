"""The worker side of a cell: what an isolated process runs (:mod:`genbench.executors.base`) —
plain data in, plain data out. What a cell *is* (data, fit, sample, validate, metrics) lives in
:mod:`genbench.evaluation`; here it is only run, with the memory measured as growth above the
isolated process's start."""

from __future__ import annotations

from typing import Any

from ..evaluation import execute_cell
from ..results.schema import Cell
from .isolation import added_peak_mb

__all__ = ["run_cell_in_worker"]


def run_cell_in_worker(cell_dict: dict[str, Any], plugin_dirs: tuple[str, ...]) -> dict[str, Any]:
    """What an isolated worker runs for one cell: :func:`genbench.evaluation.execute_cell`."""
    return execute_cell(Cell.from_dict(cell_dict), plugin_dirs, peak_mb=added_peak_mb).to_dict()
