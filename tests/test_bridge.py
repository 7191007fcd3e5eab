"""The bridge sampler against seed 000 (Gottwald, Li, Marzouk, Reich)."""

from __future__ import annotations

import numpy as np
import pytest
from genbench_plugins.bridge import Bridge
from scipy.spatial import Delaunay

import genbench
from genbench.conformance.checks import assert_sampler_conforms
from genbench.metrics.memorization import flags_copying
from genbench.numerics.sinkhorn import gaussian_log_kernel, marginal_error, sq_distances


@pytest.fixture(scope="module")
def arc():
    ds = genbench.make_dataset("arc", n_train=2000)
    X = ds.sample(2000, rng=np.random.default_rng(0))
    ref = ds.sample(4000, rng=np.random.default_rng(1))
    return X, ref


def radial_std(Y):
    return float(np.std(np.linalg.norm(Y, axis=1)))


def with_backend(cls, backend):
    """``cls`` checked with another ``backend`` (the conformance checks build ``cls(**checking_params)``)."""
    return type(f"{cls.__name__}_{backend}", (cls,), {"checking_params": {**cls.checking_params, "backend": backend}})


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_bridge_conforms(backend):
    assert_sampler_conforms(with_backend(Bridge, backend))


def test_weights_are_scaled_sinkhorn_weights_and_interpolate():
    """``v_`` solves D(v) T D(v) 1 = 1/M (eq. 6); p(x_i) is row i of M·P (interpolation)."""
    X = np.random.default_rng(0).standard_normal((300, 2))
    s = Bridge(eps=0.05).fit(X, rng=np.random.default_rng(1))
    assert s.v_.shape == (300,) and np.array_equal(s.X_, X)
    log_T = gaussian_log_kernel(sq_distances(X - X.mean(0)), 0.05)
    assert marginal_error(log_T, np.log(s.v_)) < 1e-10
    P = np.exp(log_T + (s.log_v_[:, None] + s.log_v_[None, :]))
    p, _ = s.weights(s.Xc_)
    np.testing.assert_allclose(p, 300 * P, rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("noise", ["isotropic", "data_aware"])
@pytest.mark.parametrize("dim", [2, 3])
def test_split_step_projected_output_stays_in_convex_hull(noise, dim):
    """Lemma 3.1 / eqs. (18b), (19b): m(x) = X p(x) is a convex combination of the data."""
    rng = np.random.default_rng(dim)
    X = rng.standard_normal((150, dim)) * [1.0, 0.3, 2.0][:dim]
    for eps in (0.003, 0.5):  # small ε: noise leaves the hull; large ε: collapse to the middle
        s = Bridge(eps=eps, noise=noise, output="projected", backend="numpy", chains=50, burn_in=20, thin=2)
        Y = s.fit(X, rng=rng).sample(300, rng=rng)
        assert (Delaunay(X).find_simplex(Y) >= 0).all()
    noisy = Bridge(eps=0.5, noise=noise, backend="numpy", chains=50, burn_in=20, thin=2).fit(X, rng=rng)
    assert (Delaunay(X).find_simplex(noisy.sample(300, rng=rng)) < 0).any()  # (19a) is not confined


@pytest.mark.parametrize(
    ("params", "low", "high"),
    [
        ({"noise": "data_aware"}, 0.75, 1.25),  # seed 000 Fig. 1: data-aware noise matches the radius
        ({"noise": "isotropic"}, 1.5, np.inf),  # isotropic noise over-diffuses radially
        ({"noise": "data_aware", "output": "projected"}, 0.0, 0.5),  # (19b) collapses radially
    ],
)
def test_arc_radial_spread(arc, params, low, high):
    """Arc, M = 2,000, ε = 0.009 (seed 000 §6.1); radial std of samples over the data's."""
    X, ref = arc
    s = Bridge(eps=0.009, **params).fit(X, rng=np.random.default_rng(2))
    Y = s.sample(1000, rng=np.random.default_rng(3))
    ratio = radial_std(Y) / radial_std(ref)
    assert low < ratio < high, ratio
    if params.get("output") != "projected":
        assert not flags_copying(genbench.make_metric("memorization")(Y, ref, train=X, rng=np.random.default_rng(0)))


def test_unlocalized_bridge_copies_in_nine_dimensions():
    """gaussian_tridiag d = 9, M = 500, ε = 0.025: the weights collapse onto single training
    points, the chains cannot leave them, and ``memorization`` flags the output (seed 001 §3.1)."""
    ds = genbench.make_dataset("gaussian_tridiag", dim=9, n_train=500)
    X = ds.sample(500, rng=np.random.default_rng(0))
    ref = ds.sample(2000, rng=np.random.default_rng(1))
    Y = Bridge(eps=0.025).fit(X, rng=np.random.default_rng(2)).sample(500, rng=np.random.default_rng(3))
    assert flags_copying(genbench.make_metric("memorization")(Y, ref, train=X, rng=np.random.default_rng(0)))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_conditional_sampling_matches_exact_gaussian_conditional(backend):
    """Section 5: reset z to z* every step; y | z* of a 2-D Gaussian has exact mean and variance."""
    cov = np.array([[1.0, 0.6], [0.6, 0.5]])
    mu = np.array([0.5, -1.0])
    X = np.random.default_rng(0).multivariate_normal(mu, cov, size=2000)
    z = -0.5
    mean_exact = mu[0] + cov[0, 1] / cov[1, 1] * (z - mu[1])
    var_exact = cov[0, 0] - cov[0, 1] ** 2 / cov[1, 1]
    s = Bridge(eps=0.005, backend=backend).fit(X, rng=np.random.default_rng(1))
    Y = s.sample_conditional([z], 2000, rng=np.random.default_rng(2), conditioning=[1])
    assert np.all(Y[:, 1] == z)
    assert abs(Y[:, 0].mean() - mean_exact) < 0.05
    assert abs(Y[:, 0].var() / var_exact - 1) < 0.12


def test_paper_single_chain_layout():
    """Seed 000 §6.2: one chain from a given start, keep every 20th state of the tail."""
    X = np.random.default_rng(0).standard_normal((200, 3))
    s = Bridge(eps=0.05, chains=1, steps=600, burn_in=400, thin=20, start=[1.0, 0.0, 0.0], backend="numpy")
    Y = s.fit(X, rng=np.random.default_rng(1)).sample(10, rng=np.random.default_rng(2))
    assert Y.shape == (10, 3) and np.isfinite(Y).all()
    with pytest.raises(ValueError, match="raise steps or chains"):
        s.sample(11, rng=np.random.default_rng(2))


def test_variants_run_and_backends_agree_in_law(arc):
    """dtau (eqs. 11/15), non-split (13/16) and variable bandwidth (20–22): numpy and jax agree."""
    X, _ = arc
    for params in ({"dtau": 0.009 / 4, "noise": "isotropic"}, {"split_step": False}, {"beta": -0.2}):
        r = [
            radial_std(
                Bridge(eps=0.009, backend=b, chains=200, burn_in=60, thin=1, **params)
                .fit(X, rng=np.random.default_rng(5))
                .sample(200, rng=np.random.default_rng(6))
            )
            for b in ("numpy", "jax")
        ]
        assert abs(r[0] / r[1] - 1) < 0.2, (params, r)


@pytest.mark.parametrize(
    "params",
    [{"eps": 0}, {"noise": "gaussian"}, {"output": "both"}, {"dtau": 0.1}, {"beta": 0.5}, {"thin": 0}],
)
def test_out_of_range_parameters_are_rejected(params):
    with pytest.raises(ValueError):
        Bridge(**params).check_params()
