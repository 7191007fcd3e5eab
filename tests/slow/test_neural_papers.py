"""Seed 004's claim about push-forward models, at the neural samplers' default budgets (minutes):
``pytest -m slow tests/slow/test_neural_papers.py``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from genbench.plugins import get_registry

from ..test_neural import gap_fraction

REGISTRY = get_registry()


@pytest.mark.slow
def test_push_forward_models_put_more_mass_in_the_gap_than_ou_sgm():
    """Seed 004, Theorem 4.1: a continuous map of a connected latent space connects the two circles,
    so the GAN and the VAE put more samples between them than the score-based model does.

    At small budgets this does not hold for the VAE (measured, 800 VAE steps against 3,000 steps of
    a 3 × 64 OU-SGM: 7.0 % vs 9.2 % of samples in the gap; the GAN at 400 steps 15.7 %): an
    under-trained score model blurs into the gap too. Hence the default budgets here. With the
    converged defaults (GAN: N(0, 1) latent, no dropout) the margins are small: measured 1.6 %
    (GAN), 1.2 % (VAE) against 0.2 % (OU-SGM); 5.5 minutes on 2 loaded cores.
    """
    data = REGISTRY.get("dataset", "two_circles")(n_train=500)
    X = data.sample(500, rng=np.random.default_rng(0))
    gap = {}
    for name in ("ou_sgm", "gan", "vae"):
        s = REGISTRY.get("sampler", name)().fit(X, rng=np.random.default_rng(1))
        gap[name] = gap_fraction(s.sample(4000, rng=np.random.default_rng(2)))
    print(gap)
    assert gap["gan"] > gap["ou_sgm"] and gap["vae"] > gap["ou_sgm"], gap
