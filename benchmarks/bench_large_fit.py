"""Large-M bridge fits (issue 14): every Sinkhorn path against the dense kernel, and the M-scaling curve.

asv: ``LargeFit`` times each path at M = 5,000 on closure-shaped 2-D data (ε = 0.001) with the
dense reference in the same run (``track_speedup`` = dense time / path time); ``ClosureFit``
times the 120,000-point fit the dense path cannot do (115 GB).

Run directly for the M-scaling curve (each configuration in a fresh process, peak RSS included)::

    python benchmarks/bench_large_fit.py                     # lorenz63_closure data, CPU paths
    python benchmarks/bench_large_fit.py --paths jax --sizes 1000 120000 --json out.json

``--data l63`` (default) simulates ``lorenz63_closure`` pairs once (cached, ~1–2 min for
120,000); ``--data synthetic`` uses the closure-shaped mixture below.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import ClassVar

import numpy as np

from genbench.numerics.sinkhorn_large import sinkhorn_gaussian


def closure_like(M: int, seed: int = 0) -> np.ndarray:
    """Two wells in z (±0.9, std 0.25) and ψ with std 0.1, centred: the shape of the closure pairs."""
    rng = np.random.default_rng(seed)
    z = np.concatenate([rng.normal(-0.9, 0.25, M // 2), rng.normal(0.9, 0.25, M - M // 2)])
    X = np.stack([z, 0.1 * rng.standard_normal(M)], axis=1)
    return X - X.mean(axis=0)


def l63_pairs(M: int) -> np.ndarray:
    """``lorenz63_closure`` pairs (seed 000 §6.3, h = 1), centred; simulated once, then cached."""
    from genbench_datasets.dynamics import Lorenz63Closure

    X = Lorenz63Closure(n_train=M).sample(M, rng=np.random.default_rng(0))
    return X - X.mean(axis=0)


class LargeFit:
    """Each path at M = 5,000, ε = 0.001, against the dense fit measured in the same run."""

    params: ClassVar[list] = ["dense", "nufft", "sparse", "stream", "jax"]
    param_names: ClassVar[list] = ["path"]
    timeout = 300
    number = 1
    repeat = 3
    warmup_time = 0

    def setup(self, path):
        self.X = closure_like(5000)
        if path == "nufft":
            import importlib.util

            if importlib.util.find_spec("finufft") is None:
                raise NotImplementedError("finufft not installed")  # asv: skipped

    def time_fit(self, path):
        sinkhorn_gaussian(self.X, 0.001, method=path, check_rows=0)

    def peakmem_fit(self, path):
        sinkhorn_gaussian(self.X, 0.001, method=path, check_rows=0)

    def track_speedup(self, path):
        """Dense fit time / this path's fit time, both measured here (best of 3)."""
        times = {}
        for p in ("dense", path):
            best = np.inf
            for _ in range(3):
                t = time.perf_counter()
                sinkhorn_gaussian(self.X, 0.001, method=p, check_rows=0)
                best = min(best, time.perf_counter() - t)
            times[p] = best
        return times["dense"] / times[path]

    track_speedup.unit = "×"


class ClosureFit:
    """M = 120,000 (seed 000 §6.3's size; dense would need 115 GB): the path ``auto`` picks."""

    timeout = 900
    number = 1
    repeat = 1
    warmup_time = 0

    def setup(self):
        self.X = closure_like(120_000)

    def time_fit_120k(self):
        sinkhorn_gaussian(self.X, 0.001, check_rows=0)

    def peakmem_fit_120k(self):
        sinkhorn_gaussian(self.X, 0.001, check_rows=0)


_CHILD = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from benchmarks.bench_large_fit import closure_like, l63_pairs
from genbench.numerics.sinkhorn_large import sinkhorn_gaussian
X = {loader}({M})
t = time.perf_counter()
r = sinkhorn_gaussian(X, {eps}, method={path!r})
seconds = time.perf_counter() - t
print(json.dumps({{"M": {M}, "path": r.method, "seconds": seconds, "iterations": r.iterations,
    "check_error": r.check_error, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10_000, 20_000, 50_000, 120_000])
    ap.add_argument("--paths", nargs="+", default=["dense", "nufft", "sparse", "jax"])
    ap.add_argument("--eps", type=float, default=0.001)
    ap.add_argument("--data", choices=["l63", "synthetic"], default="l63")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per configuration")
    ap.add_argument("--json", help="write the rows here too")
    args = ap.parse_args(argv)
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent)
    loader = "l63_pairs" if args.data == "l63" else "closure_like"
    if args.data == "l63":
        l63_pairs(max(args.sizes))  # simulate (and cache) once, before timing anything
    rows = []
    print(f"{'path':>10} {'M':>8} {'seconds':>9} {'iter':>5} {'marginal err':>13} {'peak RSS MB':>12}")
    for path in args.paths:
        for M in args.sizes:
            if path == "dense" and 8 * M * M > 4 << 30:
                print(f"{path:>10} {M:>8}   skipped: the kernel alone is {8 * M * M / 2**30:.0f} GiB")
                continue
            code = _CHILD.format(root=root, loader=loader, M=M, eps=args.eps, path=path)
            try:
                out = subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, timeout=args.timeout, check=False
                )
            except subprocess.TimeoutExpired:
                print(f"{path:>10} {M:>8}   > {args.timeout:.0f} s: stopped (larger M skipped)")
                break
            if out.returncode != 0:
                print(f"{path:>10} {M:>8}   failed: {(out.stderr.strip().splitlines() or ['?'])[-1][:90]}")
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{row['path']:>10} {M:>8} {row['seconds']:>9.2f} {row['iterations']:>5} "
                f"{row['check_error']:>13.1e} {row['peak_rss_mb']:>12.0f}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
