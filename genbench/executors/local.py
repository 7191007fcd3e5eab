"""Local executor: one fresh process per cell, ``jobs`` at a time, hard timeout, memory cap.

Workers are forked from a ``forkserver`` that has already imported numpy and genbench, so a
cell starts in milliseconds without inheriting threads from the parent (forking a process
where torch or jax started threads can deadlock). A cell that overruns its timeout or the
memory cap is killed with SIGKILL, together with any processes it started.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from ..grid import Cell
from ..plugins import PLUGIN_DIRS_ENV
from ..runner import empty_result, worker_main

PRELOAD_ENV = "GENBENCH_PRELOAD"

# Workers re-import the main module (the `genbench` script), so preload the CLI as well.
_PRELOAD = ["numpy", "genbench._preload", "genbench.cli"]

#: Seconds between two memory checks of a capped cell (each walks the worker's process tree).
_MEM_CHECK_S = 0.1


def _context() -> mp.context.BaseContext:
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return mp.get_context("spawn")


@dataclass
class _Running:
    cell: Cell
    proc: Any
    conn: Any
    started: float
    deadline: float
    cap: float | None = None
    next_mem_check: float = float("inf")
    #: Resident memory of the started worker (preloaded libraries), as the worker reports it.
    baseline_mb: float | None = None


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, so that they cannot fall between starting a
    worker and recording it (an unrecorded worker would not be killed). Python handlers that only
    note the signal stand in for the block (a thread mask would not do: the kernel may deliver the
    signal to a BLAS thread, and Python still raises in the main thread); the noted signal is
    delivered again afterwards. Outside the main thread, where handlers cannot be set, a no-op."""
    noted: list[int] = []
    held = [signal.SIGINT, signal.SIGTERM]
    try:
        previous = {sig: signal.signal(sig, lambda signum, frame: noted.append(signum)) for sig in held}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(noted):
            signal.raise_signal(sig)


def _kill_group(pid: int) -> None:
    """SIGKILL the process group of worker ``pid`` (the worker and what it started)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # no such group (nothing left), or not ours
        pass


def _kill_tree(pid: int) -> None:
    """SIGKILL worker ``pid`` and everything it started: its process group (workers make their
    own, see :func:`genbench.runner.worker_main`; this reaches children whose parent already
    died) and, for processes that left the group, its live descendants."""
    _kill_group(pid)
    try:
        import psutil

        proc = psutil.Process(pid)
        victims = [*proc.children(recursive=True), proc]
    except Exception:
        victims = []
    for p in victims:
        try:
            p.kill()
        except Exception:
            pass
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _rss_mb(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        return 0.0
    return total / 2**20


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "worker vanished"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker process died ({name}) before reporting a result"
    return f"worker process exited with status {code} before reporting a result"


class LocalExecutor:
    """Run cells in isolated local processes.

    Parameters
    ----------
    jobs:
        Cells run at once.
    plugin_dirs:
        Plugin directories the workers load (they rebuild the registry).
    max_memory_mb:
        Kill a cell whose resident memory (with its children) grows by more than this above
        the freshly forked worker's; ``None``: no cap.
    threads:
        BLAS/OpenMP threads per cell (default: cores // jobs, at least 1).
    preload:
        ``"module"`` / ``"module:function"`` specs the forkserver imports (or calls) once,
        when it starts, so that cells do not each pay for them.
    """

    def __init__(
        self,
        jobs: int = 1,
        plugin_dirs: tuple[str, ...] = (),
        max_memory_mb: float | None = None,
        threads: int | None = None,
        poll_interval: float = 0.02,
        preload: tuple[str, ...] = (),
    ) -> None:
        self.jobs = max(1, int(jobs))
        self.plugin_dirs = tuple(plugin_dirs)
        self.max_memory_mb = max_memory_mb
        self.threads = threads or max(1, (os.cpu_count() or 1) // self.jobs)
        self.poll_interval = poll_interval
        self.preload = tuple(preload)
        self._ctx = _context()

    def run(
        self,
        cells: Iterable[Cell],
        on_result: Callable[[Cell, dict[str, Any]], None],
    ) -> None:
        """Run every cell; call ``on_result(cell, result)`` in this process as each one finishes.

        On ``KeyboardInterrupt`` the running workers are killed (their cells are not recorded)
        and the exception propagates.
        """
        pending = deque(cells)
        running: dict[int, _Running] = {}
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    cell = pending.popleft()
                    with _signals_deferred(), self._forkserver_env():  # a (re)started forkserver reads it
                        running[id(cell)] = self._start(cell)
                handles = [h for r in running.values() for h in (r.conn, r.proc.sentinel)]
                due = min(min(r.deadline, r.next_mem_check) for r in running.values())
                wait(handles, timeout=min(max(due - time.monotonic(), 0.0), 0.5) + self.poll_interval)
                now = time.monotonic()
                for key, r in list(running.items()):
                    result = self._check(r, now)
                    if result is not None:
                        del running[key]
                        r.proc.join(timeout=0.5)
                        if r.proc.exitcode is None:  # reported, but lingers: do not wait for it
                            _kill_tree(r.proc.pid)
                        r.conn.close()
                        on_result(r.cell, result)
        finally:
            for r in running.values():
                _kill_tree(r.proc.pid)
                r.proc.join(timeout=1)

    @contextlib.contextmanager
    def _forkserver_env(self) -> Iterator[None]:
        """Set the variables the forkserver reads when it starts (``genbench._preload``: build the
        registry for these plugin dirs, import the run's slow modules), then restore the
        caller's environment. A forkserver lives as long as this process, so a later run with
        other preloads pays for them per cell; its plugin dirs still reach each worker."""
        keys = (PLUGIN_DIRS_ENV, PRELOAD_ENV)
        saved = {k: os.environ.get(k) for k in keys}
        os.environ[PLUGIN_DIRS_ENV] = os.pathsep.join(self.plugin_dirs)
        os.environ[PRELOAD_ENV] = ",".join(self.preload)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def _start(self, cell: Cell) -> _Running:
        parent_conn, child_conn = self._ctx.Pipe(duplex=False)
        maxmem = cell.max_memory_mb if self.max_memory_mb is None else self.max_memory_mb
        proc = self._ctx.Process(
            target=worker_main,
            args=(cell.to_dict(), self.plugin_dirs, child_conn, os.getpid(), self.threads),
            name=f"genbench:{cell.cell_id}"[:120],
            daemon=False,
        )
        proc.start()
        child_conn.close()
        now = time.monotonic()
        return _Running(cell, proc, parent_conn, now, now + cell.timeout, maxmem, now if maxmem else float("inf"))

    def _check(self, r: _Running, now: float) -> dict[str, Any] | None:
        """The result if the cell is over (finished, died, timed out, over memory), else ``None``."""
        alive = r.proc.is_alive()
        while r.conn.poll():  # messages, or end-of-file because the worker died
            try:
                msg = r.conn.recv()
            except (EOFError, OSError):
                r.proc.join(timeout=5)
                alive = False
                break
            if isinstance(msg, tuple):  # ("baseline", MB): the started worker's resident memory
                r.baseline_mb = float(msg[1])
                continue
            peak = msg.get("peak_mem_mb")
            if r.cap is not None and peak is not None and peak > r.cap:  # grew past it between two polls
                msg = empty_result(
                    r.cell,
                    "crashed",
                    f"the cell's peak resident memory {peak:.0f} MB exceeded the {r.cap:g} MB cap"
                    " (--max-memory; measured when it finished, between two memory checks)",
                )
                msg["peak_mem_mb"] = peak
            msg["wall_s"] = now - r.started
            return msg
        if not alive:
            r.proc.join(timeout=1)
            # Died before reporting: what it started is left in its process group.
            if r.proc.exitcode is None:
                _kill_tree(r.proc.pid)
            else:
                _kill_group(r.proc.pid)
            out = empty_result(r.cell, "crashed", _describe_exit(r.proc.exitcode))
            out["wall_s"] = now - r.started
            return out
        if now >= r.deadline:
            _kill_tree(r.proc.pid)
            out = empty_result(r.cell, "timeout", f"killed after the {r.cell.timeout:g} s timeout")
            out["wall_s"] = now - r.started
            return out
        if r.baseline_mb is not None and now >= r.next_mem_check:
            r.next_mem_check = now + _MEM_CHECK_S
            added = _rss_mb(r.proc.pid) - r.baseline_mb  # like peak_mem_mb, plus the cell's children
            if r.cap is not None and added > r.cap:
                _kill_tree(r.proc.pid)
                out = empty_result(
                    r.cell,
                    "crashed",
                    f"killed: the cell's resident memory grew by {added:.0f} MB and "
                    f"exceeded the {r.cap:g} MB cap (--max-memory)",
                )
                out["peak_mem_mb"] = added
                out["wall_s"] = now - r.started
                return out
        return None
