"""The data's own noise floor: each metric between two independent draws from the dataset.

A metric compares finitely many generated points with finitely many reference points, so even a
perfect sampler — one that draws from the data's law itself — scores above the metric's ideal
value (or, for an unbiased estimate such as ``energy``, around it, sometimes below). The floor of
a dataset configuration is that perfect sampler's score, measured: per repetition r < 3, a fresh
training set, ``n_samples`` fresh "generated" points and ``n_reference`` fresh reference points, all
from ``dataset.sample`` / ``sample_train`` with seeds derived from (suite seed, dataset id, r), each
metric computed exactly as a cell computes it; the floor is the mean over the draws, shown with
their standard deviation. A sampler at the floor is indistinguishable from data at this sample
size; no sampler can be told apart from it by less than the floor's own spread.

Configurations whose draws exceed :data:`MAX_POINTS` points get no floor. Metric parameters come
from the store's record of the suite's last run, else from the suite's definition (by its stored
name); a board with neither has no floor. Values are cached in
``<cache>/floors`` keyed by everything they depend on (dataset configuration, sizes, metric and
parameters, seed, genbench's code version).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..config import cache_dir
from ..fileio import atomic_write_text, warn_once
from .frame import Board, stored_suite

#: Draws the floor averages over.
DRAWS = 3
#: Above this many points per draw (generated + reference) no floor is computed: the leaderboard
#: stays quick to render (path datasets simulate a model per point).
MAX_POINTS = 20_000
#: Shown in the rank column of a floor row.
FLOOR = "data floor"
#: The sentence every renderer uses to explain the floor row.
FLOOR_NOTE = (
    f"`{FLOOR}`: the metric between two independent draws from the dataset at the cells' sizes (a sampler that "
    f"draws from the data itself; mean of {DRAWS} draws). A sampler at or below the floor is indistinguishable "
    "from fresh data at this sample size; the floor is not ranked."
)


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def _sd(xs: list[float]) -> float:
    m = _mean(xs)
    return (sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5 if len(xs) > 1 else float("nan")


def _compute(row: dict[str, Any], metrics: list[tuple[str, dict[str, Any]]], plugin_dirs) -> dict[str, list[float]]:
    import numpy as np

    from ..evaluation import compute_metric, metric_seed
    from ..plugins import get_registry
    from ..results.schema import _words

    reg = get_registry(plugin_dirs)
    dataset = reg.get("dataset", row["dataset"])(**(row["dataset_params"] or {}))
    built = [(name, reg.get("metric", name)(**params)) for name, params in metrics]
    n_train = int(getattr(dataset, "n_train", 1000))
    values: dict[str, list[float]] = {}
    for r in range(DRAWS):
        ss = np.random.SeedSequence([int(row["seed"]), *_words("floor/" + row["dataset_id"]), r])
        train_ss, gen_ss, ref_ss, metric_ss = ss.spawn(4)
        train = np.asarray(dataset.sample_train(n_train, rng=np.random.default_rng(train_ss)), dtype=np.float64)
        gen = np.asarray(dataset.sample(int(row["n_samples"]), rng=np.random.default_rng(gen_ss)), dtype=np.float64)
        ref = np.asarray(dataset.sample(int(row["n_reference"]), rng=np.random.default_rng(ref_ss)), dtype=np.float64)
        for name, metric in built:
            rng = np.random.default_rng(metric_seed(metric_ss, name))
            value, _ = compute_metric(metric, gen, ref, train, dataset, rng)
            if value is not None:
                values.setdefault(name, []).append(value)
    return {k: v for k, v in values.items() if len(v) == DRAWS}


def data_floors(
    board: Board, plugin_dirs=(), *, metrics: list | None = None, progress=None
) -> dict[str, dict[str, float]]:
    """Dataset id → metric → floor (the mean of the draws), for every dataset configuration of the
    board; the arguments as for :func:`floor_draws`."""
    draws = floor_draws(board, plugin_dirs, metrics=metrics, progress=progress)
    return {did: {m: _mean(v) for m, v in values.items()} for did, values in draws.items()}


def floor_spreads(draws: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Dataset id → metric → the standard deviation of the floor's draws."""
    return {did: {m: _sd(v) for m, v in values.items()} for did, values in draws.items()}


def floor_means(draws: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Dataset id → metric → the floor (the mean of its draws)."""
    return {did: {m: _mean(v) for m, v in values.items()} for did, values in draws.items()}


def floor_draws(
    board: Board, plugin_dirs=(), *, metrics: list | None = None, progress=None
) -> dict[str, dict[str, list[float]]]:
    """Dataset id → metric → the metric's :data:`DRAWS` values between fresh draws, for every dataset
    configuration of the board; ``metrics``: ``[(name, params)]`` as the cells computed them (default:
    from the suite's definition; empty result when unknown). ``progress(done, total)`` is called as
    configurations finish."""
    from ..params import canonical
    from ..results.schema import component_id
    from ..results.versions import code_version

    if metrics:
        metrics = [(str(m), dict(p or {})) for m, p in metrics]
    else:
        metrics = getattr(stored_suite(board.suite, plugin_dirs), "metrics", None)
    if not metrics:
        return {}
    first: dict[str, dict[str, Any]] = {}
    for r in board.rows:
        did = component_id(r["dataset"], r["dataset_params"] or {})
        small = (r.get("n_samples") or 0) + (r.get("n_reference") or 0) <= MAX_POINTS
        if did not in first and r.get("n_samples") and r.get("n_reference") and small:
            first[did] = {**r, "dataset_id": did}
    root = cache_dir() / "floors"
    out: dict[str, dict[str, list[float]]] = {}
    for i, (did, row) in enumerate(first.items()):
        key = json.dumps(
            [did, canonical(row.get("dataset_config") or {}), row["n_samples"], row["n_reference"], row["seed"],
             [[m, canonical(p)] for m, p in metrics], DRAWS, "draws", code_version()],
            sort_keys=True, default=str,
        )  # fmt: skip
        path = root / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".json")
        try:
            out[did] = json.loads(path.read_text())
        except (OSError, ValueError):
            try:
                out[did] = _compute(row, metrics, plugin_dirs)
            except Exception:  # a dataset that cannot be drawn here (missing package): no floor, no failure
                continue
            try:
                root.mkdir(parents=True, exist_ok=True)
                atomic_write_text(path, json.dumps(out[did]))
            except OSError as exc:  # full or unwritable cache: compute without it, and say so once
                warn_once("floor-cache", f"data-floor cache {root} not written ({exc}); floors are recomputed")
        if progress is not None:
            progress(i + 1, len(first))
    return out
