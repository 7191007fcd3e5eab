"""Dask executor: cells as tasks on a ``dask.distributed`` cluster, with the local guarantees.

``genbench run --executor dask`` starts a :class:`distributed.LocalCluster` of ``-j`` single-
threaded workers; ``--scheduler tcp://HOST:PORT`` (or ``$GENBENCH_DASK_SCHEDULER``) uses a running
cluster instead — a workstation, Kubernetes, or Slurm/PBS through dask-jobqueue. Each cell is one
task; on its worker the task runs the cell through :mod:`genbench.executors.isolation` (its own
process, hard timeout, memory cap, output capture), so a hung or crashing sampler never takes a
worker down. Results stream back as tasks finish and the caller writes them to the store (one
writer), so resume, progress and Ctrl-C behave as they do locally.

- A worker that dies mid-cell: the scheduler reschedules the task on another worker; when it has
  killed ``allowed-failures`` workers (we set 1 for the clusters we start: one retry) the cell is
  stored as ``crashed`` with the reason, and the run goes on.
- A lost scheduler connection, or a cluster left with no worker for ``$GENBENCH_DASK_NO_WORKERS``
  seconds (300), ends the run with one line (:class:`~genbench.errors.ClusterLostError`, exit
  status 69); every finished cell is already stored, and the same command resumes.
- ``--plugin-dir`` files are sent to every worker (a worker plugin writes them into the worker's
  local directory), so single-file plugins need no shared file system. A worker that cannot
  import a component gives one error naming the worker and the component.
- Ctrl-C cancels the queued tasks and stops the running cells (each task watches its own state
  on its worker).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dask.config
import distributed
from distributed.worker import thread_state

from ..config import DASK_NO_WORKERS_ENV, DASK_SCHEDULER_ENV, dask_no_workers_s
from ..errors import ClusterLostError, GenbenchError
from ..results.schema import Cell, CellResult
from .base import Executor, cell_process, cell_result
from .isolation import wait_any
from .local import LocalExecutor

SCHEDULER_ENV = DASK_SCHEDULER_ENV
#: Seconds between two looks of a running task at its own state (cancelled: stop the cell).
_STOP_CHECK_S = 0.5
#: Seconds between two looks at the cluster's workers while no task finishes.
_WORKER_CHECK_S = 2.0
#: One registry check at a time on a worker (plugin files are imported then; threads share modules).
_REGISTRY_LOCK = threading.Lock()


class _PluginFiles(distributed.WorkerPlugin):
    """Copies the run's ``--plugin-dir`` files into each worker's local directory, under a digest
    of their content: runs with other versions of the files never share a folder."""

    def __init__(self, plugin_dirs: Sequence[str]) -> None:
        self.files = {d: {p.name: p.read_bytes() for p in sorted(Path(d).glob("*.py"))} for d in plugin_dirs}
        digest = hashlib.sha256()
        for d, files in sorted(self.files.items()):
            for name, data in files.items():
                digest.update(f"{d}/{name}".encode() + data)
        self.digest = digest.hexdigest()[:12]

    def setup(self, worker: distributed.Worker) -> None:
        for d, files in self.files.items():
            local = Path(_local_dir(worker, self.digest, d))
            local.mkdir(parents=True, exist_ok=True)
            for name, data in files.items():
                (local / name).write_bytes(data)


def _local_dir(worker: distributed.Worker, digest: str, plugin_dir: str) -> str:
    """Where a worker keeps its copy of ``plugin_dir`` for the files of digest ``digest``."""
    name = hashlib.sha256(plugin_dir.encode()).hexdigest()[:8]
    return str(Path(worker.local_directory) / "genbench-plugins" / digest / name)


def _run_cell_task(cell_dict: dict[str, Any], options: dict[str, Any]) -> dict[str, Any] | None:
    """What a worker runs for one cell: the cell in an isolated child process; ``None`` if the
    task was cancelled meanwhile (the run stopped)."""
    worker = distributed.get_worker()
    key = thread_state.key
    # Nanny-started workers are daemonic, and a daemonic process may not start children. Ours are
    # as tied to the worker as a daemon's would be: their own process group, killed by the kernel
    # when the worker dies (PR_SET_PDEATHSIG), and a watcher thread.
    if multiprocessing.current_process().daemon:
        multiprocessing.current_process().daemon = False
    digest = options["plugin_digest"]
    dirs = tuple(_local_dir(worker, digest, d) if digest else d for d in options["plugin_dirs"])
    cell = Cell.from_dict(cell_dict)
    with _REGISTRY_LOCK:
        missing, preload = _check_components(cell, dirs)
    if missing:
        result = CellResult.empty(cell, "error", f"on Dask worker {worker.address}: {missing}")
        return result.to_dict()
    local = LocalExecutor(
        jobs=1,
        plugin_dirs=dirs,
        max_memory_mb=options["max_memory_mb"],
        threads=options["threads"] or _threads_per_cell(worker),
        device=options["device"],
        preload=preload,
    )
    proc = cell_process(cell, local).start()
    next_check = time.monotonic() + _STOP_CHECK_S
    try:
        while True:
            wait_any([proc])
            outcome = proc.poll()
            if outcome is not None:
                return cell_result(cell, outcome, proc.cap).to_dict()
            if time.monotonic() >= next_check:  # the worker's own view of the task: no network call
                next_check = time.monotonic() + _STOP_CHECK_S
                task = worker.state.tasks.get(key)
                if task is None or task.state not in ("executing", "long-running"):
                    return None
    finally:
        proc.kill()


_HOST_THREADS: dict[str, int] = {}


def _threads_per_cell(worker: distributed.Worker) -> int:
    """BLAS threads for one cell: this host's usable cores over the task threads of every worker on it
    (asked of the scheduler once per worker process). Counting only this worker's threads
    oversubscribed the cores: 2 workers × 2 BLAS threads on 2 cores ran the quick manifolds
    suite 3.7× slower than the local executor."""
    if worker.address not in _HOST_THREADS:
        host = distributed.comm.get_address_host(worker.address)
        try:
            workers = distributed.get_client().scheduler_info(n_workers=-1)["workers"].values()
            total = sum(w["nthreads"] for w in workers if w.get("host") == host)
        except Exception:  # the scheduler cannot tell: this worker's own threads
            total = 0
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        _HOST_THREADS[worker.address] = max(1, cores // max(1, total, worker.state.nthreads))
    return _HOST_THREADS[worker.address]


def _check_components(cell: Cell, plugin_dirs: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Why this worker cannot build the cell's components ("" when it can), and what the worker's
    forkserver should preload: every registered component's ``preload``, not just this run's — a
    worker's forkserver lives across runs, and a module it lacks is imported again in every cell
    (POT: 2 s a cell on a worker that had served a run without it)."""
    from ..plugins import get_registry

    try:
        registry = get_registry(plugin_dirs)
        registry.get("dataset", cell.dataset)
        registry.get("sampler", cell.sampler)
        for name, _ in cell.metrics:
            registry.get("metric", name)
    except GenbenchError as exc:
        return f"{exc} (install the plugin on the workers, or pass its file with --plugin-dir)", ()
    specs = {spec for kind in ("sampler", "dataset", "metric") for e in registry.components[kind].values()
             for spec in e.obj.preload}  # fmt: skip
    return "", tuple(sorted(specs))


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start the local cluster's worker processes with Ctrl-C ignored (an ignored signal stays
    ignored across exec): Ctrl-C reaches the whole process group, and the run — not each worker,
    with a traceback of its own — decides what stops. A Ctrl-C while they start is dropped."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to do
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _quiet_distributed() -> Iterator[None]:
    """distributed logs a lost connection as tracebacks; the run reports it in one line itself."""
    names = [n for n in logging.root.manager.loggerDict if n == "distributed" or n.startswith("distributed.")]
    loggers = [logging.getLogger(n) for n in ["distributed", *names]]  # each may carry its own level
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


class DaskExecutor(Executor):
    """Run cells as tasks on a Dask cluster: a local one of ``jobs`` workers × 1 thread, or the
    running cluster at ``scheduler`` (default ``$GENBENCH_DASK_SCHEDULER``)."""

    name = "dask"

    def __init__(self, *, scheduler: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
        self._explicit_threads = options.get("threads")

    @contextlib.contextmanager
    def client(self) -> Iterator[distributed.Client]:
        """A client of the configured cluster (started here, and closed after, when local)."""
        if self.scheduler:
            try:
                client = distributed.Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise GenbenchError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
            with client:
                yield client
            return
        config = {"distributed.scheduler.allowed-failures": 1, "distributed.worker.daemon": False}
        with dask.config.set(config), _workers_ignore_ctrl_c():
            cluster = distributed.LocalCluster(
                n_workers=self.jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.CRITICAL,  # the run reports what matters; shutdown noise is not
            )
        with cluster, distributed.Client(cluster) as client:
            yield client

    def _options(self) -> dict[str, Any]:
        return {
            "plugin_dirs": self.plugin_dirs,
            "max_memory_mb": self.max_memory_mb,
            # The cluster we start has `jobs` workers here: cores // jobs, as the local executor.
            "threads": self._explicit_threads or (None if self.scheduler else self.threads),
            "device": self.device,
            "plugin_digest": "",
        }

    def run(self, cells: Sequence[Cell]) -> Iterator[tuple[Cell, CellResult]]:
        if not cells:
            return
        with _quiet_distributed(), self.client() as client:
            options = self._options()
            if self.plugin_dirs:
                files = _PluginFiles(self.plugin_dirs)
                client.register_plugin(files, name=f"genbench-plugins-{files.digest}")
                options["plugin_digest"] = files.digest
            run = uuid.uuid4().hex[:12]
            pending: dict[str, tuple[Cell, distributed.Future]] = {}
            done = 0
            try:
                for i, cell in enumerate(cells):
                    key = f"genbench-{run}-{i}"
                    pending[key] = (cell, client.submit(_run_cell_task, cell.to_dict(), options, key=key, pure=False))
                finished = distributed.as_completed([f for _, f in pending.values()])
                watch = _ClusterWatch(client, self.scheduler or "the local cluster")
                while not finished.is_empty():
                    batch = finished.next_batch(block=False)
                    if not batch:
                        watch.check(done)
                        time.sleep(0.05)
                        continue
                    for future in batch:
                        cell, _ = pending.pop(future.key)
                        result = self._result(client, cell, future, done)
                        future.release()  # stored by the caller: not kept (or recomputed) on the workers
                        done += 1
                        yield cell, result
            finally:
                if pending:  # interrupted: nothing queued starts, and running cells see their task cancelled
                    with contextlib.suppress(Exception):
                        client.cancel([f for _, f in pending.values()])

    def _result(self, client: distributed.Client, cell: Cell, future: distributed.Future, done: int) -> CellResult:
        try:
            value = future.result()
        except distributed.KilledWorker as exc:
            return CellResult.empty(cell, "crashed", f"the Dask workers running it died ({exc})"[:500])
        except Exception as exc:
            if client.status != "running" or future.status == "cancelled":
                raise _lost_scheduler(self.scheduler or "the local cluster") from None
            return CellResult.empty(cell, "error", f"dask task: {type(exc).__name__}: {exc}".splitlines()[0][:500])
        if value is None:  # the task saw itself cancelled: cannot happen while we still collect
            return CellResult.empty(cell, "crashed", "the run stopped this cell")
        return CellResult.from_dict(value)


def _lost_scheduler(where: str) -> ClusterLostError:
    return ClusterLostError(f"lost the connection to the Dask scheduler ({where})")


class _ClusterWatch:
    """Ends a run whose cluster went away while it waits for results: a client that lost its
    scheduler (and gave up reconnecting), or no worker for :func:`~genbench.config.dask_no_workers_s`
    seconds in a row (every worker died, or was never started) — rather than waiting forever."""

    def __init__(self, client: distributed.Client, where: str) -> None:
        self.client, self.where = client, where
        self.grace = dask_no_workers_s()
        self.next_check = time.monotonic() + _WORKER_CHECK_S
        self.empty_since: float | None = None

    def check(self, done: int) -> None:
        now = time.monotonic()
        if now < self.next_check:
            return
        self.next_check = now + _WORKER_CHECK_S
        if self.client.status in ("closing", "closed", "failed"):
            raise _lost_scheduler(self.where)
        if self.client.status != "running":  # reconnecting: the client gives up on its own timeout
            return
        try:
            workers = len(self.client.nthreads())
        except Exception:  # the scheduler did not answer: the client's status says on the next look
            return
        if workers:
            self.empty_since = None
            return
        self.empty_since = self.empty_since or now
        if now - self.empty_since >= self.grace:
            raise ClusterLostError(
                f"no Dask worker on {self.where} for {self.grace:g} s ({DASK_NO_WORKERS_ENV}): the workers "
                f"died or were stopped after {done} cells of this run finished"
            )


EXECUTOR = DaskExecutor
