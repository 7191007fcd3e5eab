"""What happens inside a worker process for one cell: data, fit, sample, validate, metrics.

Everything here runs in the isolated worker; it returns a plain ``dict`` that the parent
stores. Exceptions never escape: they become status ``error`` with the traceback tail, and a
failing metric becomes NaN with a reason.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import os
import resource
import signal
import sys
import time
import traceback
from typing import Any

import numpy as np

from .contracts import Dataset, Sampler
from .grid import Cell
from .plugins import get_registry

STATUSES = ("ok", "error", "invalid", "timeout", "crashed", "skipped")
_TRACEBACK_LINES = 25


#: Resident memory of a worker when it starts (the forkserver's preloaded libraries), in MB.
_BASELINE_MB = 0.0


def _current_rss_mb() -> float:
    try:  # Linux: resident pages of this process
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def peak_memory_mb() -> float:
    """Peak resident memory this cell added, in MB: the process's peak minus its resident
    memory when the worker started, so the libraries preloaded for the whole run (numpy, and
    jax or POT when some component asks for them) do not count against one sampler."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    return max(0.0, peak_mb - _BASELINE_MB)


def empty_result(cell: Cell, status: str, message: str = "") -> dict[str, Any]:
    """A result row for ``cell`` with no measurements."""
    return {
        "status": status,
        "message": message,
        "traceback": "",
        "fit_s": None,
        "sample_s": None,
        "metric_s": None,
        "peak_mem_mb": None,
        "metrics": {name: None for name, _ in cell.metrics},
        "metric_notes": {},
    }


def build_components(cell: Cell, plugin_dirs: tuple[str, ...] = ()) -> tuple[Dataset, Sampler, list]:
    """Instantiate the cell's dataset, sampler and metrics from the registry."""
    registry = get_registry(plugin_dirs)
    dataset = registry.get("dataset", cell.dataset)(**cell.dataset_params)
    sampler = registry.get("sampler", cell.sampler)(**cell.sampler_params)
    metrics = [(name, registry.get("metric", name)(**params)) for name, params in cell.metrics]
    return dataset, sampler, metrics


def missing_capabilities(dataset: Dataset, sampler: Sampler) -> frozenset[str]:
    """What the sampler needs that the dataset does not offer (empty: the cell can run)."""
    return frozenset(sampler.required_capabilities()) - dataset.capabilities()


def skip_reason(cell: Cell, dataset: Dataset, sampler: Sampler) -> str | None:
    """Why the cell is ``skipped`` (a capability the sampler needs and the dataset lacks), or ``None``."""
    missing = missing_capabilities(dataset, sampler)
    return f"dataset {cell.dataset} lacks {', '.join(sorted(missing))}" if missing else None


def accepts_dataset(method: Any) -> bool:
    """Whether ``fit`` takes the ``dataset`` keyword (for exact scores and other capabilities)."""
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return "dataset" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _error(result: dict[str, Any], stage: str, exc: BaseException) -> dict[str, Any]:
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    lines = "".join(tb).splitlines()
    result["status"] = "error"
    result["message"] = f"{stage}: {type(exc).__name__}: {exc}".splitlines()[0][:500]
    result["traceback"] = "\n".join(lines[-_TRACEBACK_LINES:])
    return result


def validate_samples(samples: Any, n: int, d: int) -> tuple[np.ndarray | None, str]:
    """``(array, "")`` when ``samples`` is a finite real ``(n, d)`` array, else ``(None, why)``."""
    try:
        arr = np.asarray(samples)
    except Exception as exc:  # e.g. ragged lists
        return None, f"sample() returned something that is not an array: {exc}"
    if arr.shape != (n, d):
        return None, f"sample({n}) returned shape {arr.shape}, expected ({n}, {d})"
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        return None, f"sample() returned dtype {arr.dtype}, expected real numbers"
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = int(bad.any(axis=1).sum())
        return None, f"sample() returned {rows} of {n} points with NaN or inf"
    return arr, ""


def execute_cell(cell: Cell, plugin_dirs: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run one cell to completion in this process and return its result row (never raises)."""
    result = empty_result(cell, "ok")
    try:
        dataset, sampler, metrics = build_components(cell, plugin_dirs)
    except Exception as exc:
        return _error(result, "setup", exc)
    reason = skip_reason(cell, dataset, sampler)
    if reason:
        result.update(status="skipped", message=reason)
        return result

    train_ss, ref_ss = cell.data_seed().spawn(2)
    fit_ss, sample_ss, metric_ss = cell.sampler_seed().spawn(3)
    try:
        n_train = int(getattr(dataset, "n_train", 1000))
        X = np.asarray(dataset.sample(n_train, rng=np.random.default_rng(train_ss)), dtype=np.float64)
        reference = np.asarray(dataset.sample(cell.n_reference, rng=np.random.default_rng(ref_ss)), dtype=np.float64)
    except Exception as exc:
        return _error(result, "dataset", exc)

    stage = "fit"
    try:
        t0 = time.perf_counter()
        fit_kwargs: dict[str, Any] = {"rng": np.random.default_rng(fit_ss)}
        if accepts_dataset(sampler.fit):
            fit_kwargs["dataset"] = dataset
        sampler.fit(X.copy(), **fit_kwargs)
        result["fit_s"] = time.perf_counter() - t0
        stage = "sample"
        t0 = time.perf_counter()
        generated = sampler.sample(cell.n_samples, rng=np.random.default_rng(sample_ss))
        result["sample_s"] = time.perf_counter() - t0
    except Exception as exc:
        result["peak_mem_mb"] = peak_memory_mb()
        return _error(result, stage, exc)

    generated, why = validate_samples(generated, cell.n_samples, X.shape[1])
    if generated is None:
        result.update(status="invalid", message=why, peak_mem_mb=peak_memory_mb())
        return result

    t0 = time.perf_counter()
    for name, metric in metrics:
        rng = np.random.default_rng(metric_seed(metric_ss, name))
        value, note = compute_metric(metric, generated, reference, X, dataset, rng)
        result["metrics"][name] = value
        if note:
            result["metric_notes"][name] = note
    result["metric_s"] = time.perf_counter() - t0
    result["peak_mem_mb"] = peak_memory_mb()
    return result


def metric_seed(metric_ss: np.random.SeedSequence, name: str) -> np.random.SeedSequence:
    """The seed of metric ``name`` in a cell: a child of the cell's metric seed keyed by the
    metric's name, not its position, so adding or reordering metrics changes no other value."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    return np.random.SeedSequence(metric_ss.entropy, spawn_key=(*metric_ss.spawn_key, key))


def compute_metric(metric, generated, reference, train, dataset, rng) -> tuple[float | None, str]:
    """One metric value (``None`` for NaN) and, when it is NaN, the reason."""
    try:
        value = metric(generated, reference, train=train, dataset=dataset, rng=rng)
        reason = getattr(value, "reason", "")
        value = float(value)
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    if math.isnan(value):
        return None, reason or "metric returned NaN"
    return value, ""


# ----------------------------------------------------------------------------- worker process


def _set_parent_death_signal() -> None:
    """Linux: have the kernel SIGKILL this worker when the process that forked it dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except Exception:
        pass


def _watch_parent(parent_pid: int) -> None:
    """Exit at once if the run's main process goes away (no orphan keeps computing)."""
    import threading

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, daemon=True, name="genbench-parent-watch").start()


def isolate_worker() -> None:
    """Set up a freshly forked worker: its own process group (the parent kills it and everything
    it started at once), Ctrl-C left to the parent, and death with the process that forked it."""
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    if hasattr(signal, "pthread_sigmask"):  # whatever mask the forkserver had, signals reach us
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_parent_death_signal()


def worker_main(cell_dict: dict, plugin_dirs: tuple[str, ...], conn, parent_pid: int, threads: int) -> None:
    """Entry point of a worker process: run one cell and send its result through ``conn``."""
    global _BASELINE_MB
    isolate_worker()
    _BASELINE_MB = _current_rss_mb()
    try:  # the parent's --max-memory check counts growth above this, like peak_mem_mb
        conn.send(("baseline", _BASELINE_MB))
    except OSError:
        os._exit(1)
    _watch_parent(parent_pid)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # libraries the cell loads
        os.environ[var] = str(threads)
    cell = Cell.from_dict(cell_dict)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)  # in force until the worker exits (libraries already loaded)
    except Exception:
        pass
    result = execute_cell(cell, plugin_dirs)
    try:
        conn.send(result)
        conn.close()
    except OSError:  # the run is gone (interrupted): nobody to report to
        os._exit(1)
    if os.getpgid(0) == os.getpid():  # our own group (see isolate_worker): end what the cell started
        os.killpg(0, signal.SIGKILL)  # ... and this process with it
    # Exit now: a thread the plugin left running must not keep this process (and the run) alive.
    os._exit(0)
