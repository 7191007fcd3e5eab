"""Gaussian kernel-density resampling: the simplest honest baseline (SPEC §2 item 3).

Pick a training point uniformly and add Gaussian noise: an exact draw from the Gaussian KDE.
It copies its training set as the bandwidth goes to 0, so read it beside ``memorization``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

import genbench
from genbench.params import param


class KDE(genbench.Sampler):
    """Resample a training point and add Gaussian noise: a draw from the Gaussian KDE.

    ``bandwidth`` is a number h (noise N(0, h² I)) or a rule: ``"scott"`` / ``"silverman"``
    scale the data covariance by factor² as :class:`scipy.stats.gaussian_kde` does (Scott:
    ``n^(-1/(d+4))``; Silverman: ``(n (d+2) / 4)^(-1/(d+4))``; the two coincide for d = 2).
    Measured on the 3-mode ``gmm`` (M = 1,000): Scott's rule inflates the covariance by
    factor² = 10 % (relative Frobenius), the median heuristic σ² = median(d²)/(2 log M) of
    :func:`genbench.numerics.kde.bandwidth` by 26 %; hence the Scott default.
    """

    name = "kde"

    bandwidth: float | Literal["scott", "silverman"] = param("scott", gt=0)

    def fit(self, X: np.ndarray, *, rng: np.random.Generator) -> KDE:
        """Store the training points and the Cholesky factor of the noise covariance."""
        self.check_params()
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        self.X_ = X
        if isinstance(self.bandwidth, str):
            factor = n ** (-1.0 / (d + 4)) if self.bandwidth == "scott" else (n * (d + 2) / 4.0) ** (-1.0 / (d + 4))
            cov = np.atleast_2d(np.cov(X, rowvar=False)) if n > 1 else np.eye(d)
            # Cholesky of the scaled covariance; jitter keeps it defined for degenerate data.
            scale = np.trace(cov) / d if np.trace(cov) > 0 else 1.0
            self.noise_chol_ = factor * np.linalg.cholesky(cov + 1e-10 * scale * np.eye(d))
        else:
            self.noise_chol_ = float(self.bandwidth) * np.eye(d)
        return self

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` points from the KDE, shape ``(n, d)``."""
        idx = rng.integers(len(self.X_), size=n)
        noise = rng.standard_normal((n, self.X_.shape[1])) @ self.noise_chol_.T
        return self.X_[idx] + noise


@genbench.hookimpl
def genbench_samplers():
    return [KDE]
