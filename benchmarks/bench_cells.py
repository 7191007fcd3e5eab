"""asv benchmarks of every registered sampler on the small suite ``benchmarks/asv_cells.toml``.

One parameter set per (sampler, dataset) cell, built by genbench's own suite expansion:

* ``time_fit`` / ``time_sample`` — seconds of one ``fit`` / ``sample`` (lower is better);
* ``peakmem_fit`` — peak resident memory of the process through ``fit`` (lower is better);
* ``track_<metric>`` — the cell's metric value, from :func:`genbench.evaluation.execute_cell` (the
  code a worker runs), so it equals what ``genbench run --suite benchmarks/asv_cells.toml``
  stores for the same cell and seed. asv assumes lower is better: true for ``sliced_w2`` and
  ``energy``; ``memorization`` has no direction (≈ 1 is fresh data, < 0.5 flags
  copying), so read its changes, not its sign.

A sampler the suite does not list runs with its ``checking_params``; one whose optional package
is missing is left out. Every benchmark sets its own timeout, and each runs once (``number =
repeat = rounds = 1``), single-threaded (BLAS, OpenMP, torch; see :func:`single_threaded`).

The suite runs 3 repetitions of every cell: asv times and tracks repetition 0, and every
repetition's values are written to ``.asv/cells/<commit>.csv`` (a results.csv), so that two commits'
accuracy is judged with the noise of the repetitions taken into account:
``genbench compare .asv/cells/<A>.csv .asv/cells/<B>.csv`` (paired t-tests, Holm; see docs/compare.md).

Record: ``asv run --python=same --set-commit-hash $(git rev-parse HEAD)`` (the installed code);
over commits: ``python benchmarks/history.py N``; then ``asv publish``.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SUITE = Path(__file__).with_name("asv_cells.toml")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def suite_cells() -> dict[tuple[str, str, int], object]:
    """``(sampler, dataset, rep) → Cell`` of the asv suite, with every available registered sampler."""
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
    return {(c.sampler, c.dataset, c.rep): c for c in suite_cells(suite, registry)}


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


ALL_CELLS = suite_cells()
#: The cells asv times and tracks: repetition 0 of each (sampler, dataset).
CELLS = {(s, d): c for (s, d, r), c in ALL_CELLS.items() if r == 0}
SAMPLERS = sorted({s for s, _ in CELLS})
DATASETS = sorted({d for _, d in CELLS})
METRICS = [name for name, _ in next(iter(CELLS.values())).metrics]
#: Where every repetition's values go, one results.csv per commit (for ``genbench compare``).
CELLS_DIR = Path(__file__).resolve().parent.parent / ".asv" / "cells"


def run_cells(keys=None, reps=(0,)) -> dict[str, dict]:
    """``"sampler/dataset" → result row`` of repetition 0 of the cells (all by default), each run by the
    runner's :func:`genbench.evaluation.execute_cell` in this process — the track_* values; with
    more ``reps``, ``"sampler/dataset/rep"`` keys for the others."""
    from genbench.evaluation import execute_cell

    keys = list(CELLS) if keys is None else keys
    out = {}
    for s, d in keys:
        for r in reps:
            if (s, d, r) in ALL_CELLS:
                out[f"{s}/{d}" if r == 0 else f"{s}/{d}/{r}"] = execute_cell(ALL_CELLS[(s, d, r)]).to_dict()
    return out


def commit() -> str:
    """The commit asv measures (``$ASV_COMMIT``), else the checkout's HEAD, else ``unknown``."""
    sha = os.environ.get("ASV_COMMIT")
    if sha:
        return sha
    try:
        here = Path(__file__).resolve().parent
        proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True)
        return proc.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def repetitions_csv(results: dict[str, dict]) -> str:
    """The rows of :func:`run_cells` as a results.csv (cell id, suite, status, rep, ``m_*``): what
    ``genbench compare`` reads."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["cell_id", "suite", "status", "rep", *[f"m_{m}" for m in METRICS]])
    for key, row in results.items():
        s, d, *rep = key.split("/")
        cell = ALL_CELLS[(s, d, int(rep[0]) if rep else 0)]
        values = ["" if row["metrics"].get(m) is None else repr(float(row["metrics"][m])) for m in METRICS]
        w.writerow([cell.cell_id, cell.suite, row["status"], cell.rep, *values])
    return buf.getvalue()


def record_repetitions(results: dict[str, dict], directory: Path = CELLS_DIR) -> Path:
    """Write ``results`` to ``directory/<commit>.csv`` (atomically) and return its path."""
    from genbench.fileio import atomic_write_text

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{commit()}.csv"
    atomic_write_text(path, repetitions_csv(results))
    return path


def prepared(cell):
    """The cell's sampler and training set, drawn exactly as the runner draws them (same seeds)."""
    from genbench.evaluation import build_components

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
        """Run every cell through the runner (fit, sample, metrics), every repetition: repetition 0
        gives the track_* values, all of them go to ``.asv/cells/<commit>.csv``."""
        reps = sorted({r for _, _, r in ALL_CELLS})
        results = run_cells(reps=reps)
        try:
            record_repetitions(results)
        except OSError:  # a read-only checkout: the asv values are still recorded
            pass
        return results

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
