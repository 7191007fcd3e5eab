"""Sliced Wasserstein distances (W2 and seed 004's W1) between two point clouds of possibly
different sizes."""

from __future__ import annotations

import numpy as np

from ..contracts import Metric
from ._sampling import metric_rng


def wasserstein_1d(x: np.ndarray, y: np.ndarray, p: int = 2) -> np.ndarray:
    """Exact W_p^p between empirical measures on the line, column by column.

    ``x`` is ``(n, L)`` and ``y`` is ``(m, L)`` (L independent 1-D problems); uniform weights.
    Uses the quantile form ``∫_0^1 |F_x^{-1}(t) − F_y^{-1}(t)|^p dt`` on the merged grid of
    breakpoints ``i/n`` and ``j/m``. Cost O(L (n + m) log(n + m)).
    """
    n, m = x.shape[0], y.shape[0]
    xs, ys = np.sort(x, axis=0), np.sort(y, axis=0)
    t = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
    widths = np.diff(t, prepend=0.0)
    mid = t - widths / 2  # inside each interval, both quantile functions are constant
    ix = np.minimum((mid * n).astype(np.int64), n - 1)
    iy = np.minimum((mid * m).astype(np.int64), m - 1)
    return (np.abs(xs[ix] - ys[iy]) ** p * widths[:, None]).sum(axis=0)


class SlicedW2(Metric):
    """Sliced Wasserstein-2: ``sqrt(mean_θ W2²(θᵀX, θᵀY))`` over random unit directions θ.

    Directions are drawn from the metric's ``rng`` (seeded per cell). Cost
    O(L d (n + m) + L (n + m) log(n + m)) for L projections; memory O(L (n + m)).
    """

    name = "sliced_w2"
    higher_is_better = False

    n_projections: int = 200

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        rng = metric_rng(rng)
        d = generated.shape[1]
        theta = rng.standard_normal((d, self.n_projections))
        theta /= np.linalg.norm(theta, axis=0, keepdims=True)
        w2 = wasserstein_1d(generated @ theta, reference @ theta, p=2)
        return float(np.sqrt(w2.mean()))


class SlicedW1(Metric):
    """Sliced Wasserstein-1 of seed 004 (§3.3.4, App. D.1): ``mean_θ W1(θᵀX, θᵀY)`` over
    ``n_projections`` random unit directions θ (the thesis: 100), each term the 1-D
    ``scipy.stats.wasserstein_distance`` of the projections (computed here in closed form,
    vectorised over θ; equal to scipy's to rounding). The thesis's swiss-roll table (§4.2.3:
    0.1696 / 0.2116 / 0.5388 / 7.1068) is in this metric. Directions come from the metric's
    ``rng``; cost as ``sliced_w2``.
    """

    name = "sliced_w1"
    higher_is_better = False

    n_projections: int = 100

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        rng = metric_rng(rng)
        d = generated.shape[1]
        theta = rng.standard_normal((d, self.n_projections))  # seed 004, App. D.1
        theta /= np.linalg.norm(theta, axis=0, keepdims=True)
        return float(wasserstein_1d(generated @ theta, reference @ theta, p=1).mean())
