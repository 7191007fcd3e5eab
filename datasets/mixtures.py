"""Gaussian mixtures with unequal weights and an exact density and score."""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import logsumexp

import genbench

# The 3-mode 2-D mixture used across the baseline issues (seed 003/004 style): unequal weights.
MEANS_2D = np.array([[-2.0, 0.0], [2.0, 0.5], [0.0, 2.5]])
WEIGHTS = np.array([0.5, 0.3, 0.2])


class GMM(genbench.Dataset):
    """Isotropic Gaussian mixture ``Σ_k w_k N(μ_k, s² I)`` in 1-D or 2-D.

    Default (``dim = 2``): means (−2, 0), (2, 0.5), (0, 2.5), weights 0.5/0.3/0.2, std 0.35.
    ``dim = 1`` keeps the first coordinate of those means (−2, 2, 0). ``log_prob`` and
    ``score`` are exact.
    """

    name = "gmm"

    def __init__(self, n_train: int = 1000, dim: Literal[1, 2] = 2, std: float = 0.35) -> None:
        self.n_train = n_train
        self.dim = dim
        self.std = std

    def check_params(self) -> None:
        super().check_params()
        if self.std <= 0:
            raise ValueError(f"std must be positive, got {self.std!r}")

    @property
    def means(self) -> np.ndarray:
        return MEANS_2D[:, : self.dim]

    @property
    def weights(self) -> np.ndarray:
        return WEIGHTS

    def sample(self, n, *, rng):
        k = rng.choice(len(WEIGHTS), size=n, p=WEIGHTS)
        return self.means[k] + self.std * rng.standard_normal((n, self.dim))

    def _log_components(self, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        sq = ((x[:, None, :] - self.means[None]) ** 2).sum(-1)
        norm = -0.5 * self.dim * np.log(2 * np.pi * self.std**2)
        return x, np.log(WEIGHTS)[None] + norm - 0.5 * sq / self.std**2

    def log_prob(self, x):
        _, logc = self._log_components(x)
        return logsumexp(logc, axis=1)

    def score(self, x):
        x, logc = self._log_components(x)
        resp = np.exp(logc - logsumexp(logc, axis=1, keepdims=True))
        return (resp @ self.means - x) / self.std**2

    def component(self, x) -> np.ndarray:
        """Index of the most responsible component for each point (for mode-balance metrics)."""
        _, logc = self._log_components(x)
        return logc.argmax(axis=1)


@genbench.hookimpl
def genbench_datasets():
    return [GMM]
