"""Covariance accuracy: relative Frobenius error and band entries Σ_{i,i+j} (seed 001, Fig. 1)."""

from __future__ import annotations

import numpy as np

from ..contracts import Metric, nan_with_reason
from ..params import param


def band_mean(cov: np.ndarray, j: int, *, periodic: bool) -> float:
    """Mean of the j-th (super-)diagonal ``Σ_{i,i+j}``; cyclic (``i + j mod d``) when ``periodic``."""
    d = cov.shape[0]
    i = np.arange(d) if periodic else np.arange(d - j)
    return float(cov[i, (i + j) % d].mean())


class CovarianceError(Metric):
    """Relative error of the generated sample covariance (seed 001, section 3.1.1 and Fig. 1).

    The target Σ is the dataset's exact ``covariance`` when it has one (``gaussian_tridiag``),
    else the reference sample covariance. ``band = None`` (default): ``‖Σ̂ − Σ‖_F / ‖Σ‖_F``.
    ``band = j``: ``|b̂_j − b_j| / |b_j|`` for the band average ``b_j = mean_i Σ_{i,i+j}``
    (cyclic in i when the dataset is ``periodic``), the quantity of the paper's Fig. 1
    (j = 0: variance 0.577, j = 1: 0.155 for the tridiagonal Gaussian). Read it beside
    ``memorization``: returning the training points reproduces Σ well. Cost O(n d²).
    """

    name = "covariance_error"
    higher_is_better = False

    band: int | None = param(None, ge=0)

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        d = generated.shape[1]
        if len(generated) < 2:
            return nan_with_reason("covariance_error needs at least 2 generated points")
        exact = getattr(dataset, "covariance", None)
        target = np.asarray(exact, dtype=np.float64) if exact is not None else np.cov(reference, rowvar=False)
        target = np.atleast_2d(target)
        if target.shape != (d, d):
            return nan_with_reason(f"target covariance has shape {target.shape}, expected ({d}, {d})")
        cov = np.atleast_2d(np.cov(generated, rowvar=False))
        if self.band is None:
            norm = np.linalg.norm(target)
            if norm == 0:
                return nan_with_reason("target covariance is zero")
            return float(np.linalg.norm(cov - target) / norm)
        if self.band >= d:
            return nan_with_reason(f"band {self.band} out of range for d = {d}")
        periodic = bool(getattr(dataset, "periodic", False))
        want = band_mean(target, self.band, periodic=periodic)
        if want == 0:
            return nan_with_reason(f"target band {self.band} averages to 0")
        return float(abs(band_mean(cov, self.band, periodic=periodic) - want) / abs(want))


class CorrelationError(Metric):
    """Error in the covariance's correlation shape (seed 001, Fig. 1): ``|ρ̂_j − ρ_j|`` with
    ``ρ_j = mean_i Σ_{i,i+j} / mean_i Σ_ii`` (cyclic when the dataset is ``periodic``), ρ of the
    dataset's exact ``covariance`` else of the reference. For the tridiagonal Gaussian (eq. 28)
    ρ_1 = 0.268 whatever the scale of Σ, so it separates the shape from the variance, which
    ``covariance_error`` (band 0) measures. Read it beside ``memorization``. Cost O(n d²).
    """

    name = "correlation_error"
    higher_is_better = False

    band: int = param(1, gt=0)

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        d = generated.shape[1]
        if len(generated) < 2 or self.band >= d:
            return nan_with_reason(f"correlation_error needs ≥ 2 points and band {self.band} < d = {d}")
        exact = getattr(dataset, "covariance", None)
        target = np.atleast_2d(np.asarray(exact, dtype=np.float64) if exact is not None else np.cov(reference.T))
        cov = np.atleast_2d(np.cov(generated, rowvar=False))
        periodic = bool(getattr(dataset, "periodic", False))

        def ratio(c: np.ndarray) -> float:
            return band_mean(c, self.band, periodic=periodic) / band_mean(c, 0, periodic=periodic)

        return float(abs(ratio(cov) - ratio(target)))
