"""Seed 004's own mixtures and 8-point circle, and its sliced W1 metric."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import wasserstein_distance

import genbench
from genbench.evaluation import execute_cell
from genbench.results.schema import Cell


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize(("name", "params"), [("gauss_pair", {"mu": 3.0}), ("unequal_pair", {})])
def test_mixture_score_is_the_gradient_of_log_prob(name, params):
    ds = genbench.make_dataset(name, **params)
    x = ds.sample(50, rng=rng()) + 0.3
    h = 1e-6
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        fd = (ds.log_prob(x + e) - ds.log_prob(x - e)) / (2 * h)
        np.testing.assert_allclose(ds.score(x)[:, j], fd, rtol=1e-5, atol=1e-6)


def test_gauss_pair_has_the_moments_of_half_n_minus_mu_half_n_mu():
    """½N(−μ, 1) + ½N(μ, 1): mean 0, variance μ² + 1, density integrating to one (seed 004, §5.1)."""
    ds = genbench.make_dataset("gauss_pair", mu=50.0)
    x = ds.sample(200_000, rng=rng())
    assert x.shape == (200_000, 1)
    assert abs(x.mean()) < 0.5 and x.var() == pytest.approx(2501.0, rel=0.01)
    assert np.bincount(ds.component(x), minlength=2) / len(x) == pytest.approx([0.5, 0.5], abs=0.01)
    total = sum(quad(lambda t: np.exp(ds.log_prob(np.array([[t]])))[0], a, b)[0] for a, b in ((-60, -40), (40, 60)))
    assert total == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(genbench.GenbenchError, match="mu"):
        genbench.make_dataset("gauss_pair", mu=-1.0)


def test_unequal_pair_keeps_its_weights_but_exact_score_langevin_ends_near_half_half():
    """Seed 004 App. C.3: 0.1 N((−5,−5), I) + 0.9 N((5,−5), I); Langevin dynamics with the exact
    score from U[−7, 7]² cannot cross x = 0 and ends near 0.5/0.5 (Fig. C.4)."""
    ds = genbench.make_dataset("unequal_pair")
    x = ds.sample(100_000, rng=rng())
    assert np.bincount(ds.component(x)) / len(x) == pytest.approx([0.1, 0.9], abs=0.005)
    assert x[ds.component(x) == 0].mean(0) == pytest.approx([-5, -5], abs=0.03)
    g = rng(1)
    y = g.uniform(-7, 7, (4000, 2))
    tau = 0.01
    for _ in range(100):  # T = 1
        y = y + tau * ds.score(y) + np.sqrt(2 * tau) * g.standard_normal(y.shape)
    left = np.mean(ds.component(y) == 0)
    assert 0.4 < left < 0.6  # far from the true weight 0.1
    with pytest.raises(genbench.GenbenchError, match="weight"):
        genbench.make_dataset("unequal_pair", weight=1.5)


def test_circle_grid_trains_on_the_eight_points_and_measures_against_the_circle():
    """Seed 004 §3.2: M_train = {(cos iπ/4, sin iπ/4)}; π uniform on the unit circle."""
    ds = genbench.make_dataset("circle_grid")
    X = ds.sample_train(8, rng=rng(5))
    np.testing.assert_array_equal(X, ds.sample_train(8, rng=rng(6)))  # fixed, whatever the seed
    angles = np.sort(np.mod(np.arctan2(X[:, 1], X[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, np.arange(8) * np.pi / 4, atol=1e-12)
    ref = ds.sample(20_000, rng=rng())
    np.testing.assert_allclose(np.hypot(*ref.T), 1.0)
    assert ds.support_distance(X).max() < 1e-12 and ds.support_distance(2 * ref).min() > 0.99
    assert genbench.make_metric("circle_c1")(ref, ds.sample(20_000, rng=rng(1)), dataset=ds) < 0.03


def test_the_runner_fits_on_the_datasets_training_set():
    """A cell on circle_grid fits on the 8 grid points: a KDE with a tiny bandwidth copies them."""
    cell = Cell(
        suite="t",
        dataset="circle_grid",
        dataset_params={},
        sampler="kde",
        sampler_params={"bandwidth": 1e-4},
        rep=0,
        seed=0,
        n_samples=200,
        n_reference=500,
        metrics=[("memorization", {}), ("off_support", {})],
        timeout=60,
        dataset_config={"n_train": 8},
        sampler_config={"bandwidth": 1e-4},
    )
    res = execute_cell(cell)
    assert res.status == "ok", res.message
    assert res.metrics["memorization"] < 0.05 and res.metrics["off_support"] < 0.05


def test_sliced_w1_is_the_mean_of_scipys_1d_distances_over_the_projections():
    """Seed 004 App. D.1: mean over 100 unit directions of scipy's wasserstein_distance."""
    a, b = rng(1).standard_normal((300, 3)), 2 * rng(2).standard_normal((450, 3)) + 0.5
    metric = genbench.make_metric("sliced_w1")
    assert metric.n_projections == 100 and metric.higher_is_better is False
    theta = rng(7).standard_normal((3, 100))
    theta /= np.linalg.norm(theta, axis=0)
    expected = np.mean([wasserstein_distance(a @ t, b @ t) for t in theta.T])
    assert metric(a, b, rng=rng(7)) == pytest.approx(expected, rel=1e-10)


def test_sliced_w1_of_a_shift_and_of_identical_clouds():
    x = rng().standard_normal((400, 1))
    m = genbench.make_metric("sliced_w1")
    assert m(x, x + 0.7, rng=rng()) == pytest.approx(0.7, rel=1e-12)
    assert m(x, x[::-1].copy(), rng=rng()) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(genbench.GenbenchError, match="n_projections"):
        genbench.make_metric("sliced_w1", n_projections=0)


def test_correlation_error_is_zero_for_the_exact_shape_and_scale_free():
    """Seed 001 Fig. 1: ρ_1 = Σ_i,i+1/Σ_ii = 0.268 for eq. (28), at either reading of Σ."""
    m = genbench.make_metric("correlation_error")
    for scale in (1.0, 10.0):
        ds = genbench.make_dataset("gaussian_tridiag", dim=9, scale=scale)
        x = ds.sample(100_000, rng=rng())
        assert m(x, x[:10], dataset=ds) < 0.01
        assert m(x / 3.0, x[:10], dataset=ds) < 0.01  # a variance error is not a shape error
        white = rng(1).standard_normal((100_000, 9)) * np.sqrt(scale)
        assert m(white, x[:10], dataset=ds) == pytest.approx(0.268, abs=0.01)


def test_radial_spread_is_one_on_fresh_arc_points_and_scales_with_radial_noise():
    """Seed 000 Fig. 1: the arc's radial std is 0.06; doubling it doubles the ratio."""
    arc = genbench.make_dataset("arc")
    ref, x = arc.sample(20_000, rng=rng()), arc.sample(20_000, rng=rng(1))
    m = genbench.make_metric("radial_spread")
    assert m(x, ref, dataset=arc) == pytest.approx(1.0, abs=0.03)
    r = np.hypot(*x.T)[:, None]
    wider = x / r * (1 + 2 * (r - 1))
    assert m(wider, ref, dataset=arc) == pytest.approx(2.0, abs=0.06)
    assert np.isnan(m(rng().standard_normal((50, 3)), ref, dataset=genbench.make_dataset("gmm")))
