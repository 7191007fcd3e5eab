"""Symmetric Sinkhorn (seed 000 eqs. (5)–(8), seed 001 eqs. (7)–(11), (19)–(21))."""

from __future__ import annotations

import numpy as np
import pytest

from genbench.numerics.sinkhorn import (
    SinkhornError,
    gaussian_log_kernel,
    log_weights,
    marginal_error,
    sinkhorn_symmetric,
    sq_distances,
    variable_bandwidth,
)


def unit_data(M=300, d=3, seed=0):
    X = np.random.default_rng(seed).standard_normal((M, d))
    return X - X.mean(axis=0)


def coupling(log_T, log_v):
    return np.exp(log_T + (log_v[:, None] + log_v[None, :]))  # a+b commutes exactly: P = Pᵀ


@pytest.mark.parametrize("eps", [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0])
@pytest.mark.parametrize("method", ["auto", "log"])
def test_marginals_are_uniform_to_1e10(eps, method):
    log_T = gaussian_log_kernel(sq_distances(unit_data()), eps)
    res = sinkhorn_symmetric(log_T, method=method)
    M = len(log_T)
    P = coupling(log_T, res.log_v)
    assert np.max(np.abs(M * P.sum(axis=1) - 1)) < 1e-10  # P 1 = 1/M, relative
    assert marginal_error(log_T, res.log_v) < 1e-10
    np.testing.assert_array_equal(P, P.T)  # D(v) T D(v) is symmetric by construction


def test_scaled_and_log_domain_agree():
    log_T = gaussian_log_kernel(sq_distances(unit_data()), 0.01)
    a = sinkhorn_symmetric(log_T, method="scaled")
    b = sinkhorn_symmetric(log_T, method="log")
    assert (a.method, b.method) == ("scaled", "log")
    np.testing.assert_allclose(a.v, b.v, rtol=1e-10)


@pytest.mark.parametrize("eps", [1e-4, 1e-3])
def test_log_fallback_on_dot_product_kernel_gives_same_coupling(eps):
    """Seed 001, Remark 2: T_jk = exp(x_j·x_k/(2ε)) gives the same P as eq. (7), with other v.

    At small ε this kernel spans far more than float64's exponent range: the automatic
    log-domain fallback must take over and still reach the 1e-10 marginals.
    """
    X = unit_data(200)
    log_dot = X @ X.T / (2 * eps)
    res = sinkhorn_symmetric(log_dot, tol=1e-11)  # |log T| ~ 1e4: the log domain's floor is ~1e-12
    assert res.method == "log"
    assert marginal_error(log_dot, res.log_v) < 1e-10
    log_T = gaussian_log_kernel(sq_distances(X), eps)
    ref = sinkhorn_symmetric(log_T)
    assert ref.method == "scaled"
    np.testing.assert_allclose(coupling(log_dot, res.log_v), coupling(log_T, ref.log_v), rtol=1e-8, atol=1e-300)


def test_interpolation_property():
    """p(x_i) = row i of M·P (seed 001, eq. (39)); p(x) from eq. (8)."""
    X = unit_data(250)
    eps = 0.05
    log_T = gaussian_log_kernel(sq_distances(X), eps)
    res = sinkhorn_symmetric(log_T)
    logits = gaussian_log_kernel(sq_distances(X, X), eps) + res.log_v  # out-of-sample formula at x_i
    p = log_weights(logits)
    np.testing.assert_allclose(p, len(X) * coupling(log_T, res.log_v), rtol=1e-9, atol=1e-15)


def test_variable_bandwidth_kernel_is_symmetric_and_normalised():
    """ρ_i = (π_i/Z)^β with mean(π/Z) = 1 (seed 000 eq. (22)); t_ij uses ρ_i + ρ_j (eq. (5))."""
    X = unit_data(200)
    D = sq_distances(X)
    log_rho, _ = variable_bandwidth(D, -0.2, 0.3)
    assert np.isclose(np.mean(np.exp(log_rho / -0.2)), 1.0)  # π̃ = π/Z has mean 1
    rho = np.exp(log_rho)
    log_T = gaussian_log_kernel(D.copy(), 0.01, rho, rho)
    np.testing.assert_array_equal(log_T, log_T.T)
    res = sinkhorn_symmetric(log_T)
    assert marginal_error(log_T, res.log_v) < 1e-10


def test_batched_problems_match_single_ones():
    Xs = [unit_data(120, 2, seed=s) for s in range(3)]
    log_Ts = np.stack([gaussian_log_kernel(sq_distances(X), 0.02) for X in Xs])
    batched = sinkhorn_symmetric(log_Ts)
    for k in range(3):
        np.testing.assert_allclose(batched.v[k], sinkhorn_symmetric(log_Ts[k]).v, rtol=1e-10)


def test_non_convergence_is_reported():
    log_T = gaussian_log_kernel(sq_distances(unit_data()), 1.0)
    with pytest.raises(SinkhornError, match="did not converge"):
        sinkhorn_symmetric(log_T, max_iter=3)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        res = sinkhorn_symmetric(log_T, max_iter=3, on_fail="warn")
    assert not res.converged


def test_far_points_get_finite_weights():
    """Points far from every training point (all t_j underflow) still get a probability vector."""
    X = unit_data(50)
    res = sinkhorn_symmetric(gaussian_log_kernel(sq_distances(X), 1e-4))
    p = log_weights(gaussian_log_kernel(sq_distances(X[:3] + 100.0, X), 1e-4) + res.log_v)
    assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1.0)
