"""The fast ``sinkhorn`` metric (issue 14): Newton–CG on the semi-dual agrees with converged POT."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import genbench
from genbench.metrics.sinkhorn import cuda_device, import_pot
from genbench.numerics.ot import entropic_ot, entropic_self_ot


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def sphere(n: int, d: int, seed: int) -> np.ndarray:
    """Seed 000 §6.2-like data: a stretched Gaussian projected to the unit sphere."""
    z = rng(seed).standard_normal((n, d))
    z[:, -1] *= 5.0
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def converged_pot(x: np.ndarray, y: np.ndarray, reg: float, method: str = "sinkhorn") -> tuple[float, float]:
    """``⟨P, C⟩`` and ``⟨P, C⟩ − reg·h(P)`` of a fully converged POT solve (stopThr 1e-13)."""
    ot = import_pot()
    C = cdist(x, y)
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    P = ot.sinkhorn(a, b, C, reg, method=method, stopThr=1e-13, numItermax=100_000)
    cost = float(np.sum(P * C))
    return cost, cost + reg * float(np.sum(P[P > 0] * np.log(P[P > 0])))


@pytest.fixture(scope="module")
def paper_like():
    """The metric's problem at 1/10 (n) and 1/25 (m) of seed 000's size: 100 vs 2,000 points, d = 9."""
    x = sphere(100, 9, 1) + 0.02 * rng(2).standard_normal((100, 9))
    y = sphere(2000, 9, 3)
    return x, y, converged_pot(x, y, 0.05)


def test_default_value_agrees_with_converged_pot_to_1e_6(paper_like):
    x, y, (cost, entropic) = paper_like
    m = genbench.make_metric("sinkhorn")
    assert (m.method, m.value, m.reg) == ("newton", "cost", 0.05)
    assert m(x, y) == pytest.approx(cost, rel=1e-6)
    assert genbench.make_metric("sinkhorn", value="entropic")(x, y) == pytest.approx(entropic, rel=1e-6)


@pytest.mark.parametrize("method", ["sinkhorn", "sinkhorn_log"])
def test_pot_methods_give_the_same_cost_and_entropic_value(method):
    x, y = sphere(60, 3, 1), sphere(300, 3, 2) * 1.2
    for value in ("cost", "entropic"):
        expected = genbench.make_metric("sinkhorn", value=value)(x, y)
        got = genbench.make_metric("sinkhorn", method=method, value=value, tol=1e-9)(x, y)
        assert got == pytest.approx(expected, rel=1e-6)


def test_the_solution_is_a_plan_with_both_marginals(paper_like):
    x, y, _ = paper_like
    res = entropic_ot(x, y, 0.05, tol=1e-8)
    C = cdist(x, y)
    P = np.exp((res.f[:, None] + res.g[None, :] - C) / 0.05) / (len(x) * len(y))
    assert res.converged and res.marginal_error <= 1e-8
    assert np.abs(P.sum(1) * len(x) - 1).max() <= 1e-6
    assert np.abs(P.sum(0) * len(y) - 1).max() <= 1e-9  # the c-transform side is exact
    assert res.cost == pytest.approx(float(np.sum(P * C)), rel=1e-9)


def test_newton_needs_far_fewer_passes_than_sinkhorn_iterations(paper_like):
    x, y, _ = paper_like
    ot = import_pot()
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    _, log = ot.sinkhorn(a, b, cdist(x, y), 0.05, stopThr=1e-6 / np.sqrt(len(y)), numItermax=100_000, log=True)
    res = entropic_ot(x, y, 0.05)
    assert res.passes * 4 <= log["niter"], (res.passes, log["niter"])


def test_streamed_kernel_and_threads_give_the_stored_result(paper_like):
    x, y, _ = paper_like
    stored = entropic_ot(x, y, 0.05, threads=1)
    streamed = entropic_ot(x, y, 0.05, max_kernel_mb=0.0, threads=2, block=300)
    # both stop within tol = 1e-6 of the same plan, from differently rounded float32 kernels
    assert streamed.cost == pytest.approx(stored.cost, rel=1e-7)
    assert streamed.entropic == pytest.approx(stored.entropic, rel=1e-7)


def test_swapping_the_sets_changes_nothing():
    x, y = sphere(300, 3, 1), sphere(80, 3, 2) * 1.1
    res, swapped = entropic_ot(x, y, 0.05), entropic_ot(y, x, 0.05)
    assert res.cost == pytest.approx(swapped.cost, rel=1e-7)
    assert (res.f.shape, res.g.shape) == ((300,), (80,))
    np.testing.assert_allclose(res.f - res.f.mean(), swapped.g - swapped.g.mean(), atol=1e-6)


def test_a_generated_outlier_far_from_every_reference_point_is_handled():
    # |x_far − y| ≈ 30 = 600 reg: exp(−C/reg) underflows even in float64 (POT's plain Sinkhorn breaks)
    x = np.vstack([sphere(60, 2, 1), [[30.0, 0.0]]])
    y = sphere(400, 2, 2)
    expected, _ = converged_pot(x, y, 0.05, method="sinkhorn_log")
    assert genbench.make_metric("sinkhorn")(x, y) == pytest.approx(expected, rel=1e-6)


def test_divergence_is_zero_for_identical_samples_and_positive_otherwise():
    x = sphere(150, 3, 1)
    div = genbench.make_metric("sinkhorn", value="divergence")
    assert abs(div(x, x[::-1].copy())) <= 1e-7
    assert div(x, sphere(200, 3, 2) * 1.3) > 0.01


def test_self_transport_agrees_with_converged_pot():
    x = sphere(120, 3, 4)  # at reg = 0.05 POT's Sinkhorn needs > 100,000 iterations here; at 0.2 a few thousand
    _, expected = converged_pot(x, x, 0.2)
    assert entropic_self_ot(x, 0.2) == pytest.approx(expected, rel=1e-7)
    assert entropic_self_ot(x, 0.05) == pytest.approx(entropic_ot(x, x, 0.05, tol=1e-10).entropic, rel=1e-7)


def test_non_convergence_is_nan_with_the_passes_spent():
    x, y = rng(1).standard_normal((200, 2)), rng(2).standard_normal((300, 2)) + 1.0
    value = genbench.make_metric("sinkhorn", reg=0.01, max_iter=5)(x, y)
    assert math.isnan(value) and "did not converge" in value.reason and "passes over the kernel" in value.reason


@pytest.mark.parametrize(("key", "bad"), [("value", "w2"), ("device", "tpu"), ("method", "lbfgs")])
def test_bad_parameters_are_refused_in_one_line(key, bad):
    with pytest.raises(genbench.GenbenchError, match=key) as err:
        genbench.make_metric("sinkhorn", **{key: bad})
    assert "\n" not in str(err.value)


def test_device_follows_the_run(monkeypatch):
    monkeypatch.setenv("GENBENCH_DEVICE", "cpu")
    assert cuda_device("auto") is None
    assert cuda_device("cpu") is None


def test_torch_kernel_gives_the_numpy_result(paper_like):
    torch = pytest.importorskip("torch")
    from genbench.numerics.ot import _solve, _TorchKernel

    x, y, (cost, entropic) = paper_like
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    res = _solve(_TorchKernel(x, y, 0.05, torch.device("cpu")), a, b, 0.05, 1e-6, 1000)
    assert res.converged and res.device == "cpu"
    assert res.cost == pytest.approx(cost, rel=1e-6)
    assert res.entropic == pytest.approx(entropic, rel=1e-6)
