"""Datasets of the source papers: closed-form moments and densities, reproducibility, shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import gammaln

import genbench
from genbench.metrics.paths import sign_change_rate
from genbench.plugins import get_registry

PAPER_DATASETS = [
    "arc",
    "hypersemisphere",
    "circle",
    "two_circles",
    "swiss_roll",
    "gapped_swiss_roll",
    "disc3d",
    "gmm",
    "gauss_pair",
    "unequal_pair",
    "circle_grid",
    "gaussian_tridiag",
    "bistable_path",
    "lorenz63_closure",
    "lorenz96_closure",
]
# Small, fast settings per dataset, and the dimension each should produce.
FAST = {
    "bistable_path": ({"n_steps": 4, "obs_dt": 1.0}, 5),
    "lorenz63_closure": ({"n_paths": 8, "burn_in": 0.05}, 2),
    "lorenz96_closure": ({"burn_in": 0.5}, 24),
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENBENCH_CACHE", str(tmp_path / "cache"))


def rng(seed=0):
    return np.random.default_rng(seed)


def test_every_paper_dataset_is_registered():
    registered = set(get_registry().components["dataset"])
    assert set(PAPER_DATASETS) <= registered


@pytest.mark.parametrize("name", PAPER_DATASETS)
def test_sample_is_reproducible_and_fresh(name):
    params, _ = FAST.get(name, ({}, None))
    ds = genbench.make_dataset(name, **params)
    a = ds.sample(40, rng=rng(1))
    b = genbench.make_dataset(name, **params).sample(40, rng=rng(1))
    c = ds.sample(40, rng=rng(2))
    assert a.shape == b.shape and a.ndim == 2 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    ("name", "params", "dim"),
    [
        ("arc", {}, 2),
        *[("hypersemisphere", {"dim": d}, d) for d in (2, 3, 4, 9, 20)],
        ("circle", {}, 2),
        ("two_circles", {}, 2),
        ("swiss_roll", {"dim": 2}, 2),
        ("swiss_roll", {"dim": 3}, 3),
        ("gapped_swiss_roll", {"dim": 2}, 2),
        ("disc3d", {}, 3),
        ("gmm", {"dim": 1}, 1),
        ("gmm", {"dim": 2}, 2),
        *[("gaussian_tridiag", {"dim": d}, d) for d in (3, 9, 101)],
        ("bistable_path", {"n_steps": 7, "obs_dt": 0.5}, 8),
        ("lorenz96_closure", {"n_slow": 5, "n_fast": 3, "burn_in": 0.1}, 10),
    ],
)
def test_shapes_for_every_dim(name, params, dim):
    x = genbench.make_dataset(name, **params).sample(13, rng=rng())
    assert x.shape == (13, dim)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("hypersemisphere", {"dim": 1}, "dim"),
        ("hypersemisphere", {"stretch": 0.0}, "stretch"),
        ("two_circles", {"separation": 0.5}, "separation"),
        ("gapped_swiss_roll", {"gap_start": 0.7, "gap_end": 0.6}, "gap_start"),
        ("gaussian_tridiag", {"dim": 2}, "dim"),
        ("bistable_path", {"dt": 10.0}, "dt"),
        ("lorenz63_closure", {"obs_dt": 0.1, "dt": 3e-6}, "obs_dt"),
        ("lorenz96_closure", {"n_slow": 3}, "n_slow"),
    ],
)
def test_out_of_range_parameters_are_refused(name, params, message):
    with pytest.raises(genbench.GenbenchError, match=message):
        genbench.make_dataset(name, **params)


# ----------------------------------------------------------------------------- manifolds


def test_arc_radius_and_angle_moments():
    x = genbench.make_dataset("arc").sample(40_000, rng=rng())
    r, theta = np.hypot(x[:, 0], x[:, 1]), np.arctan2(x[:, 1], x[:, 0])
    assert abs(r.mean() - 1.0) < 0.002 and abs(r.std() - 0.06) < 0.002
    assert abs(theta.mean() - np.pi / 4) < 0.01 and abs(theta.std() - 0.6) < 0.01


def test_arc_log_prob_integrates_to_one_and_score_is_its_gradient():
    ds = genbench.make_dataset("arc")
    g = np.linspace(-1.6, 1.6, 800)  # even: the origin (r = 0) is not a node
    xx, yy = np.meshgrid(g, g)
    p = np.exp(ds.log_prob(np.column_stack([xx.ravel(), yy.ravel()])))
    assert abs(p.sum() * (g[1] - g[0]) ** 2 - 1.0) < 1e-3
    x = ds.sample(50, rng=rng())
    h = 1e-6
    fd = np.column_stack([(ds.log_prob(x + h * e) - ds.log_prob(x - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(ds.score(x), fd, rtol=1e-5, atol=1e-4)


def _sphere_area(k):
    """Surface area of the unit sphere S^k in R^{k+1}."""
    return 2 * math.exp(((k + 1) / 2) * math.log(math.pi) - gammaln((k + 1) / 2))


@pytest.mark.parametrize(("dim", "half"), [(2, False), (3, False), (4, False), (9, False), (3, True)])
def test_hypersemisphere_density_is_normalised_and_matches_the_sampler(dim, half):
    ds = genbench.make_dataset("hypersemisphere", dim=dim, half=half)
    x = ds.sample(100_000, rng=rng())
    r = np.linalg.norm(x, axis=1)
    assert r.min() >= 1.0 and r.max() <= 1.01  # unit norm within the radial noise
    assert abs(r.mean() - 1.005) < 1e-4  # U(0, 0.01) radial perturbation
    if half:
        assert (x[:, -1] >= 0).all()
    # The density depends on u only through t = u_d (Λ = diag(1, …, 1, α²)): integrate over the
    # polar angle φ (t = cos φ) with the area |S^{d−2}| sin^{d−2} φ of each latitude.
    phi = np.linspace(0, np.pi, 200_001)
    radius = 1.004
    pts = np.zeros((len(phi), dim))
    pts[:, 0], pts[:, -1] = radius * np.sin(phi), radius * np.cos(phi)
    p_u = np.exp(ds.log_prob(pts)) * 0.01 * radius ** (dim - 1)  # undo the radial factor
    weight = p_u * _sphere_area(dim - 2) * np.sin(phi) ** (dim - 2)
    assert abs(np.trapezoid(weight, phi) - 1.0) < 1e-4  # (the half sphere's density jumps at the rim)
    # E[u_d²] under the sampler equals its value under the closed-form density
    assert abs((x[:, -1] ** 2 / r**2).mean() - np.trapezoid(weight * np.cos(phi) ** 2, phi)) < 0.005


def test_hypersemisphere_support_distance():
    ds = genbench.make_dataset("hypersemisphere", dim=4, half=True)
    assert ds.support_distance(ds.sample(500, rng=rng())).max() == 0.0
    np.testing.assert_allclose(ds.support_distance([[0, 0, 0, 2.0], [0, 0, 0, 0.5]]), [0.99, 0.5])
    np.testing.assert_allclose(ds.support_distance([[1.0, 0, 0, -0.3]]), [0.3])  # below the rim


def test_circle_is_uniform_on_its_radius():
    ds = genbench.make_dataset("circle", radius=2.0)
    x = ds.sample(50_000, rng=rng())
    np.testing.assert_allclose(np.hypot(x[:, 0], x[:, 1]), 2.0)
    theta = np.arctan2(x[:, 1], x[:, 0])
    assert abs(np.cos(theta).mean()) < 0.02 and abs(np.sin(theta).mean()) < 0.02
    assert abs(np.cos(2 * theta).mean()) < 0.02
    np.testing.assert_allclose(ds.support_distance([[0, 3.0], [0.5, 0]]), [1.0, 1.5])


def test_two_circles_split_evenly_with_exact_support_distance():
    ds = genbench.make_dataset("two_circles")
    x = ds.sample(20_000, rng=rng())
    assert abs(ds.component(x).mean() - 0.5) < 0.02
    assert ds.support_distance(x).max() < 1e-12
    np.testing.assert_allclose(ds.support_distance([[0.0, 0.0], [2.0, 0.0], [3.5, 0], [4.5, 0]]), [1.0, 1.0, 0.5, 1.5])


@pytest.mark.parametrize("name", ["swiss_roll", "gapped_swiss_roll"])
def test_swiss_roll_support_distance_is_exact(name):
    ds = genbench.make_dataset(name, dim=3, scale=0.5)
    x = ds.sample(2000, rng=rng())
    assert ds.support_distance(x).max() < 1e-9
    # a step of δ along the spiral's normal (and inside the height range) is at distance δ
    t = np.linspace(5.0, 14.0, 40)
    t = t[(t < 1.5 * np.pi + 0.4 * 3 * np.pi - 0.1) | (t > 1.5 * np.pi + 0.6 * 3 * np.pi + 0.1)]
    c = np.column_stack([t * np.cos(t), t * np.sin(t)])
    tangent = np.column_stack([np.cos(t) - t * np.sin(t), np.sin(t) + t * np.cos(t)])
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]]) / np.linalg.norm(tangent, axis=1)[:, None]
    p = c + 0.4 * normal
    pts = 0.5 * np.column_stack([p[:, 0], np.full(len(t), 25.0), p[:, 1]])  # 4 above the top edge
    np.testing.assert_allclose(ds.support_distance(pts), 0.5 * np.hypot(0.4, 4.0), rtol=1e-9)


def test_gapped_swiss_roll_leaves_its_gap_empty():
    ds = genbench.make_dataset("gapped_swiss_roll", dim=2, gap_start=0.4, gap_end=0.6)
    x = ds.sample(20_000, rng=rng())
    u = (np.hypot(x[:, 0], x[:, 1]) / (1.5 * np.pi) - 1) / 2  # t = |x| on the spiral
    assert not ((u > 0.4 + 1e-9) & (u < 0.6 - 1e-9)).any()
    assert abs((u < 0.4).mean() - 0.5) < 0.02  # uniform on the remaining 80 %
    full = genbench.make_dataset("swiss_roll", dim=2)
    gap_point = full.sample(20_000, rng=rng())
    t = np.hypot(gap_point[:, 0], gap_point[:, 1])
    inside = gap_point[(t > 1.5 * np.pi * (1 + 2 * 0.45)) & (t < 1.5 * np.pi * (1 + 2 * 0.55))]
    assert (ds.support_distance(inside) > 0).all()


def test_disc3d_is_uniform_on_a_tilted_disc():
    ds = genbench.make_dataset("disc3d", tilt=0.7)
    x = ds.sample(40_000, rng=rng())
    normal = np.array([0.0, -np.sin(0.7), np.cos(0.7)])
    assert np.abs(x @ normal).max() < 1e-12
    rho = np.linalg.norm(x, axis=1)
    assert rho.max() <= 1.0 and abs(rho.mean() - 2 / 3) < 0.005  # P(ρ ≤ s) = s²
    np.testing.assert_allclose(ds.support_distance([2 * normal, [0.0, 0.0, 0.0]]), [2.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(ds.support_distance([[3.0, 0.0, 0.0]]), [2.0])


# ----------------------------------------------------------------------------- mixtures, Gaussians


@pytest.mark.parametrize("dim", [1, 2])
def test_gmm_score_is_the_gradient_of_log_prob_and_weights_are_unequal(dim):
    ds = genbench.make_dataset("gmm", dim=dim)
    x = ds.sample(20_000, rng=rng())
    frac = np.bincount(ds.component(x), minlength=3) / len(x)
    np.testing.assert_allclose(frac, ds.weights, atol=0.015)
    assert len(set(ds.weights)) == 3
    h = 1e-6
    pts = x[:50]
    fd = np.column_stack([(ds.log_prob(pts + h * e) - ds.log_prob(pts - h * e)) / (2 * h) for e in np.eye(dim)])
    np.testing.assert_allclose(ds.score(pts), fd, rtol=1e-5, atol=1e-5)


def test_gmm_density_integrates_to_one_in_1d():
    ds = genbench.make_dataset("gmm", dim=1)
    g = np.linspace(-6, 6, 24_001)[:, None]
    assert abs(np.exp(ds.log_prob(g)).sum() * (g[1, 0] - g[0, 0]) - 1.0) < 1e-6


def test_gaussian_tridiag_covariance_is_the_inverse_of_the_periodic_precision():
    ds = genbench.make_dataset("gaussian_tridiag", dim=101)
    cov, prec = ds.covariance, ds.precision
    np.testing.assert_allclose(cov @ prec, np.eye(101), atol=1e-12)
    assert prec[0, 0] == 2.0 and prec[0, 1] == -0.5 and prec[0, 100] == -0.5
    np.testing.assert_allclose([cov[50, 50 + j] for j in range(4)], [0.577, 0.155, 0.042, 0.011], atol=6e-4)
    ten = genbench.make_dataset("gaussian_tridiag", dim=101, scale=10.0)
    np.testing.assert_allclose(ten.covariance, 10 * cov)


def test_gaussian_tridiag_sample_covariance_converges_to_sigma():
    ds = genbench.make_dataset("gaussian_tridiag", dim=9)
    x = ds.sample(200_000, rng=rng())
    np.testing.assert_allclose(np.cov(x, rowvar=False), ds.covariance, atol=0.01)
    h = 1e-6
    fd = (ds.log_prob(x[:5] + h * np.eye(9)[0]) - ds.log_prob(x[:5] - h * np.eye(9)[0])) / (2 * h)
    np.testing.assert_allclose(ds.score(x[:5])[:, 0], fd, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- dynamics


def test_bistable_path_starts_standard_normal_and_reaches_the_invariant_law():
    ds = genbench.make_dataset("bistable_path", n_steps=2, obs_dt=15.0, dt=0.01)
    x = ds.sample(3000, rng=rng())
    assert x.shape == (3000, 3) and ds.path and ds.dim == 3
    assert abs(x[:, 0].mean()) < 0.06 and abs(x[:, 0].std() - 1) < 0.04
    # invariant density ∝ exp(−2V/σ²), V = z⁴/4 − z²/2, σ² = 0.2
    z = np.linspace(-3, 3, 60_001)
    p = np.exp(-(2 / 0.2) * (z**4 / 4 - z**2 / 2))
    second = (z**2 * p).sum() / p.sum()
    assert abs((x[:, -1] ** 2).mean() - second) < 0.02
    assert abs(x[:, -1].mean()) < 0.07  # symmetric wells


def test_bistable_paths_switch_wells_at_a_moderate_rate():
    x = genbench.make_dataset("bistable_path", n_steps=20).sample(200, rng=rng())
    assert 0.02 < sign_change_rate(x) < 0.2  # Kramers: ≈ 8.5 % per Δt = 5 (see the issue note)


def test_lorenz63_pairs_follow_eq_28_and_are_cached(tmp_path):
    ds = genbench.make_dataset("lorenz63_closure", n_paths=4, burn_in=0.05)
    x = ds.sample(40, rng=rng(3))
    assert x.shape == (40, 2) and ds.conditioning == (0,)
    z, psi = x[:10, 0], x[:10, 1]  # the first path's 10 consecutive pairs
    np.testing.assert_allclose(psi[:-1], z[1:] - z[:-1] - z[:-1] * (1 - z[:-1] ** 2) * 0.1, atol=1e-12)
    assert np.abs(x[:, 0]).max() < 2.0 and np.abs(psi).max() < 1.0
    files = list((tmp_path / "cache").glob("lorenz63_closure-*.npy"))
    assert len(files) == 1
    np.testing.assert_array_equal(np.load(files[0]), x)
    other = genbench.make_dataset("lorenz63_closure", n_paths=4, burn_in=0.05, coupling="multiplicative")
    other.sample(40, rng=rng(3))
    assert len(list((tmp_path / "cache").glob("lorenz63_closure-*.npy"))) == 2  # keyed by parameters


def test_cache_is_keyed_by_the_simulation_source_and_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    from genbench_datasets import dynamics

    ds = genbench.make_dataset("bistable_path", n_steps=3)
    calls = []

    def simulate():
        calls.append(1)
        return np.zeros((2, 4))

    dynamics.cached(ds, 7, 2, simulate)
    dynamics.cached(ds, 7, 2, simulate)
    assert len(calls) == 1  # the second call reads the cache
    monkeypatch.setattr(dynamics, "_source_hash", lambda: "edited")
    dynamics.cached(ds, 7, 2, simulate)
    assert len(calls) == 2  # an edited simulation does not reuse the old trajectories

    def failing_save(fh, data):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(dynamics.np, "save", failing_save)
    out = dynamics.cached(ds, 8, 2, simulate)
    assert out.shape == (2, 4) and not list((tmp_path / "cache").glob("*.tmp"))


def test_lorenz96_pairs_follow_eq_61():
    ds = genbench.make_dataset("lorenz96_closure", sample_every=1, burn_in=0.5)
    x = ds.sample(30, rng=rng())
    assert x.shape == (30, 24) and ds.conditioning == tuple(range(12))
    z, psi = x[:, :12], x[:, 12:]
    np.testing.assert_allclose(psi[:-1], (z[1:] - z[:-1]) / 5e-4 - ds.resolved_drift(z[:-1]), atol=1e-8)
    # without coupling (h = 0) ψ is RK4's one-step error: (Δt/2) dG/dt + O(Δt²), dG/dt = J_G(z) G(z)
    free = genbench.make_dataset("lorenz96_closure", sample_every=1, burn_in=0.5, h=0.0)
    xf = free.sample(30, rng=rng())
    zf, eta = xf[:, :12], 1e-6
    g = free.resolved_drift(zf)
    dg = (free.resolved_drift(zf + eta * g) - free.resolved_drift(zf - eta * g)) / (2 * eta)
    np.testing.assert_allclose(xf[:, 12:], 0.5 * 5e-4 * dg, atol=0.02)
    assert np.abs(xf[:, 12:]).max() > 0.1  # so the comparison above is not trivially small


def test_manifolds_suite_lists_the_paper_manifolds_and_metrics():
    from genbench.spec.suite import load_suite, suite_cells

    registry = get_registry()
    suite = load_suite("manifolds", registry)
    assert set(suite.datasets) == {
        "arc",
        "hypersemisphere",
        "circle",
        "two_circles",
        "swiss_roll",
        "gapped_swiss_roll",
        "disc3d",
    }
    assert suite.datasets["hypersemisphere"]["dim"] == [3, 4, 9]
    metrics = {name for name, _ in suite.metrics}
    assert {"sinkhorn", "sliced_w2", "energy", "off_support", "marginal_w1", "memorization"} <= metrics
    assert len(suite_cells(suite, registry)) > 0
