"""DMPS (seed 002): circle spectrum, mixture accuracy, mass transport between modes, divergence guard."""

from __future__ import annotations

import genbench_plugins.dmps as dmps_module
import numpy as np
import pytest
from genbench_plugins.dmps import DMPS

from .conftest import mixture_errors


def mode_weights(ds, Y):
    return np.bincount(ds.component(Y), minlength=3) / len(Y)


@pytest.fixture(scope="module")
def circle():
    theta = np.random.default_rng(0).uniform(0, 2 * np.pi, 500)
    return np.column_stack([np.cos(theta), np.sin(theta)])


@pytest.fixture(scope="module")
def gmm_fit(gmm):
    ds, X = gmm
    return ds, X, DMPS().fit(X, rng=np.random.default_rng(1))


def pair_ratios(g):
    """Means of consecutive eigenvalue pairs (cos/sin modes), relative to the first pair."""
    pairs = g[:8].reshape(4, 2).mean(1)
    return pairs / pairs[0]


def test_generator_spectrum_on_the_circle_is_laplace_beltrami(circle):
    """−L_ε = 2(I − P)/ε at small ε: eigenvalue pairs in ratios 1, 4, 9, 16 (seed 002's limit)."""
    s = DMPS(eps=0.005).fit(circle, rng=np.random.default_rng(0))
    np.testing.assert_allclose(pair_ratios(s.generator_eigenvalues()), [1, 4, 9, 16], rtol=0.10)


def test_generator_on_gaussian_data_is_ornstein_uhlenbeck_and_outlier_modes_are_cut():
    """On N(0, 1) data −L has eigenvalues 1, 2, 3 (absolute, which fixes the factor 2 in
    L_ε = 2(P − I)/ε); modes on single tail points (eigenvalue ≈ 0) are cut by ``min_support``."""
    X = np.random.default_rng(1).standard_normal((1000, 1))
    s = DMPS(eps=0.02).fit(X, rng=np.random.default_rng(0))
    kept = 2.0 * (1.0 - s.lam_) / s.eps_
    np.testing.assert_allclose(kept[:2], [1.0, 2.0], rtol=0.10)
    spurious = s.generator_eigenvalues() < 0.5  # below the smallest true eigenvalue, 1
    assert spurious.sum() == 2 and np.all(s.support_[spurious] < 2)
    assert not np.isin(s.eigenvalues_[spurious], s.lam_).any()


def test_log_generator_at_the_default_eps_matches_too(circle):
    """At the default ε (0.16) (1 − λ) is far from linear in k², −log λ / ε is not (3.9, 8.9, 15.5)."""
    s = DMPS().fit(circle, rng=np.random.default_rng(0))
    log_gen = -np.log(s.eigenvalues_[:8])  # the four leading pairs (the tail may hold eigenvalues ≤ 0)
    np.testing.assert_allclose(pair_ratios(log_gen), [1, 4, 9, 16], rtol=0.10)
    assert pair_ratios(s.generator_eigenvalues())[3] < 12  # the first-order generator saturates


def test_uses_a_truncated_eigendecomposition(gmm_fit):
    _, _, s = gmm_fit
    assert len(s.eigenvalues_) == s.n_modes
    assert np.all(s.lam_ >= s.min_eigenvalue) and np.all(s.lam_ < 1)


def test_from_training_points_keeps_weights_and_covariance(gmm_fit):
    ds, _, s = gmm_fit
    Y = s.sample(600, rng=np.random.default_rng(2))
    assert np.abs(mode_weights(ds, Y) - ds.weights).max() < 0.05
    assert mixture_errors(ds, Y)[1] < 0.10  # relative covariance error


def test_from_one_mode_moves_mass_to_the_other_modes(gmm_fit, monkeypatch):
    ds, X, s = gmm_fit
    start = X[ds.component(X) == 0]
    monkeypatch.setattr(dmps_module, "initial_particles", lambda *a, **k: start.copy())
    Y = s.set_params(iterations=200).sample(len(start), rng=np.random.default_rng(2))
    s.set_params(iterations=DMPS().iterations)
    w = mode_weights(ds, Y)
    assert w[1] > 0.2 and w[2] > 0.15, w  # started at (1, 0, 0)
    assert np.abs(w - ds.weights).max() < 0.05, w


def test_from_a_broad_start_no_particle_diverges(gmm_fit):
    _, X, s = gmm_fit
    radius = np.linalg.norm(X - X.mean(0), axis=1).max()
    Y = s.set_params(init="broad").sample(500, rng=np.random.default_rng(3))
    s.set_params(init="train")
    assert np.isfinite(Y).all()
    assert np.linalg.norm(Y - X.mean(0), axis=1).max() < 3 * radius


def test_unguarded_nystrom_weights_blow_up_off_the_data(gmm_fit):
    """Why the guard exists: without the eigenvalue cut the 1/λ_k Nyström factors reach ≫ 1e3."""
    _, X, _ = gmm_fit
    s = DMPS(min_eigenvalue=0.0, n_modes=200).fit(X[:400], rng=np.random.default_rng(1))
    assert (1 / s.lam_).max() > 1e3
