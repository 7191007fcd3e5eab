"""Cost of the harness itself: per-cell isolation overhead, CLI start-up, a whole smoke run."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLUGINS = str(Path(__file__).parent / "plugins")
N_CELLS = 20


def _noop_cells(n: int):
    from genbench.results.schema import Cell

    return [
        Cell(suite="bench", dataset="bench_tiny", dataset_params={"tag": i}, sampler="bench_noop",
             sampler_params={}, rep=0, seed=0, n_samples=10, n_reference=10, metrics=[], timeout=60)
        for i in range(n)
    ]  # fmt: skip


class RunnerOverhead:
    """Seconds per cell for a sampler that does nothing, fully isolated (one process per cell)."""

    timeout = 120
    number = 1
    repeat = 3
    rounds = 1
    warmup_time = 0

    def setup(self):
        from genbench.executors import LocalExecutor

        self.executor = LocalExecutor(jobs=1, plugin_dirs=(PLUGINS,))
        list(self.executor.run(_noop_cells(2)))  # start the forkserver
        from genbench.evaluation import execute_cell

        execute_cell(_noop_cells(1)[0], (PLUGINS,))  # build the registry in this process

    def time_isolated_cell(self):
        list(self.executor.run(_noop_cells(N_CELLS)))

    def track_seconds_per_isolated_cell(self):
        start = time.perf_counter()
        list(self.executor.run(_noop_cells(N_CELLS)))
        return (time.perf_counter() - start) / N_CELLS

    track_seconds_per_isolated_cell.unit = "seconds"

    def track_seconds_per_in_process_cell(self):
        from genbench.evaluation import execute_cell

        cells = _noop_cells(N_CELLS)
        start = time.perf_counter()
        for c in cells:
            execute_cell(c, (PLUGINS,))
        return (time.perf_counter() - start) / N_CELLS

    track_seconds_per_in_process_cell.unit = "seconds"


class CliStartup:
    timeout = 60
    number = 1
    repeat = 5
    rounds = 1
    warmup_time = 0

    def time_help(self):
        subprocess.run([sys.executable, "-m", "genbench.cli", "--help"], check=True, capture_output=True)


class SmokeSuite:
    timeout = 300
    number = 1
    repeat = 1
    rounds = 1
    warmup_time = 0

    def time_smoke_suite(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "genbench.cli", "run", "--suite", "smoke", "-q", "-j", "2",
                 "--store", str(Path(tmp) / "r.db")],
                check=True, capture_output=True,
            )  # fmt: skip


class BridgeCell:
    """One isolated ``bridge`` cell (manifolds quick: arc, M = 500, ε = 0.01), jax's compilation
    cache warm — what a cell costs once the jit compile is paid per machine, not per cell."""

    timeout = 300
    number = 1
    repeat = 3

    def setup(self):
        import os

        import genbench

        self.tmp = tempfile.mkdtemp()
        os.environ["GENBENCH_CACHE"] = str(Path(self.tmp) / "cache")
        self.args = {"samplers": ["bridge"], "datasets": ["arc"], "profile": "quick"}
        genbench.run_suite("manifolds", store=Path(self.tmp) / "warm.db", **self.args)  # fills the cache

    def track_bridge_cell_wall_seconds(self):
        import genbench

        df = genbench.run_suite("manifolds", store=Path(self.tmp) / "r.db", rerun=True, **self.args)
        return float(df["wall_s"].iloc[0])

    track_bridge_cell_wall_seconds.unit = "seconds"
