"""asv benchmarks of every registered sampler on the small suite ``benchmarks/asv_cells.toml``.

One parameter set per (sampler, dataset) cell, built by genbench's own suite expansion:

* ``time_fit`` / ``time_sample`` — seconds of one ``fit`` / ``sample`` (lower is better);
* ``peakmem_fit`` — peak resident memory of the process through ``fit`` (lower is better);
* ``track_<metric>`` — the cell's metric value, from :func:`genbench.executors.worker.execute_cell` (the
  code a worker runs), so it equals what ``genbench run --suite benchmarks/asv_cells.toml``
  stores for the same cell and seed. asv assumes lower is better: true for ``sliced_w2`` and
  ``energy``; ``memorization`` has no direction (≈ 1 is fresh data, < 0.5 flags
  copying), so read its changes, not its sign.

A sampler the suite does not list runs with its ``checking_params``; one whose optional package
is missing is left out. Every benchmark sets its own timeout, and each runs once (``number =
repeat = rounds = 1``), single-threaded (BLAS, OpenMP, torch; see :func:`single_threaded`).

Record: ``asv run --python=same --set-commit-hash $(git rev-parse HEAD)`` (the installed code);
over commits: ``python benchmarks/history.py N``; then ``asv publish``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

SUITE = Path(__file__).with_name("asv_cells.toml")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def suite_cells() -> dict[tuple[str, str], object]:
    """``(sampler, dataset) → Cell`` of the asv suite, with every available registered sampler."""
    from genbench.plugins import get_registry, unavailable_reason
    from genbench.spec.suite import parse_suite, suite_cells

    registry = get_registry()
    raw = tomllib.loads(SUITE.read_text())
    for name in registry.names("sampler"):
        cls = registry.get("sampler", name)
        if name not in raw["samplers"] and unavailable_reason(cls) is None:
            params = dict(getattr(cls, "checking_params", {}) or {})
            # a list in a suite is a grid axis: a list-valued parameter is an axis of one value
            raw["samplers"][name] = {k: [list(v)] if isinstance(v, (list, tuple)) else v for k, v in params.items()}
    raw["samplers"] = {
        n: p for n, p in raw["samplers"].items() if unavailable_reason(registry.get("sampler", n)) is None
    }
    suite = parse_suite(raw, registry, where=SUITE.name, default_name="asv_cells")
    return {(c.sampler, c.dataset): c for c in suite_cells(suite, registry)}


def preload(cells) -> None:
    """Do the samplers' slow imports (``preload``: ``module`` or ``module:function``, e.g. torch,
    jax) once, in asv's forkserver, as genbench's worker forkserver does, instead of once per
    benchmark process; then one warm-up fit per sampler pays its remaining lazy imports here
    (a torch sampler's first fit imported ~1,500 modules: 12-16 s in every benchmark process)."""
    import importlib

    from genbench.plugins import get_registry

    registry = get_registry()
    specs = {m for name in {c.sampler for c in cells} for m in getattr(registry.get("sampler", name), "preload", ())}
    single_threaded()
    for spec in sorted(specs):
        module, _, func = spec.partition(":")
        try:
            mod = importlib.import_module(module)
            if func:
                getattr(mod, func)()
        except Exception:  # a failed preload only costs the benchmark the import
            pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    warm = {}
    for cell in cells:
        warm.setdefault(cell.sampler, cell)
    for cell in warm.values():
        try:
            sampler, X, fit_ss, _ = prepared(cell)
            sampler.fit(X, rng=np.random.default_rng(fit_ss))
        except Exception:  # the benchmarks themselves will show the error
            pass


#: One thread for BLAS, OpenMP and torch in every benchmark: timings that do not depend on what
#: else the machine runs (spinning OpenMP threads on a busy 2-core machine made a 0.1 s torch fit
#: take 30 s in a forked benchmark process).
_LIMITS = []


def single_threaded() -> None:
    from threadpoolctl import threadpool_limits

    os.environ["OMP_NUM_THREADS"] = "1"  # what the runner sets per cell; the torch samplers read it
    _LIMITS.append(threadpool_limits(1))


CELLS = suite_cells()
SAMPLERS = sorted({s for s, _ in CELLS})
DATASETS = sorted({d for _, d in CELLS})
METRICS = [name for name, _ in next(iter(CELLS.values())).metrics]


def run_cells(keys=None) -> dict[str, dict]:
    """``"sampler/dataset" → result row`` of the cells (all by default), each run by the runner's
    :func:`genbench.executors.worker.execute_cell` in this process — the track_* values."""
    from genbench.executors.worker import execute_cell

    keys = list(CELLS) if keys is None else keys
    return {f"{s}/{d}": execute_cell(CELLS[(s, d)]).to_dict() for s, d in keys}


def prepared(cell):
    """The cell's sampler and training set, drawn exactly as the runner draws them (same seeds)."""
    from genbench.executors.worker import build_components

    dataset, sampler, _ = build_components(cell)
    train_ss, _ = cell.data_seed().spawn(2)
    fit_ss, sample_ss, _ = cell.sampler_seed().spawn(3)
    n_train = int(getattr(dataset, "n_train", 1000))
    X = np.asarray(dataset.sample_train(n_train, rng=np.random.default_rng(train_ss)), dtype=np.float64)
    return sampler, X, fit_ss, sample_ss


preload(CELLS.values())


class _Cell:
    """Shared by the benchmark classes: parameters, limits, the cached runner results, setup."""

    params = (SAMPLERS, DATASETS)
    param_names = ("sampler", "dataset")
    timeout = 150
    number = 1
    repeat = 1
    rounds = 1
    min_run_count = 1
    warmup_time = 0

    def setup_cache(self):
        """Run every cell once through the runner (fit, sample, metrics): the track_* values."""
        return run_cells()

    setup_cache.timeout = 600

    def setup(self, results, sampler, dataset):
        cell = CELLS[(sampler, dataset)]
        self.sampler, self.X, fit_ss, sample_ss = prepared(cell)
        self.fit_rng = np.random.default_rng(fit_ss)
        self.sample_rng = np.random.default_rng(sample_ss)
        self.n = cell.n_samples


class Cells(_Cell):
    """Every registered sampler × the asv suite's datasets: fit time and memory, metric values."""

    def time_fit(self, results, sampler, dataset):
        self.sampler.fit(self.X.copy(), rng=self.fit_rng)

    def peakmem_fit(self, results, sampler, dataset):
        self.sampler.fit(self.X.copy(), rng=self.fit_rng)


class Sampling(_Cell):
    """``sample`` alone (setup fits first)."""

    def setup(self, results, sampler, dataset):
        super().setup(results, sampler, dataset)
        self.sampler.fit(self.X.copy(), rng=self.fit_rng)

    def time_sample(self, results, sampler, dataset):
        self.sampler.sample(self.n, rng=self.sample_rng)


def _track(metric: str):
    def track(self, results, sampler, dataset):
        row = results[f"{sampler}/{dataset}"]
        value = row["metrics"].get(metric)
        return float("nan") if value is None else float(value)

    track.__name__ = f"track_{metric}"
    track.unit = f"{metric} (lower is better)" if metric != "memorization" else "memorization ratio (no direction)"
    return track


for _metric in METRICS:
    setattr(Cells, f"track_{_metric}", _track(_metric))
