"""Large-M bridge fits and conditional sampling on a GPU (issue 14), as one timed script.

Standalone (run from the repository root with jax importable; no install needed)::

    python benchmarks/gpu_large_fit.py --l63 L63.npy --l96 L96.npy

``L63.npy``: ``lorenz63_closure`` pairs (M = 120,000, seed 000 §6.3); ``L96.npy``:
``lorenz96_closure`` pairs with ``sample_every=1`` (M = 40,000, seed 001 §5.1); without them,
closure-shaped synthetic data stand in. Reports: the jax fit's M-scaling (cold = with the jit
compile, warm = a second fit), agreement with the dense CPU fit at M = 5,000, the bridge's
conditional sampling at M = 120,000 (100 chains × 100 steps, isotropic noise, ε = 0.001) and the
localized bridge's fit and conditional sampling at M = 40,000 (ε = 0.1, seed 001's Λ(α)).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())  # the checkout: plugins/ and benchmarks/ as packages


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--l63")
    ap.add_argument("--l96")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20_000, 50_000, 120_000])
    args = ap.parse_args()
    import jax

    from benchmarks.bench_large_fit import closure_like
    from genbench.numerics.sinkhorn_large import sinkhorn_gaussian
    from plugins.bridge import Bridge
    from plugins.localized_bridge import LocalizedBridge

    print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}", flush=True)
    X63 = np.load(args.l63) if args.l63 else closure_like(120_000)
    X63c = X63 - X63.mean(axis=0)

    print("\n# jax fit, M-scaling (lorenz63_closure, eps = 0.001)")
    print(f"{'M':>8} {'cold s':>8} {'warm s':>8} {'iter':>5} {'marginal err':>13}")
    for M in args.sizes:
        X = X63c[:M] - X63c[:M].mean(axis=0)
        _, cold = timed(lambda X=X: sinkhorn_gaussian(X, 0.001, method="jax", check_rows=0))
        r, warm = timed(lambda X=X: sinkhorn_gaussian(X, 0.001, method="jax", check_rows=0))
        err = sinkhorn_gaussian(X, 0.001, method="jax").check_error
        print(f"{M:>8} {cold:>8.2f} {warm:>8.2f} {r.iterations:>5} {err:>13.1e}", flush=True)

    print("\n# agreement at M = 5,000 (jax on the device vs dense numpy)")
    X = X63c[:5000] - X63c[:5000].mean(axis=0)
    dense = sinkhorn_gaussian(X, 0.001, method="dense")
    gpu = sinkhorn_gaussian(X, 0.001, method="jax")
    print(f"max |v_jax / v_dense - 1| = {np.max(np.abs(gpu.v / dense.v - 1)):.2e} ({gpu.method})", flush=True)

    print("\n# bridge at M = 120,000: fit (auto) and conditional sampling, 100 chains x 100 steps")
    b = Bridge(eps=0.001, noise="isotropic", output="projected", chains=100, steps=100, burn_in=99, thin=1)
    _, fit_s = timed(lambda: b.fit(X63, rng=np.random.default_rng(0)))
    print(f"fit {fit_s:.2f} s via {b.sinkhorn_method_}, diagnostics {b.diagnostics_}", flush=True)
    for rep in ("cold", "warm"):
        Y, s = timed(lambda: b.sample_conditional([0.5], 100, rng=np.random.default_rng(1), conditioning=[0]))
        psi = Y[:, 1]
        print(f"conditional sampling z* = 0.5 ({rep}): {s:.2f} s, psi mean {psi.mean():.4f} std {psi.std():.4f}")

    if args.l96:
        X96 = np.load(args.l96)
        K = X96.shape[1] // 2
        print(f"\n# localized bridge at M = {len(X96):,} (L96 closure, K = {K}, eps = 0.1, scaled z / psi)")
        lb = LocalizedBridge(
            eps=0.1, neighbourhoods="closure", scale=[0] * K + [1] * K, chains=100, steps=100, burn_in=99, thin=1
        )
        _, fit_s = timed(lambda: lb.fit(X96, rng=np.random.default_rng(0)))
        print(f"fit {fit_s:.2f} s via {lb.sinkhorn_method_}, diagnostics {lb.diagnostics_}", flush=True)
        z_star = X96[123, :K]
        for rep in ("cold", "warm"):
            rng = np.random.default_rng(1)
            Y, s = timed(lambda rng=rng: lb.sample_conditional(z_star, 100, rng=rng, conditioning=range(K)))
            print(f"conditional sampling ({rep}): {s:.2f} s, psi std {Y[:, K:].std(axis=0).mean():.3f}", flush=True)


if __name__ == "__main__":
    main()
