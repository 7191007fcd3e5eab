"""The localized bridge sampler against seed 001 (Gottwald & Reich), §3."""

from __future__ import annotations

import numpy as np
import pytest
from genbench_plugins.bridge import Bridge
from genbench_plugins.localized_bridge import LocalizedBridge, neighbourhoods_eq57, neighbourhoods_window

import genbench
from genbench.conformance.checks import assert_sampler_conforms
from genbench.metrics.memorization import flags_copying
from genbench.numerics.sinkhorn import gaussian_log_kernel, marginal_error, sq_distances
from tests.test_bridge import with_backend

EXACT_RATIO = 0.2679  # Σ_i,i+1 / Σ_ii for Σ⁻¹ = I − Δ_h (seed 001, eq. 28)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_localized_bridge_conforms(backend):
    assert_sampler_conforms(with_backend(LocalizedBridge, backend))


def test_windows_are_periodic_and_clip_to_d():
    assert neighbourhoods_window(9, 2)[0] == [0, 1, 2, 7, 8]
    assert neighbourhoods_window(9, 1)[4] == [3, 4, 5]  # eq. (33), d_α = 3
    assert neighbourhoods_window(3, 2) == [[0, 1, 2]] * 3
    assert neighbourhoods_window(1, 2) == [[0]]


def test_eq57_neighbourhoods_are_the_previous_and_current_state_without_wrapping():
    """Seed 001 eq. (57): Λ(α) = {α − 1, α} (s = 1), Λ(0) = {0}; blocks of s for s > 1."""
    assert neighbourhoods_eq57(5) == [[0], [0, 1], [1, 2], [2, 3], [3, 4]]
    assert neighbourhoods_eq57(6, s=2) == [[0, 1], [0, 1], [0, 1, 2, 3], [0, 1, 2, 3], [2, 3, 4, 5], [2, 3, 4, 5]]
    assert all(4 not in h for h in neighbourhoods_eq57(5)[:4])  # the last state never wraps onto the first
    with pytest.raises(ValueError, match="multiple"):
        neighbourhoods_eq57(5, s=2)


def test_eq57_preset_equals_its_explicit_list():
    X = np.cumsum(np.random.default_rng(0).standard_normal((120, 7)), axis=1)
    kw = {"eps": 0.05, "chains": 10, "burn_in": 5, "thin": 1, "backend": "numpy"}
    a = LocalizedBridge(neighbourhoods="eq57", **kw).fit(X, rng=np.random.default_rng(1))
    b = LocalizedBridge(neighbourhoods=neighbourhoods_eq57(7), **kw).fit(X, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.idx_, b.idx_)
    draw = [s.sample(10, rng=np.random.default_rng(2)) for s in (a, b)]
    np.testing.assert_array_equal(*draw)
    with pytest.raises(ValueError, match="eq57"):
        LocalizedBridge(neighbourhoods="eq58").fit(X, rng=np.random.default_rng(1))
    assert genbench.make_sampler("localized_bridge", neighbourhoods="eq57").neighbourhoods == "eq57"


def test_one_sinkhorn_per_coordinate_with_interpolation_property():
    """v_ is (d, M); each v_α solves eq. (36)'s problem; w_α(x_[α]^i) = M (P_α)_i (eq. 39)."""
    X = np.random.default_rng(0).standard_normal((200, 6))
    s = LocalizedBridge(eps=0.05, radius=1, backend="numpy").fit(X, rng=np.random.default_rng(1))
    assert s.v_.shape == (6, 200) and np.array_equal(s.X_, X)
    for a, hood in enumerate(neighbourhoods_window(6, 1)):
        loc = s.Xs_[:, hood]
        log_T = gaussian_log_kernel(sq_distances(loc), 0.05)
        assert marginal_error(log_T, s.log_v_[a]) < 1e-10
        P = np.exp(log_T + (s.log_v_[a][:, None] + s.log_v_[a][None, :]))
        logits = gaussian_log_kernel(sq_distances(loc, loc), 0.05) + s.log_v_[a]
        w = np.exp(logits - logits.max(1, keepdims=True))
        w /= w.sum(1, keepdims=True)
        np.testing.assert_allclose(w, 200 * P, rtol=1e-8, atol=1e-14)


def test_full_neighbourhoods_reduce_to_the_unlocalized_bridge():
    """Λ(α) = {1..d} for every α: m_loc = m of seed 000 (eq. 40 with X_[α] = X)."""
    X = np.random.default_rng(0).standard_normal((150, 3))
    loc = LocalizedBridge(eps=0.1, radius=5, backend="numpy").fit(X, rng=np.random.default_rng(1))
    full = Bridge(eps=0.1, backend="numpy").fit(X, rng=np.random.default_rng(1))
    Y = np.random.default_rng(2).standard_normal((40, 3))
    p, _ = full.weights(Y)
    np.testing.assert_allclose(loc.m_loc(Y), p @ full.Xc_, rtol=1e-9, atol=1e-12)


def test_explicit_neighbourhoods_and_block_scaling():
    """Seed 001 §5.1: Λ(α) as a list; z and ψ blocks divided by their pooled std."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.standard_normal((300, 2)), 0.01 * rng.standard_normal((300, 2))]
    hoods = [[0, 2], [1, 3], [0, 2], [1, 3]]
    s = LocalizedBridge(eps=0.05, neighbourhoods=hoods, scale=[0, 0, 1, 1], chains=50, burn_in=20, thin=2)
    Y = s.fit(X, rng=rng).sample(100, rng=rng)
    assert np.allclose(s.scale_[2:], 0.01, rtol=0.2) and Y.shape == (100, 4)
    assert 0.5 < Y[:, 2:].std() / X[:, 2:].std() < 1.5  # the small block keeps its own scale
    with pytest.raises(ValueError, match="neighbourhood"):
        LocalizedBridge(neighbourhoods=[[0], [7], [2], [3]]).fit(X, rng=rng)


@pytest.fixture(scope="module")
def tridiag_runs():
    """Seed 001 Fig. 1: localized, M = 500, ε = 0.025, r = 2 (d_α = 5), at d = 9 and d = 101."""
    out = {}
    for d, chains in ((9, 2000), (101, 300)):
        ds = genbench.make_dataset("gaussian_tridiag", dim=d, n_train=500)
        X = ds.sample(500, rng=np.random.default_rng(0))
        ref = ds.sample(2000, rng=np.random.default_rng(1))
        s = LocalizedBridge(eps=0.025, radius=2, chains=chains, burn_in=150, thin=1)
        Y = s.fit(X, rng=np.random.default_rng(2)).sample(chains, rng=np.random.default_rng(3))
        C = np.cov(Y, rowvar=False)
        diag = float(np.mean(np.diag(C)))
        off = float(np.mean([C[i, (i + 1) % d] for i in range(d)]))
        mem = genbench.make_metric("memorization")(Y, ref, train=X, rng=np.random.default_rng(0))
        out[d] = (diag, off / diag, mem)
    return out


@pytest.mark.parametrize("d", [9, 101])
def test_localized_recovers_the_correlation_shape(tridiag_runs, d):
    _, ratio, mem = tridiag_runs[d]
    assert abs(ratio / EXACT_RATIO - 1) < 0.15, ratio
    assert not flags_copying(mem), mem


def test_localized_variance_does_not_depend_on_dimension(tridiag_runs):
    """Σ_ii at d = 101 within 10 % of d = 9. (Both ~45 % below 0.577: finite M, see SPEC §5.)"""
    assert abs(tridiag_runs[101][0] / tridiag_runs[9][0] - 1) < 0.10
