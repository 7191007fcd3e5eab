"""One cell, evaluated in this process: data, fit, sample, validate, metrics, diagnostics.

The executors run :func:`execute_cell` in an isolated worker process
(:mod:`genbench.executors.worker`); the conformance checks, the data floor and the asv benchmarks
use its parts directly. Exceptions never escape: they become status ``error`` with the
traceback tail, and a failing metric becomes NaN with a reason.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from ..contracts import Dataset, Sampler
from ..plugins import get_registry, unavailable_reason
from ..results.schema import STATUSES, Cell, CellResult
from ..results.thumbnail import encode_thumbnail

__all__ = [
    "DIAGNOSTIC_BYTES",
    "DIAGNOSTIC_POINTS",
    "STATUSES",
    "accepts_dataset",
    "build_components",
    "collect_diagnostics",
    "compute_metric",
    "execute_cell",
    "metric_seed",
    "peak_rss_mb",
    "skip_reason",
    "validate_samples",
]
_TRACEBACK_LINES = 25
#: Size caps of a row's ``diagnostics``: points per list (curves are thinned evenly, first and last
#: kept) and bytes of the whole JSON.
DIAGNOSTIC_POINTS = 200
DIAGNOSTIC_BYTES = 32 * 1024


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (what :func:`execute_cell` records when
    no other measure is given; an isolated worker passes the growth above its start instead)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


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
    """Why the cell is ``skipped`` — the sampler or dataset needs a package that is not installed,
    or a capability the dataset lacks — or ``None``."""
    missing = unavailable_reason(type(sampler)) or unavailable_reason(type(dataset))
    if missing:
        return missing
    lacking = missing_capabilities(dataset, sampler)
    return f"dataset {cell.dataset} lacks {', '.join(sorted(lacking))}" if lacking else None


def accepts_dataset(method: Any) -> bool:
    """Whether ``fit`` takes the ``dataset`` keyword (for exact scores and other capabilities)."""
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return "dataset" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _error(result: CellResult, stage: str, exc: BaseException) -> CellResult:
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    lines = "".join(tb).splitlines()
    result.status = "error"
    result.message = f"{stage}: {type(exc).__name__}: {exc}".splitlines()[0][:500]
    result.traceback = "\n".join(lines[-_TRACEBACK_LINES:])
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


def execute_cell(
    cell: Cell, plugin_dirs: tuple[str, ...] = (), *, peak_mb: Callable[[], float] = peak_rss_mb
) -> CellResult:
    """Run one cell to completion in this process and return its result row (never raises):
    build, draw the data, fit and generate, validate, score. ``peak_mb`` measures the memory the
    row records."""
    result = CellResult.empty(cell, "ok")
    try:
        dataset, sampler, metrics = build_components(cell, plugin_dirs)
    except Exception as exc:
        return _error(result, "setup", exc)
    reason = skip_reason(cell, dataset, sampler)
    if reason:
        result.status, result.message = "skipped", reason
        return result
    train_ss, ref_ss = cell.data_seed().spawn(2)
    fit_ss, sample_ss, metric_ss = cell.sampler_seed().spawn(3)
    try:
        X, reference = _draw_data(cell, dataset, train_ss, ref_ss)
    except Exception as exc:
        return _error(result, "dataset", exc)
    generated = _fit_and_generate(cell, dataset, sampler, X, fit_ss, sample_ss, result, peak_mb)
    if result.status != "ok":
        return result
    generated, why = validate_samples(generated, cell.n_samples, X.shape[1])
    if generated is None:
        result.status, result.message, result.peak_mem_mb = "invalid", why, peak_mb()
        return result
    _score(metrics, generated, reference, X, dataset, metric_ss, result)
    try:
        result.thumbnail = encode_thumbnail(generated, X)
    except Exception as exc:  # a picture never costs a result
        result.thumbnail = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    result.peak_mem_mb = peak_mb()
    return result


def _draw_data(cell: Cell, dataset: Dataset, train_ss, ref_ss) -> tuple[np.ndarray, np.ndarray]:
    """The training set (``n_train`` points) and the fresh reference points the metrics use."""
    n_train = int(getattr(dataset, "n_train", 1000))
    X = np.asarray(dataset.sample_train(n_train, rng=np.random.default_rng(train_ss)), dtype=np.float64)
    reference = np.asarray(dataset.sample(cell.n_reference, rng=np.random.default_rng(ref_ss)), dtype=np.float64)
    return X, reference


def _fit_and_generate(
    cell: Cell, dataset: Dataset, sampler: Sampler, X, fit_ss, sample_ss, result: CellResult, peak_mb
):
    """Fit on a copy of ``X``, then generate the cell's points (the dataset's task: plain sampling
    unless it says otherwise), timing both; a failure becomes an ``error`` row in ``result``."""
    stage = "fit"
    try:
        t0 = time.perf_counter()
        fit_kwargs: dict[str, Any] = {"rng": np.random.default_rng(fit_ss)}
        if accepts_dataset(sampler.fit):
            fit_kwargs["dataset"] = dataset
        sampler.fit(X.copy(), **fit_kwargs)
        result.fit_s = time.perf_counter() - t0
        stage = "sample"
        t0 = time.perf_counter()
        generate = getattr(dataset, "generate", None)
        sample_rng = np.random.default_rng(sample_ss)
        if generate is None:
            generated = sampler.sample(cell.n_samples, rng=sample_rng)
        else:
            generated = generate(sampler, cell.n_samples, rng=sample_rng)
        result.sample_s = time.perf_counter() - t0
    except Exception as exc:
        result.peak_mem_mb = peak_mb()
        _record_device(result, sampler)
        _error(result, stage, exc)
        return None
    _record_device(result, sampler)
    return generated


def _score(metrics: list, generated, reference, X, dataset: Dataset, metric_ss, result: CellResult) -> None:
    """Every metric's value (NaN with its reason where it does not apply), each with its own seed."""
    t0 = time.perf_counter()
    for name, metric in metrics:
        rng = np.random.default_rng(metric_seed(metric_ss, name))
        value, note = compute_metric(metric, generated, reference, X, dataset, rng)
        result.metrics[name] = value
        if note:
            result.metric_notes[name] = note
    result.metric_s = time.perf_counter() - t0


def _record_device(result: CellResult, sampler: Sampler) -> None:
    """The device and backend the sampler reports (``device_`` / ``backend_`` after fitting, as
    :class:`genbench.Sampler` documents; a sampler that says nothing ran on the CPU), and its
    ``diagnostics_`` (see :func:`collect_diagnostics`)."""
    result.device = str(getattr(sampler, "device_", "") or "cpu")
    result.backend = str(getattr(sampler, "backend_", "") or "")
    try:
        result.diagnostics = collect_diagnostics(getattr(sampler, "diagnostics_", None))
    except Exception as exc:  # a plugin's odd object must not cost the cell its row
        result.diagnostics = {"error": f"diagnostics_ could not be stored: {type(exc).__name__}: {exc}"[:300]}
    if result.diagnostics.get("stopped") == "wall_clock" and not result.message:
        done, budget = result.diagnostics.get("steps"), result.diagnostics.get("budget_steps")
        result.message = f"training stopped at its wall-clock cap after {done} of {budget} steps"


def _json_safe(value: Any, depth: int = 0) -> Any:
    """Plain JSON data from what a plugin reported: numpy scalars and arrays become numbers and
    lists, non-finite floats ``None``, anything else its ``str``; long lists are thinned."""
    if depth > 6:
        return str(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = list(value)
        if len(items) > DIAGNOSTIC_POINTS:
            keep = np.unique(np.linspace(0, len(items) - 1, DIAGNOSTIC_POINTS).round().astype(int))
            items = [items[i] for i in keep]
        return [_json_safe(v, depth + 1) for v in items]
    return str(value)


def collect_diagnostics(diagnostics: Any) -> dict[str, Any]:
    """What a row stores of a sampler's ``diagnostics_``: a dict of JSON data, lists thinned to
    :data:`DIAGNOSTIC_POINTS` entries, at most :data:`DIAGNOSTIC_BYTES` (beyond that only the scalar
    entries are kept, with ``"truncated": true``). Anything that is not a dict gives ``{}``."""
    if not isinstance(diagnostics, dict):
        return {}
    out = _json_safe(diagnostics)
    if len(json.dumps(out)) > DIAGNOSTIC_BYTES:
        out = {k: v for k, v in out.items() if not isinstance(v, (list, dict))}
        out = {k: (v[:200] if isinstance(v, str) else v) for k, v in out.items()}
        out["truncated"] = True
    return out


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
