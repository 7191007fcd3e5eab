"""Large-M symmetric Sinkhorn (genbench.numerics.sinkhorn_large): every path against the dense kernel."""

from __future__ import annotations

import numpy as np
import pytest
from genbench_plugins.bridge import Bridge

from genbench.numerics.sinkhorn import kde_log_density_sq, sq_distances
from genbench.numerics.sinkhorn_large import (
    choose_method,
    exact_marginal_error,
    kde_log_density_blocks,
    sinkhorn_gaussian,
)

PATHS = ["nufft", "sparse", "stream", "jax"]


def closure_like(M: int, seed: int = 0) -> np.ndarray:
    """Two wells in z (±0.9, std 0.25) and ψ with std 0.1: the shape of lorenz63_closure pairs."""
    rng = np.random.default_rng(seed)
    z = np.concatenate([rng.normal(-0.9, 0.25, M // 2), rng.normal(0.9, 0.25, M - M // 2)])
    return np.stack([z, 0.1 * rng.standard_normal(M)], axis=1) + np.array([0.3, -0.2])


def available(path: str) -> bool:
    mod = {"nufft": "finufft", "jax": "jax"}.get(path)
    if mod is None:
        return True
    try:
        __import__(mod)
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def dense_bridge():
    X = closure_like(5000)
    ref = Bridge(eps=0.001, sinkhorn="dense", noise="isotropic", backend="numpy")
    return X, ref.fit(X, rng=np.random.default_rng(1))


@pytest.mark.parametrize("path", PATHS)
def test_large_m_paths_match_the_dense_fit_at_m_5000(dense_bridge, path):
    """Acceptance (issue 14): v, p(x) and the samples of every large-M path equal the dense ones to 1e-6."""
    if not available(path):
        pytest.skip(f"{path} not installed")
    X, ref = dense_bridge
    b = Bridge(eps=0.001, sinkhorn=path, noise="isotropic", backend="numpy").fit(X, rng=np.random.default_rng(1))
    assert b.sinkhorn_method_ == path
    np.testing.assert_allclose(b.v_, ref.v_, rtol=1e-6)
    Y = b.Xc_[:50] + 0.03 * np.random.default_rng(2).standard_normal((50, 2))
    np.testing.assert_allclose(b.weights(Y)[0], ref.weights(Y)[0], rtol=1e-6, atol=1e-12)
    kw = {"chains": 10, "burn_in": 10, "thin": 2}
    b.set_params(**kw)
    ref_s = ref.set_params(**kw).sample(60, rng=np.random.default_rng(3))
    np.testing.assert_allclose(b.sample(60, rng=np.random.default_rng(3)), ref_s, rtol=0, atol=1e-6)
    assert b.diagnostics_["sinkhorn_marginal_error"] < 1e-10  # the exact kernel's marginals, measured


@pytest.mark.parametrize("path", ["stream", "jax"])
def test_variable_bandwidth_streams_match_dense(path):
    """β < 0 (seed 000 eqs. (20)–(22)): blockwise KDE and kernel give the dense v."""
    if not available(path):
        pytest.skip(f"{path} not installed")
    X = closure_like(1500, seed=4)
    ref = Bridge(eps=0.005, beta=-0.5, sinkhorn="dense", backend="numpy").fit(X, rng=np.random.default_rng(0))
    b = Bridge(eps=0.005, beta=-0.5, sinkhorn=path, backend="numpy").fit(X, rng=np.random.default_rng(0))
    np.testing.assert_allclose(b.log_rho_, ref.log_rho_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.v_, ref.v_, rtol=1e-8)


def test_blockwise_kde_equals_the_dense_one():
    X = closure_like(700, seed=5)
    np.testing.assert_allclose(kde_log_density_blocks(X, 0.01), kde_log_density_sq(sq_distances(X), 0.01), atol=1e-12)


def test_marginals_hold_for_the_exact_kernel_on_every_row():
    X = closure_like(2000, seed=6)
    X -= X.mean(axis=0)
    for path in ("nufft", "sparse"):
        if available(path):
            res = sinkhorn_gaussian(X, 0.002, method=path)
            assert res.checked_rows == 1000
            assert exact_marginal_error(X, 0.002, res.log_v) < 1e-10  # all 2,000 rows, true kernel


def test_auto_keeps_dense_under_the_budget_and_never_builds_m_by_m_above_it():
    X = closure_like(3000)
    assert choose_method(X, 0.001) == "dense"  # 72 MB ≤ 1 GiB: today's numbers stay as they were
    big = choose_method(X, 0.001, memory=1 << 20)
    assert big in ("nufft", "jax") if available("nufft") else big in ("sparse", "stream", "jax")
    assert choose_method(X, 0.001, variable=True, memory=1 << 20) in ("stream", "jax")
    Z = np.random.default_rng(0).standard_normal((3000, 6))  # d > 3, wide kernel: not sparse
    assert choose_method(Z, 1.0, memory=1 << 20) in ("stream", "jax")


def test_sparse_refuses_a_kernel_past_its_memory_budget():
    X = closure_like(2000)
    with pytest.raises(MemoryError, match="sparse kernel needs"):
        sinkhorn_gaussian(X, 0.1, method="sparse", memory=1 << 20)


def test_bad_method_and_inapplicable_paths_are_one_line_errors():
    with pytest.raises(ValueError, match=r"^sinkhorn must be 'auto' or 'dense' or .*, got 'fast'$"):
        Bridge(sinkhorn="fast").check_params()
    with pytest.raises(ValueError, match="needs a constant bandwidth"):
        Bridge(beta=-0.5, sinkhorn="nufft").check_params()
    with pytest.raises(ValueError, match="needs d ≤ 3"):
        sinkhorn_gaussian(np.random.default_rng(0).standard_normal((50, 4)), 0.1, method="nufft")
