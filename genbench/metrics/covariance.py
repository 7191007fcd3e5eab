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


class CovarianceRows(Metric):
    """Error in the centred rows of the spatial covariance (seed 001, Figs. 1 and 4).

    Seed 001 compares ``Cov(z_k, z_{k+j})`` — the rows of the empirical covariance of the leading
    ``coords`` coordinates (for the Lorenz-96 closure pairs (z, ψ): the K slow variables),
    centred with the periodicity and averaged over the rows — between generated and given
    samples (Fig. 4, left; Fig. 1, top). This metric is ``max_j |b̂_j − b_j| / b_0`` over
    ``j = 0 … max_band`` (default ⌊K/2⌋, the whole centred row), ``b_j = mean_k Σ_{k,k+j}``
    (cyclic in k when ``periodic``), ``b`` of the reference sample: the largest error in a
    covariance row entry relative to the variance. Scale-free; cost O(n K²).
    """

    name = "covariance_rows"
    higher_is_better = False

    coords: int | None = param(None, ge=2, note="leading coordinates; default all")
    max_band: int | None = param(None, ge=0, note="default ⌊K/2⌋")
    periodic: bool = True

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        k = generated.shape[1] if self.coords is None else int(self.coords)
        if k > generated.shape[1]:
            return nan_with_reason(f"covariance_rows: coords = {k} > d = {generated.shape[1]}")
        if len(generated) < 2 or len(reference) < 2:
            return nan_with_reason("covariance_rows needs at least 2 generated and 2 reference points")
        top = k // 2 if self.max_band is None else int(self.max_band)
        if top >= k:
            return nan_with_reason(f"covariance_rows: max_band {top} out of range for K = {k}")
        gen = np.atleast_2d(np.cov(generated[:, :k], rowvar=False))
        ref = np.atleast_2d(np.cov(reference[:, :k], rowvar=False))
        b_ref = np.array([band_mean(ref, j, periodic=self.periodic) for j in range(top + 1)])
        b_gen = np.array([band_mean(gen, j, periodic=self.periodic) for j in range(top + 1)])
        if b_ref[0] <= 0:
            return nan_with_reason("covariance_rows: the reference variance is 0")
        return float(np.max(np.abs(b_gen - b_ref)) / b_ref[0])
