"""Gaussian kernel-density resampling: the simplest honest baseline."""

from __future__ import annotations

from typing import Literal

import numpy as np

import genbench


class KDE(genbench.Sampler):
    """Resample a training point and add Gaussian noise: a draw from the Gaussian KDE.

    ``bandwidth`` is a number h (noise N(0, h² I)) or a rule: ``"scott"`` / ``"silverman"``
    scale the data covariance by factor² as :class:`scipy.stats.gaussian_kde` does (Scott:
    ``n^(-1/(d+4))``; Silverman: ``(n (d+2) / 4)^(-1/(d+4))``).
    """

    name = "kde"

    def __init__(self, bandwidth: float | Literal["scott", "silverman"] = "scott") -> None:
        self.bandwidth = bandwidth

    def check_params(self) -> None:
        super().check_params()
        if not isinstance(self.bandwidth, str) and self.bandwidth <= 0:
            raise ValueError(f"bandwidth must be positive, got {self.bandwidth!r}")

    def fit(self, X, *, rng):
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        self.X_ = X
        if isinstance(self.bandwidth, str):
            scott = self.bandwidth == "scott"
            factor = (n if scott else n * (d + 2) / 4.0) ** (-1.0 / (d + 4))
            cov = np.atleast_2d(np.cov(X, rowvar=False)) if n > 1 else np.eye(d)
            # Cholesky of the scaled covariance; jitter keeps it defined for degenerate data.
            scale = np.trace(cov) / d if np.trace(cov) > 0 else 1.0
            self.noise_chol_ = factor * np.linalg.cholesky(cov + 1e-10 * scale * np.eye(d))
        else:
            self.noise_chol_ = float(self.bandwidth) * np.eye(d)
        return self

    def sample(self, n, *, rng):
        idx = rng.integers(len(self.X_), size=n)
        noise = rng.standard_normal((n, self.X_.shape[1])) @ self.noise_chol_.T
        return self.X_[idx] + noise


@genbench.hookimpl
def genbench_samplers():
    return [KDE]
