"""Metrics: closed-form values, floors on identical laws, symmetry, order invariance, NaN with reason."""

from __future__ import annotations

import math

import numpy as np
import pytest

import genbench
from genbench.metrics.marginals import w1_to_uniform
from genbench.metrics.memorization import flags_copying
from genbench.plugins import get_registry

SPEC_METRICS = [
    "sinkhorn",
    "sliced_w2",
    "sliced_w1",
    "energy",
    "mmd",
    "marginal_w1",
    "covariance_error",
    "correlation_error",
    "mode_balance",
    "off_support",
    "circle_c1",
    "circle_c2",
    "transition_rate",
    "memorization",
]


def rng(seed=0):
    return np.random.default_rng(seed)


def metric(name, **params):
    return genbench.make_metric(name, **params)


def test_every_spec_metric_is_registered_with_a_direction():
    registered = get_registry().components["metric"]
    for name in SPEC_METRICS:
        cls = registered[name].obj
        assert isinstance(cls.higher_is_better, bool) or name == "memorization", name
    assert registered["memorization"].obj.higher_is_better is None  # a flag beside accuracy, not a score


# ----------------------------------------------------------------------------- sinkhorn


def test_sinkhorn_agrees_with_pot():
    from scipy.spatial.distance import cdist

    from genbench.metrics.sinkhorn import import_pot

    ot = import_pot()

    x, y = rng(1).standard_normal((150, 3)), rng(2).standard_normal((230, 3)) + 0.3
    value = metric("sinkhorn", reg=0.1)(x, y)
    expected = ot.sinkhorn2(np.full(150, 1 / 150), np.full(230, 1 / 230), cdist(x, y), 0.1, stopThr=1e-6 / np.sqrt(230))
    assert abs(value - float(expected)) <= 1e-6 * abs(float(expected))
    log_value = metric("sinkhorn", reg=0.1, method="sinkhorn_log")(x, y)
    assert abs(log_value - value) <= 1e-6 * value


def test_sinkhorn_of_a_shifted_sample_approaches_the_shift():
    x = rng().standard_normal((300, 1))
    value = metric("sinkhorn", reg=0.01, max_iter=20_000)(x, x + 2.0)
    # W1 = 2 ≤ ⟨P_reg, C⟩ ≤ W1 + reg·(H(P_reg) − H(P_OT)) ≤ W1 + reg·log m
    assert 2.0 - 1e-9 <= value <= 2.0 + 0.01 * math.log(300)


def test_sinkhorn_is_symmetric_and_order_invariant():
    x, y = rng(1).standard_normal((120, 2)), rng(2).standard_normal((90, 2))
    m = metric("sinkhorn")
    v = m(x, y)
    assert v == pytest.approx(m(y, x), rel=1e-6)
    assert v == pytest.approx(m(x[::-1], y[rng().permutation(90)]), rel=1e-6)


def test_sinkhorn_reports_non_convergence_instead_of_a_value():
    x, y = rng(1).standard_normal((200, 2)), rng(2).standard_normal((300, 2)) + 1.0
    value = metric("sinkhorn", reg=0.01, max_iter=50)(x, y)
    assert math.isnan(value) and "did not converge" in value.reason


def test_sinkhorn_reports_kernel_underflow():
    x = rng(1).standard_normal((50, 1))
    value = metric("sinkhorn", reg=0.05, method="sinkhorn")(x, x + 100.0)  # POT: exp(-C/reg) is 0 everywhere
    assert math.isnan(value) and "sinkhorn_log" in value.reason
    assert metric("sinkhorn", reg=0.05, method="sinkhorn_log", max_iter=5000)(x, x + 100.0) >= 100.0 - 1e-9
    # the default method stabilises its kernel on both sides: no underflow at any distance
    assert metric("sinkhorn", reg=0.05)(x, x + 100.0) == pytest.approx(100.0, rel=1e-9)


# ----------------------------------------------------------------------------- 1-D Wasserstein family


def test_sliced_w2_of_a_shift_in_1d_is_the_shift():
    x = rng().standard_normal((500, 1))
    assert metric("sliced_w2")(x, x + 0.7, rng=rng()) == pytest.approx(0.7, rel=1e-12)


def test_marginal_w1_is_the_per_coordinate_shift():
    x = rng().standard_normal((400, 3))
    shifted = x + np.array([0.5, -1.0, 2.0])
    assert metric("marginal_w1")(shifted, x) == pytest.approx(3.5 / 3, rel=1e-12)
    assert metric("marginal_w1", coordinate="max")(shifted, x) == pytest.approx(2.0, rel=1e-12)
    assert metric("marginal_w1", coordinate=-1)(shifted, x) == pytest.approx(2.0, rel=1e-12)
    assert metric("marginal_w1", coordinate=1)(shifted, x[::-1]) == pytest.approx(1.0, rel=1e-12)
    assert math.isnan(metric("marginal_w1", coordinate=5)(x, x))


def test_marginal_w1_between_shifted_gaussians():
    a, b = rng(1).standard_normal((40_000, 1)), rng(2).standard_normal((40_000, 1)) + 0.5
    assert metric("marginal_w1")(a, b) == pytest.approx(0.5, abs=0.02)
    assert metric("sliced_w2", n_projections=4)(a, b, rng=rng()) == pytest.approx(0.5, abs=0.02)


def test_w1_to_uniform_closed_form():
    n = 50
    midpoints = 2 * np.pi * (np.arange(n) + 0.5) / n
    assert w1_to_uniform(midpoints, 0, 2 * np.pi) == pytest.approx(np.pi / (2 * n), rel=1e-12)
    assert w1_to_uniform(np.zeros(10), 0, 1) == pytest.approx(0.5, rel=1e-12)


# ----------------------------------------------------------------------------- energy and MMD


def test_energy_distance_between_point_masses():
    a, b = np.zeros((20, 2)), np.tile([3.0, 4.0], (30, 1))
    assert metric("energy")(a, b) == pytest.approx(10.0, rel=1e-12)  # 2|a − b|
    assert metric("mmd", bandwidth=5.0)(a, b) == pytest.approx(2 - 2 * math.exp(-0.5), rel=1e-12)


def test_energy_and_mmd_are_near_zero_on_identical_laws_and_symmetric():
    x, y = rng(1).standard_normal((600, 3)), rng(2).standard_normal((700, 3))
    far = y + 1.0
    for name in ("energy", "mmd"):
        m = metric(name)
        assert abs(m(x, y)) < 0.1 * m(x, far)
        assert m(x, y) == pytest.approx(m(y, x), rel=1e-9)
        assert m(x, far) == pytest.approx(m(x[::-1], far[rng().permutation(700)]), rel=1e-9)


def test_energy_reference_subsample_is_unbiased():
    x, y = rng(1).standard_normal((100, 2)), rng(2).standard_normal((1500, 2)) + 0.5
    full = metric("energy", max_reference=0)(x, y)
    sub = np.mean([metric("energy", max_reference=300)(x, y, rng=rng(s)) for s in range(30)])
    assert sub == pytest.approx(full, abs=0.01)


# ----------------------------------------------------------------------------- covariance


def test_covariance_error_against_the_exact_sigma():
    ds = genbench.make_dataset("gaussian_tridiag", dim=9)
    sigma = ds.covariance
    x = ds.sample(2000, rng=rng())
    z = x - x.mean(0)
    evals, evecs = np.linalg.eigh(np.cov(z, rowvar=False))
    white = z @ evecs @ np.diag(evals**-0.5) @ evecs.T
    exact = white @ np.linalg.cholesky(sigma).T  # sample covariance exactly Σ
    m = metric("covariance_error")
    assert m(exact, x, dataset=ds) == pytest.approx(0.0, abs=1e-12)
    assert m(2 * exact, x, dataset=ds) == pytest.approx(3.0, rel=1e-12)  # ‖4Σ − Σ‖ / ‖Σ‖
    assert metric("covariance_error", band=1)(2 * exact, x, dataset=ds) == pytest.approx(3.0, rel=1e-12)
    fresh = ds.sample(20_000, rng=rng(5))
    assert m(fresh, x, dataset=ds) < 0.05


def test_covariance_error_uses_the_reference_without_an_exact_covariance():
    x, y = rng(1).standard_normal((5000, 2)), rng(2).standard_normal((5000, 2))
    assert metric("covariance_error")(x, y) < 0.05
    assert metric("covariance_error")(3 * x, y) == pytest.approx(8.0, rel=0.05)
    assert math.isnan(metric("covariance_error", band=4)(x, y))


def _periodic_ar(n, k, rho, seed):
    """Stationary periodic field: z_k = (e_k + ρ e_{k+1}) / sqrt(1 + ρ²); Cov(z_k, z_{k+1}) = ρ / (1 + ρ²)."""
    e = rng(seed).standard_normal((n, k))
    return (e + rho * np.roll(e, -1, axis=1)) / np.sqrt(1 + rho**2)


def test_covariance_rows_measures_the_largest_row_entry_error():
    k = 12
    ref, same = _periodic_ar(20000, k, 0.5, 1), _periodic_ar(20000, k, 0.5, 2)
    m = metric("covariance_rows", coords=k)
    tail = rng(3).standard_normal((20000, 4))  # trailing coordinates (ψ) that the metric must ignore
    assert m(np.hstack([same, 9 * tail]), np.hstack([ref, tail])) < 0.03
    # band 1 is 0.4 for ρ = 0.5, 0 for independent coordinates: the error is 0.4 / variance 1
    white = rng(4).standard_normal((20000, k))
    assert m(white, ref) == pytest.approx(0.4, abs=0.03)
    # a doubled variance errs by 1 × the variance at band 0
    assert m(np.sqrt(2) * same, ref) == pytest.approx(1.0, abs=0.05)
    assert math.isnan(metric("covariance_rows", coords=k + 1)(ref, ref))


# ----------------------------------------------------------------------------- support, modes, circles


def test_off_support_counts_far_points_and_needs_a_support():
    circle = genbench.make_dataset("circle")
    on = circle.sample(100, rng=rng())
    assert metric("off_support")(on, on, dataset=circle) == 0.0
    assert metric("off_support")(3 * on, on, dataset=circle) == 1.0
    mixed = np.concatenate([on[:75], 1.5 * on[75:]])
    assert metric("off_support", delta=0.4)(mixed, on, dataset=circle) == 0.25
    arc = genbench.make_dataset("arc")
    value = metric("off_support")(on, on, dataset=arc)
    assert math.isnan(value) and "support_distance" in value.reason
    assert math.isnan(metric("off_support")(on, on))


def test_mode_balance_is_zero_at_the_true_weights():
    gmm = genbench.make_dataset("gmm")
    counts = (gmm.weights * 1000).astype(int)
    balanced = np.repeat(gmm.means, counts, axis=0)
    m = metric("mode_balance")
    assert m(balanced, balanced, dataset=gmm) == pytest.approx(0.0, abs=1e-12)
    one_mode = np.repeat(gmm.means[:1], 100, axis=0)
    assert m(one_mode, balanced, dataset=gmm) == pytest.approx(np.std([0.5, -0.3, -0.2]), rel=1e-12)
    two = genbench.make_dataset("two_circles")
    assert m(two.sample(4000, rng=rng()), None, dataset=two) < 0.02
    assert math.isnan(m(balanced, balanced, dataset=genbench.make_dataset("arc")))


def test_circle_c2_closed_form():
    circle = genbench.make_dataset("circle")
    n = 40
    theta = 2 * np.pi * (np.arange(n) + 0.5) / n
    on = np.column_stack([np.cos(theta), np.sin(theta)])
    m = metric("circle_c2")
    assert m(on, on, dataset=circle) == pytest.approx(np.pi / (2 * n), rel=1e-9)
    assert m(2 * on, on, dataset=circle) == pytest.approx(1 + np.pi / (2 * n), rel=1e-9)
    two = genbench.make_dataset("two_circles")
    shift = np.array([2.0, 0.0])
    both = np.concatenate([on + shift, on - shift])
    assert m(both, both, dataset=two) == pytest.approx(np.pi / (2 * n), rel=1e-9)
    value = m(on, on, dataset=genbench.make_dataset("arc"))
    assert math.isnan(value) and "uniform" in value.reason


def test_circle_c1_measures_a_rotation_and_copying():
    arc = genbench.make_dataset("arc")
    ref = arc.sample(2000, rng=rng(1))
    c, s = math.cos(0.1), math.sin(0.1)
    rotated = ref @ np.array([[c, s], [-s, c]])
    m = metric("circle_c1")
    assert m(rotated, ref, dataset=arc) == pytest.approx(0.1, rel=1e-9)
    train = arc.sample(50, rng=rng(2))
    copies = train[rng().integers(50, size=2000)]
    assert metric("circle_c1", against="train")(copies, ref, train=train, dataset=arc) < 0.02
    assert metric("circle_c1", against="train")(ref, ref, train=train, dataset=arc) > 0.02
    assert math.isnan(m(ref, ref, dataset=genbench.make_dataset("gmm")))


def test_transition_rate_counts_sign_changes():
    class Paths(genbench.Dataset):
        name = "paths"
        path = True

    paths = np.array([[1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, -1.0, -1.0]])
    ref = np.array([[1.0, 1.0, 1.0, -1.0]])
    assert metric("transition_rate_value")(paths, ref, dataset=Paths()) == pytest.approx(2 / 6)
    assert metric("transition_rate")(paths, ref, dataset=Paths()) == pytest.approx(2 / 6 - 1 / 3, abs=1e-12)
    value = metric("transition_rate")(paths, ref, dataset=genbench.make_dataset("arc"))
    assert math.isnan(value) and "path" in value.reason
    assert get_registry().components["metric"]["transition_rate_value"].obj.higher_is_better is None


# ----------------------------------------------------------------------------- memorization


@pytest.mark.parametrize("noise", [0.0, 1e-3])
def test_memorization_flags_returned_training_points(noise):
    arc = genbench.make_dataset("arc")
    train = arc.sample(500, rng=rng(1))
    ref = arc.sample(2000, rng=rng(2))
    copies = train[rng(3).integers(500, size=1000)] + noise * rng(4).standard_normal((1000, 2))
    assert flags_copying(metric("memorization")(copies, ref, train=train, rng=rng()))
    fresh = arc.sample(1000, rng=rng(5))
    value = metric("memorization")(fresh, ref, train=train, rng=rng())
    assert not flags_copying(value) and 0.8 < value < 1.25


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("sinkhorn", {"reg": 0.0}),
        ("sinkhorn", {"method": "greenkhorn"}),
        ("marginal_w1", {"coordinate": "median"}),
        ("covariance_error", {"band": -1}),
        ("off_support", {"delta": -0.1}),
        ("circle_c1", {"against": "test"}),
        ("mmd", {"bandwidth": -1.0}),
    ],
)
def test_out_of_range_metric_parameters_are_refused(name, params):
    with pytest.raises(genbench.GenbenchError, match=next(iter(params))):
        metric(name, **params)


def test_identical_samples_score_zero_or_the_entropic_floor():
    x = rng().standard_normal((300, 2))
    for name in ("sliced_w2", "marginal_w1"):
        assert metric(name)(x, x[::-1].copy(), rng=rng()) == pytest.approx(0.0, abs=1e-12)
    arc = genbench.make_dataset("arc")
    a = arc.sample(300, rng=rng())
    assert metric("circle_c1")(a, a[::-1].copy(), dataset=arc) == pytest.approx(0.0, abs=1e-12)
    # W1 = 0, so the entropic plan's cost is at most reg·log m
    assert 0.0 <= metric("sinkhorn", reg=0.05, max_iter=50_000)(x, x) <= 0.05 * math.log(300)


def test_one_dimensional_distances_are_symmetric():
    x, y = rng(1).standard_normal((200, 3)), rng(2).standard_normal((300, 3)) * 2
    for name in ("sliced_w2", "marginal_w1"):
        assert metric(name)(x, y, rng=rng(7)) == pytest.approx(metric(name)(y, x, rng=rng(7)), rel=1e-12)


def test_circle_gap_mass_separates_inferring_the_circle_from_copying_and_blurring():
    ds = genbench.make_dataset("circle_grid", n_train=8)
    m = genbench.make_metric("circle_gap_mass")
    rng = np.random.default_rng(0)
    train = ds.sample_train(8, rng=rng)
    ref = ds.sample(2000, rng=rng)
    uniform = m(ds.sample(4000, rng=rng), ref, train=train, dataset=ds)
    assert abs(uniform - 0.5) < 0.03  # uniform on the circle: half of it lies between the training angles
    copies = train[rng.integers(0, 8, 4000)] + 0.001 * rng.normal(size=(4000, 2))
    assert m(copies, ref, train=train, dataset=ds) == 0.0  # a copier of the 8 points
    blur = m(rng.normal(size=(4000, 2)), ref, train=train, dataset=ds)
    assert blur < 0.1  # spread everywhere, mostly off the circle: not "inferring the circle"
    assert np.isnan(m(rng.normal(size=(50, 3)), ref, train=train, dataset=ds))  # 3-D points: NaN with a reason
    gauss = genbench.make_dataset("gauss_pair")
    assert np.isnan(m(rng.normal(size=(50, 2)), ref, train=train, dataset=gauss))  # not a circle dataset


def test_between_mass_counts_only_the_corridor_between_two_circles():
    ds = genbench.make_dataset("two_circles")  # unit circles at (±2, 0): the corridor is |x| < 0.95, |y| ≤ 1
    m = metric("between_mass")
    data = ds.sample(4000, rng=rng(1))
    assert m(data, data, dataset=ds) == 0.0
    bridge = np.column_stack([rng(2).uniform(-0.9, 0.9, 1000), rng(3).uniform(-0.9, 0.9, 1000)])
    inside = np.column_stack([rng(4).uniform(1.6, 2.4, 1000), rng(5).uniform(-0.4, 0.4, 1000)])  # in a disc
    outside = np.column_stack([rng(6).uniform(-0.9, 0.9, 1000), rng(7).uniform(1.5, 3.0, 1000)])  # above
    assert m(np.vstack([data[:1000], bridge]), data, dataset=ds) == pytest.approx(0.5)
    assert m(np.vstack([inside, outside]), data, dataset=ds) == 0.0
    assert metric("off_support")(np.vstack([inside, outside]), data, dataset=ds) > 0.9  # off_support counts them
    assert math.isnan(m(data, data, dataset=genbench.make_dataset("circle_grid")))
