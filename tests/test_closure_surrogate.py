"""The closure task (seed 000 eq. (29), seed 001 eq. (62)) and the autocorrelation metric."""

from __future__ import annotations

import numpy as np
import pytest
from genbench_datasets.dynamics import Lorenz63Closure, Lorenz96Closure

from genbench.metrics.paths import Autocorrelation, autocorrelation


def test_autocorrelation_of_an_ar1_series_is_phi_to_the_k():
    rng = np.random.default_rng(0)
    phi, n = 0.8, 200_000
    x = np.empty(n)
    x[0] = 0.0
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.standard_normal()
    acf = autocorrelation(x[:, None], 1, 5)[:, 0]
    np.testing.assert_allclose(acf, phi ** np.arange(6), atol=0.01)


def test_autocorrelation_never_pairs_points_of_two_segments():
    """Two constant segments (+1, −1): inside each, lag-k products are +1; across, −1."""
    x = np.concatenate([np.ones(50), -np.ones(50)])[:, None]
    assert np.allclose(autocorrelation(x, 2, 10)[:, 0], 1.0)
    assert autocorrelation(x, 1, 10)[10, 0] < 0.9  # one series: the boundary products enter
    with pytest.raises(ValueError, match="too short"):
        autocorrelation(x, 10, 10)


class ZeroClosure:
    """A conditional sampler that always draws ψ = 0 (the surrogate is then deterministic)."""

    name = "zero"

    def sample_conditional(self, z_star, n, *, rng, conditioning):
        z_star = np.asarray(z_star)
        out = np.zeros((n, z_star.shape[1] * 2))
        out[:, conditioning] = z_star
        return out


def test_surrogate_rollout_follows_eq_29_path_by_path():
    ds = Lorenz63Closure(surrogate=True, trajectories=4, surrogate_burn_in=3, n_paths=4)
    G = ds.generate(ZeroClosure(), 40, rng=np.random.default_rng(0))
    assert G.shape == (40, 2) and np.all(G[:, 1] == 0.0)
    paths = G[:, 0].reshape(4, 10)  # path by path, in time order
    np.testing.assert_allclose(paths[:, 1:], paths[:, :-1] + ds.drift(paths[:, :-1]) * ds.obs_dt)


def test_l96_surrogate_step_is_eq_62_and_lags_match_time():
    ds = Lorenz96Closure(n_slow=6, surrogate=True, sample_every=5)
    z, psi = np.arange(6.0)[None, :], np.ones((1, 6))
    np.testing.assert_allclose(ds.surrogate_step(z, psi), z + (ds.resolved_drift(z) + psi) * 10 * ds.dt)
    assert ds.lag_stride == 2  # δt = 10 Δt against pairs every 5 Δt


def test_surrogate_task_refuses_a_sampler_without_conditional_sampling():
    class Plain:
        name = "plain"

    with pytest.raises(TypeError, match="plain has no sample_conditional"):
        Lorenz63Closure(surrogate=True).generate(Plain(), 10, rng=np.random.default_rng(0))


def test_autocorrelation_metric_needs_the_surrogate_task():
    x = np.random.default_rng(0).standard_normal((100, 2))
    value = Autocorrelation()(x, x, dataset=Lorenz63Closure())
    assert np.isnan(value) and "surrogate=True" in value.reason
