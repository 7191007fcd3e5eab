"""asv-style benchmarks for the bridge samplers (issue 5), with the plain log-domain baseline.

Run directly for a report: ``python benchmarks/bench_bridge.py`` (prints every figure the issue
asks for: Sinkhorn fit time and speed-up against :func:`reference_log_sinkhorn`, per-step
sampling times against M, numpy against jax, localized d = 101).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.special import logsumexp

from genbench.numerics.sinkhorn import gaussian_log_kernel, sinkhorn_symmetric, sq_distances


def hypersemisphere(M: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Seed 000 §6.2 data: N(0, I) with the last coordinate ×5, normalised, radial U(0, 0.01)."""
    z = rng.standard_normal((M, d))
    z[:, -1] *= 5.0
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    return z * (1.0 + rng.uniform(0.0, 0.01, size=(M, 1)))


def reference_log_sinkhorn(X: np.ndarray, eps: float, tol: float = 1e-12, max_iter: int = 10_000) -> np.ndarray:
    """The baseline: a plain log-domain symmetric Sinkhorn (full logsumexp every iteration)."""
    M = len(X)
    C = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1) / (4.0 * eps)
    u = np.full(M, -0.5 * np.log(M))
    for _ in range(max_iter):
        g = u + logsumexp(u[None, :] - C, axis=1) + np.log(M)
        if np.max(np.abs(np.expm1(g))) <= tol:
            break
        u = u - 0.5 * g
    return np.exp(u)


def fit_sinkhorn(X: np.ndarray, eps: float) -> np.ndarray:
    Xc = X - X.mean(axis=0)
    return sinkhorn_symmetric(gaussian_log_kernel(sq_distances(Xc), eps), overwrite=True).v


class SinkhornFit:
    """Sinkhorn fit, d = 3, ε = 0.008 (seed 000 Table 1, d = 3): M = 5,000, and the plain
    log-domain baseline beside it at M = 1,000 (at 5,000 it takes minutes: ``main`` reports both)."""

    timeout = 120
    number = 1
    repeat = 3
    rounds = 1
    warmup_time = 0

    def setup(self):
        self.X = hypersemisphere(5000, 3, np.random.default_rng(0))

    def time_fit(self):
        fit_sinkhorn(self.X, 0.008)

    def time_fit_M1000(self):
        fit_sinkhorn(self.X[:1000], 0.008)

    def time_reference_log_domain_M1000(self):
        reference_log_sinkhorn(self.X[:1000], 0.008)


class BridgeSampling:
    """``chains`` chains × 100 data-aware split steps, d = 9, against M. asv times 200 chains (1,000
    chains at M = 5,000 with numpy took 75 s a call on 2 cores); ``main`` reports 1,000 chains at
    M = 1,000 … 10,000."""

    params = ((1000, 5000), ("numpy", "jax"))
    param_names = ("M", "backend")
    chains = 200
    timeout = 180
    number = 1
    repeat = 2
    rounds = 1
    warmup_time = 0

    def setup(self, M, backend):
        from genbench_plugins.bridge import Bridge

        X = hypersemisphere(M, 9, np.random.default_rng(0))
        self.s = Bridge(eps=0.05, chains=self.chains, steps=100, burn_in=99, thin=1, backend=backend)
        self.s.fit(X, rng=np.random.default_rng(1))
        if backend == "jax":
            self.s.sample(self.chains, rng=np.random.default_rng(2))  # warm-up: jit compile

    def time_100_steps(self, M, backend):
        self.s.sample(self.chains, rng=np.random.default_rng(3))


class LocalizedSampling:
    """localized_bridge, d = 101, M = 500, ε = 0.025, r = 2: 100 chains × 100 steps."""

    params = (("numpy", "jax"),)
    param_names = ("backend",)
    timeout = 180
    number = 1
    repeat = 2
    rounds = 1
    warmup_time = 0

    def setup(self, backend):
        from genbench_plugins.localized_bridge import LocalizedBridge

        import genbench

        X = genbench.make_dataset("gaussian_tridiag", dim=101).sample(500, rng=np.random.default_rng(0))
        self.s = LocalizedBridge(eps=0.025, chains=100, steps=100, burn_in=99, thin=1, backend=backend)
        self.s.fit(X, rng=np.random.default_rng(1))
        if backend == "jax":
            self.s.sample(100, rng=np.random.default_rng(2))  # warm-up: jit compile

    def time_100_steps(self, backend):
        self.s.sample(100, rng=np.random.default_rng(3))


def _timed(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:  # pragma: no cover - a report, not a test
    b = SinkhornFit()
    b.setup()
    t_fit = _timed(b.time_fit)
    t_ref = _timed(lambda: reference_log_sinkhorn(b.X, 0.008), repeat=1)
    v = fit_sinkhorn(b.X, 0.008)
    v_ref = reference_log_sinkhorn(b.X, 0.008)
    err = np.max(np.abs(v / v_ref - 1))
    print(f"sinkhorn M=5000 d=3 eps=0.008: fit {t_fit:.3f} s, plain log-domain {t_ref:.2f} s, "
          f"speed-up {t_ref / t_fit:.0f}x, max |v/v_ref - 1| = {err:.1e}")  # fmt: skip
    for M in (1000, 2000, 5000, 10000):
        for backend in BridgeSampling.params[1]:
            s = BridgeSampling()
            s.chains = 1000
            s.setup(M, backend)
            t = _timed(lambda s=s, M=M, b=backend: s.time_100_steps(M, b), repeat=2)
            print(f"bridge data-aware split, 1000 chains x 100 steps, d=9, M={M}, {backend}: "
                  f"{t:.2f} s ({1000 * t / 100:.1f} ms/step)")  # fmt: skip
    for backend in LocalizedSampling.params[0]:
        s = LocalizedSampling()
        s.setup(backend)
        t = _timed(lambda s=s, b=backend: s.time_100_steps(b), repeat=2)
        print(f"localized d=101 M=500, 100 chains x 100 steps, {backend}: {t:.2f} s ({10 * t:.1f} ms/step)")


if __name__ == "__main__":
    main()
