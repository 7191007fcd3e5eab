"""Localized bridge at large M (one large-M Sinkhorn per α) and its conditional sampler (seed 001 §5)."""

from __future__ import annotations

import numpy as np
import pytest
from genbench_plugins.localized_bridge import LocalizedBridge

HOODS = [[0, 2], [1, 3], [0, 2], [1, 3]]  # (z0, z1, ψ0, ψ1): ψ_k depends on z_k only


def closure_pairs(M: int = 2000, seed: int = 0) -> np.ndarray:
    """x = (z, ψ) with ψ_k = 0.6 z_k + 0.5 η_k: p(ψ_k | z) = N(0.6 z_k, 0.25)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((M, 2))
    return np.concatenate([z, 0.6 * z + 0.5 * rng.standard_normal((M, 2))], axis=1)


@pytest.mark.parametrize("path", ["nufft", "jax"])
def test_per_alpha_large_m_fit_matches_the_batched_dense_one(path):
    pytest.importorskip({"nufft": "finufft", "jax": "jax"}[path])
    X = closure_pairs()
    ref = LocalizedBridge(eps=0.005, neighbourhoods=HOODS, sinkhorn="dense").fit(X, rng=np.random.default_rng(1))
    b = LocalizedBridge(eps=0.005, neighbourhoods=HOODS, sinkhorn=path).fit(X, rng=np.random.default_rng(1))
    np.testing.assert_allclose(b.v_, ref.v_, rtol=1e-8)
    np.testing.assert_allclose(b.bias_, ref.bias_, rtol=0, atol=1e-8)
    assert b.diagnostics_["sinkhorn_marginal_error"] < 1e-10
    assert b.sinkhorn_method_.startswith(path)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_conditional_sampler_holds_z_and_draws_psi_given_z(backend):
    """Seed 001 §5: with z reset to z* every step, ψ_k | z* has mean 0.6 z*_k and variance 0.25."""
    if backend == "jax":
        pytest.importorskip("jax")
    X = closure_pairs()
    z_star = np.array([-0.5, 1.0])
    s = LocalizedBridge(eps=0.02, neighbourhoods=HOODS, backend=backend, chains=100, burn_in=200, thin=10)
    Y = s.fit(X, rng=np.random.default_rng(1)).sample_conditional(
        z_star, 1000, rng=np.random.default_rng(2), conditioning=[0, 1]
    )
    assert np.all(Y[:, :2] == z_star)
    np.testing.assert_allclose(Y[:, 2:].mean(axis=0), 0.6 * z_star, atol=0.07)  # unconditioned: 0.3 / 0.6 off
    ratio = Y[:, 2:].var(axis=0) / 0.25
    assert np.all((ratio > 0.7) & (ratio < 1.15)), ratio  # projected output: m_α smooths, a little below 1


def test_conditioning_defaults_to_the_dataset_and_checks_its_length():
    X = closure_pairs(300)
    s = LocalizedBridge(eps=0.05, neighbourhoods=HOODS, backend="numpy", chains=10, burn_in=5, thin=1)
    s.fit(X, rng=np.random.default_rng(0))
    Y = s.sample_conditional([0.1, 0.2], 20, rng=np.random.default_rng(1))  # no dataset: the last two
    assert np.all(Y[:, 2:] == [0.1, 0.2])
    with pytest.raises(ValueError, match="z_star has 1 values for 2 conditioning coordinates"):
        s.sample_conditional([0.1], 5, rng=np.random.default_rng(1), conditioning=[0, 1])
    with pytest.raises(ValueError, match=r"must lie in 0\.\.3"):
        s.sample_conditional([0.1], 5, rng=np.random.default_rng(1), conditioning=[7])


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_each_chain_can_carry_its_own_z_star(backend):
    """A (chains, k) z* conditions chain i on row i (seed 000 eq. (29) runs many surrogate paths at once)."""
    if backend == "jax":
        pytest.importorskip("jax")
    from genbench_plugins.bridge import Bridge

    X = closure_pairs()
    z_star = np.array([[-1.0, 0.0], [1.0, 0.5], [0.0, -1.0]] * 20)  # 60 chains
    for s in (
        LocalizedBridge(eps=0.02, neighbourhoods=HOODS, backend=backend, steps=60, burn_in=59, thin=1),
        Bridge(eps=0.02, backend=backend, steps=60, burn_in=59, thin=1),
    ):
        Y = s.fit(X, rng=np.random.default_rng(0)).sample_conditional(
            z_star, 60, rng=np.random.default_rng(1), conditioning=[0, 1]
        )
        assert np.all(Y[:, :2] == z_star)  # one state per chain, in chain order
        for k in range(3):  # ψ follows its own chain's z*: means 0.6 z*, within the spread of 20 draws
            np.testing.assert_allclose(Y[k::3, 2:].mean(axis=0), 0.6 * z_star[k], atol=0.3)
    with pytest.raises(ValueError, match="not a multiple"):
        s.sample_conditional(z_star, 50, rng=np.random.default_rng(1), conditioning=[0, 1])
