"""Paper-size checks of the dynamical datasets and the OT metric (run with ``pytest -m slow``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import genbench
from genbench.metrics.paths import sign_change_rate

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENBENCH_CACHE", str(tmp_path / "cache"))


def test_sinkhorn_at_paper_size_converges_at_reg_005_but_not_at_reg_001():
    """Seed 000 §6.2: 1,000 generated vs 50,000 reference points, d = 9."""
    ds = genbench.make_dataset("hypersemisphere", dim=9)
    gen = ds.sample(1000, rng=np.random.default_rng(1))
    ref = ds.sample(50_000, rng=np.random.default_rng(2))
    value = genbench.make_metric("sinkhorn", reg=0.05, max_iter=2000)(gen, ref)
    assert 0 < value < 1
    unconverged = genbench.make_metric("sinkhorn", reg=0.01, max_iter=2000)(gen, ref)
    assert math.isnan(unconverged) and "did not converge" in unconverged.reason


def test_lorenz63_additive_closure_is_symmetric_and_bimodal():
    x = genbench.make_dataset("lorenz63_closure", n_paths=512).sample(20_000, rng=np.random.default_rng(0))
    z, psi = x[:, 0], x[:, 1]
    # the (z, y1, y2) → (−z, −y1, −y2) symmetry, paths started in either well at random:
    # the well fractions are binomial over 512 paths, standard error of the mean ≈ |z| / √512
    assert abs(z.mean()) < 3.5 * np.abs(z).mean() / np.sqrt(512)
    hist, _ = np.histogram(np.abs(z), bins=[0, 0.3, 0.7, 1.3])
    assert hist[2] > 3 * hist[0] * (0.6 / 0.3)  # per unit length: mass near |z| = 1, not at 0
    assert abs(psi.mean()) < 0.01 and 0.03 < psi.std() < 0.3


def test_lorenz63_multiplicative_closure_keeps_the_sign_of_z():
    x = genbench.make_dataset("lorenz63_closure", coupling="multiplicative").sample(
        20_000, rng=np.random.default_rng(0)
    )
    assert x[:, 0].min() > 0  # z = 0 is invariant for h(z) = z


def test_bistable_paths_at_paper_size():
    """Seed 001 §4: M = 1,000 paths, K = 100 observations Δt = 5 apart (d = 101)."""
    x = genbench.make_dataset("bistable_path").sample(1000, rng=np.random.default_rng(0))
    assert x.shape == (1000, 101)
    rate = sign_change_rate(x)
    # Kramers: escape rate k = sqrt(V''(1)|V''(0)|)/(2π) exp(−ΔV/D), ΔV = 1/4, D = 0.1;
    # P(sign differs after Δt) = (1 − exp(−2kΔt))/2 ≈ 0.084. The paper reports 0.9 %.
    k = math.sqrt(2.0) / (2 * math.pi) * math.exp(-0.25 / 0.1)
    kramers = (1 - math.exp(-2 * k * 5.0)) / 2
    assert 0.6 * kramers < rate < 1.5 * kramers


def test_lorenz96_closure_at_paper_size():
    """Seed 001 §5.1: M = 40,000 consecutive RK4 steps."""
    ds = genbench.make_dataset("lorenz96_closure", n_train=40_000, sample_every=1)
    x = ds.sample(40_000, rng=np.random.default_rng(0))
    z, psi = x[:, :12], x[:, 12:]
    assert np.isfinite(x).all() and z.std() > 1
    # the closure term opposes the slow variable (the fast sector damps it)
    corr = np.mean([np.corrcoef(z[:, k], psi[:, k])[0, 1] for k in range(12)])
    assert corr < 0
