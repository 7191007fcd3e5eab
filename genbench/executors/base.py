"""The executor interface, and the cell-level glue every executor shares.

An executor turns cells into results: :meth:`Executor.run` takes the cells and yields
``(cell, CellResult)`` pairs **as they finish**, in the process that called it — the one that
writes the store (one writer). Every cell runs through :mod:`genbench.executors.isolation` (its
own process, hard timeout, memory cap, output capture), wherever the executor places it.

A new executor is one new module in ``genbench/executors/`` defining a subclass of
:class:`Executor` named in its module-level ``EXECUTOR``; ``genbench run --executor NAME``
finds it by the module's name. Use :func:`cell_process` / :func:`cell_result` to drive
isolated cells without blocking, or :func:`run_cell` for one cell at a time.
"""

from __future__ import annotations

import abc
import importlib
import os
import pkgutil
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from ..config import PLUGIN_DIRS_ENV, PRELOAD_ENV
from ..errors import GenbenchError, did_you_mean
from ..results.schema import Cell, CellResult
from .isolation import IsolatedProcess, Outcome, worker_environment

#: Modules of this package that are not executors (the isolation, the worker side of a cell, the
#: forkserver preload, the progress line).
_NOT_EXECUTORS = {"base", "isolation", "preload", "progress", "worker"}


class Executor(abc.ABC):
    """Runs cells in isolation and hands back their results as they finish.

    Parameters
    ----------
    jobs:
        Cells run at once.
    plugin_dirs:
        Plugin directories the workers load (they rebuild the registry).
    max_memory_mb:
        Kill a cell whose resident memory (with its children) grows by more than this above
        the freshly started worker's (overrides the cells' own cap); ``None``: the cells' cap.
    threads:
        BLAS/OpenMP threads per cell (default: cores // jobs, at least 1).
    device:
        ``auto``, ``cpu`` or ``cuda`` (see :func:`~genbench.executors.isolation.worker_environment`).
    preload:
        ``"module"`` / ``"module:function"`` specs a worker imports (or calls) once, before
        its first cell, so that cells do not each pay for them.
    """

    #: The name ``--executor`` selects it by (its module's name).
    name: ClassVar[str] = ""

    def __init__(
        self,
        *,
        jobs: int = 1,
        plugin_dirs: tuple[str, ...] = (),
        max_memory_mb: float | None = None,
        threads: int | None = None,
        device: str = "auto",
        preload: tuple[str, ...] = (),
    ) -> None:
        self.jobs = max(1, int(jobs))
        self.plugin_dirs = tuple(str(p) for p in plugin_dirs)
        self.max_memory_mb = max_memory_mb
        self.threads = threads or max(1, (os.cpu_count() or 1) // self.jobs)
        self.device = device
        self.preload = tuple(preload)

    @abc.abstractmethod
    def run(self, cells: Sequence[Cell]) -> Iterator[tuple[Cell, CellResult]]:
        """Run ``cells``; yield ``(cell, result)`` as each finishes, every cell exactly once.

        Closing the iterator early (or ``KeyboardInterrupt``) kills the running cells, which
        are then not yielded.
        """

    def environment(self) -> dict[str, str]:
        """What a worker process needs in its environment (see :func:`cell_process`)."""
        env = worker_environment(self.device, self.threads)
        env[PLUGIN_DIRS_ENV] = os.pathsep.join(self.plugin_dirs)
        env[PRELOAD_ENV] = ",".join(self.preload)
        return env


def cell_process(cell: Cell, executor: Executor) -> IsolatedProcess:
    """An (unstarted) isolated process that runs ``cell`` as ``executor`` configures it."""
    from .worker import run_cell_in_worker

    cap = cell.max_memory_mb if executor.max_memory_mb is None else executor.max_memory_mb
    return IsolatedProcess(
        run_cell_in_worker,
        (cell.to_dict(), executor.plugin_dirs),
        timeout=cell.timeout,
        max_memory_mb=cap,
        env=executor.environment(),
        name=f"genbench:{cell.cell_id}",
    )


def cell_result(cell: Cell, outcome: Outcome, cap: float | None = None) -> CellResult:
    """The result row of ``cell`` from how its isolated process ended."""
    if outcome.state == "returned":
        result = CellResult.from_dict(outcome.value)
        peak = result.peak_mem_mb
        if cap is not None and peak is not None and peak > cap:  # grew past it between two checks
            result = CellResult.empty(
                cell,
                "crashed",
                f"the cell's peak resident memory {peak:.0f} MB exceeded the {cap:g} MB cap"
                " (--max-memory; measured when it finished, between two memory checks)",
            )
            result.peak_mem_mb = peak
    else:
        states = {"timeout": "timeout", "memory": "crashed", "died": "crashed", "oom": "crashed", "raised": "error"}
        status = states[outcome.state]
        result = CellResult.empty(cell, status, outcome.message)
        result.peak_mem_mb = outcome.peak_mem_mb
    result.wall_s = outcome.wall_s
    result.log_tail, result.log_bytes = outcome.log_tail, outcome.log_bytes
    return result


def run_cell(cell: Cell, executor: Executor) -> CellResult:
    """Run one cell in its own isolated process and wait for it (for executors that place
    cells one at a time, e.g. on a Dask worker)."""
    proc = cell_process(cell, executor)
    return cell_result(cell, proc.start().wait(), proc.cap)


def available_executors() -> list[str]:
    """Names ``--executor`` accepts: the executor modules of this package."""
    here = os.path.dirname(__file__)
    return sorted(m.name for m in pkgutil.iter_modules([here]) if m.name not in _NOT_EXECUTORS)


def make_executor(name: str, **options: Any) -> Executor:
    """The executor ``name`` (a module of this package) with ``options``; one-line error if unknown."""
    names = available_executors()
    if name not in names:
        raise GenbenchError(f"unknown executor {name!r}{did_you_mean(name, names)}")
    try:
        module = importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:  # an executor whose optional stack is not installed
        raise GenbenchError(
            f"the {name} executor needs {exc.name}, which is not installed (pip install 'genbench[{name}]')"
        ) from None
    cls = getattr(module, "EXECUTOR", None)
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise GenbenchError(f"executor module {module.__name__} defines no EXECUTOR (an Executor subclass)")
    return cls(**options)
