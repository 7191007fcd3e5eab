"""The shared KDE numerics (genbench.numerics.kde): score, log-density, weights, bandwidth rules."""

from __future__ import annotations

import numpy as np
import pytest

import genbench
from genbench.numerics import kde
from genbench.numerics.sinkhorn import sq_distances

from .conftest import mixture_moments


def test_kde_score_matches_finite_differences_of_log_density():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 3))
    x = 1.5 * rng.standard_normal((20, 3))
    sigma, h = 0.4, 1e-5
    fd = np.stack(
        [
            (kde.kde_log_density(x + h * e, X, sigma) - kde.kde_log_density(x - h * e, X, sigma)) / (2 * h)
            for e in np.eye(3)
        ],
        axis=1,
    )
    np.testing.assert_allclose(kde.kde_score(x, X, sigma), fd, rtol=1e-5, atol=1e-6)


def test_kde_log_density_is_normalised_in_1d():
    X = np.array([[-1.0], [0.5], [2.0]])
    grid = np.linspace(-6, 8, 4001)[:, None]
    mass = np.exp(kde.kde_log_density(grid, X, 0.3)).sum() * (grid[1, 0] - grid[0, 0])
    assert mass == pytest.approx(1.0, abs=1e-6)


def test_chunking_does_not_change_the_score(monkeypatch):
    rng = np.random.default_rng(2)
    X, x = rng.standard_normal((50, 2)), rng.standard_normal((37, 2))
    full = kde.kde_score(x, X, 0.3)
    monkeypatch.setattr(kde, "CHUNK_ENTRIES", 100)  # two query points per chunk
    np.testing.assert_allclose(kde.kde_score(x, X, 0.3), full, rtol=1e-12, atol=1e-12)


def test_weights_stay_finite_far_from_the_data():
    X = np.array([[0.0, 0.0], [1.0, 0.0]])
    w = kde.softmax_weights(np.array([[1e4, 0.0], [-1e4, 5.0]]), X, 1e-3)
    np.testing.assert_allclose(w, [[0.0, 1.0], [1.0, 0.0]])
    s = kde.kde_score(np.array([[50.0, 0.0]]), X, 0.1)
    np.testing.assert_allclose(s, [[(1.0 - 50.0) / 0.01, 0.0]])


def test_median_offdiag_matches_numpy():
    rng = np.random.default_rng(3)
    for n in (2, 3, 8, 51):
        x = rng.standard_normal((n, 2))
        H = sq_distances(x)
        assert kde.median_offdiag(H) == pytest.approx(np.median(H[np.triu_indices(n, 1)]))


def test_bandwidth_rules(gmm):
    _, X = gmm
    M, d = X.shape
    s = np.sqrt(np.var(X, axis=0, ddof=1).mean())
    assert kde.bandwidth(X, "scott") == pytest.approx(M ** (-1 / 6) * s)
    assert kde.bandwidth(X, "silverman") == pytest.approx((M * (d + 2) / 4) ** (-1 / 6) * s)
    assert kde.bandwidth(X, "median") ** 2 == pytest.approx(kde.median_sq_dist(X) / (2 * np.log(M)))
    assert kde.bandwidth(X, 0.25) == 0.25
    with pytest.raises(ValueError, match="bandwidth"):
        kde.check_bandwidth("scot")
    with pytest.raises(ValueError, match="bandwidth"):
        kde.check_bandwidth(-1.0)


def test_median_heuristic_oversmooths_the_mixture_more_than_scott(gmm):
    """The KDE's covariance is Cov(X) + σ² I; on the 3-mode gmm the median rule inflates it ~2.5× more."""
    ds, X = gmm
    _, cov = mixture_moments(ds)

    def err(rule):
        c = np.cov(X, rowvar=False) + kde.bandwidth(X, rule) ** 2 * np.eye(2)
        return np.linalg.norm(c - cov) / np.linalg.norm(cov)

    assert err("median") > 0.2 > 0.12 > err("scott")


def test_initial_particles():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((10, 2))
    x = kde.initial_particles(X, 10, rng=rng)
    assert sorted(map(tuple, x)) == sorted(map(tuple, X))  # without replacement, no jitter
    assert kde.initial_particles(X, 25, rng=rng, jitter=0.1).shape == (25, 2)
    b = kde.initial_particles(X, 5000, rng=rng, init="broad")
    np.testing.assert_allclose(b.mean(0), X.mean(0), atol=0.1)


class _MeanShift(kde.ScoreParams, genbench.Sampler):
    """A new score-driven sampler written only against the shared helper (no copy of it)."""

    name = "mean_shift_test"

    def __init__(self, score="kde", bandwidth="scott", init="train", steps=5):
        self.score = score
        self.bandwidth = bandwidth
        self.init = init
        self.steps = steps

    def check_params(self):
        super().check_params()
        self.check_score_params()

    def fit(self, X, *, rng, dataset=None):
        self.check_params()
        self.fit_score(X, dataset)
        return self

    def sample(self, n, *, rng):
        x = kde.initial_particles(self.X_, n, rng=rng, init=self.init, jitter=self.sigma_)
        for _ in range(self.steps):
            x = x + 0.1 * self.sigma_**2 * self.score_at(x)
        return x


def test_score_params_mixin_gives_a_new_sampler_the_score_and_its_checks(gmm):
    ds, X = gmm
    rng = np.random.default_rng(5)
    s = _MeanShift().fit(X, rng=rng)
    x = rng.standard_normal((7, 2))
    np.testing.assert_allclose(s.score_at(x), kde.kde_score(x, X, kde.bandwidth(X, "scott")))
    assert s.required_capabilities() == frozenset()
    assert s.sample(11, rng=rng).shape == (11, 2)
    oracle = _MeanShift(score="exact")
    assert oracle.required_capabilities() == frozenset({"score"})
    oracle.fit(X, rng=rng, dataset=ds)
    np.testing.assert_allclose(oracle.score_at(x), ds.score(x))
    with pytest.raises(ValueError, match="exact score"):
        _MeanShift(score="exact").fit(X, rng=rng, dataset=None)
    for bad, match in (({"score": "kernel"}, "score must be"), ({"init": "wide"}, "init must be")):
        with pytest.raises(ValueError, match=match):
            _MeanShift(**bad).fit(X, rng=rng)
