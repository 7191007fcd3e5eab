"""Two-sample discrepancies from all pairwise distances: energy distance and Gaussian-kernel MMD."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from ..contracts import Metric, nan_with_reason
from ..params import param
from ._sampling import subsample

_BLOCK = 2**22  # distances per block (32 MB of float64)


def pairwise_mean(x: np.ndarray, y: np.ndarray, fn=None, *, exclude_diagonal: bool = False) -> float:
    """Mean of ``fn(|x_i − y_j|²)`` over all pairs, in blocks of rows (``fn = sqrt`` by default).

    With ``exclude_diagonal`` (``x is y``), the n self-pairs are left out (U-statistic) and only
    the upper triangle is computed (half the work). Cost O(n m d) time, O(block) memory.
    """
    fn = np.sqrt if fn is None else fn
    n, m = x.shape[0], y.shape[0]
    rows = max(1, _BLOCK // max(m, 1))
    total = 0.0
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        if exclude_diagonal:  # pairs j > i only, each counted twice; row r of the block is i = start + r
            block = fn(cdist(x[start:stop], y[start:], "sqeuclidean"))
            total += 2.0 * np.triu(block, k=1).sum()
        else:
            total += fn(cdist(x[start:stop], y, "sqeuclidean")).sum()
    pairs = n * m - (n if exclude_diagonal else 0)
    return total / pairs if pairs > 0 else 0.0


def mean_pairwise_distance(x: np.ndarray, y: np.ndarray, *, exclude_diagonal: bool = False) -> float:
    """Mean Euclidean distance over all pairs (x_i, y_j); see :func:`pairwise_mean`."""
    return pairwise_mean(x, y, exclude_diagonal=exclude_diagonal)


class Energy(Metric):
    """Energy distance ``2 E|X−Y| − E|X−X'| − E|Y−Y'|`` (Székely & Rizzo 2013, eq. 2).

    Within-sample terms are U-statistics (self-pairs excluded), so the value is an unbiased
    estimate with expectation 0 when both samples come from the same law (it can be slightly
    negative). ``E|Y−Y'|`` depends on the reference alone: it uses a random subset of at most
    ``max_reference`` reference points (still unbiased; 0 = all). Cost O(n m d + n² d + r² d)
    with r = min(m, max_reference), memory O(block).
    """

    name = "energy"
    higher_is_better = False

    max_reference: int = param(10000, ge=0, note="0 = all")

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        if len(generated) < 2 or len(reference) < 2:
            return nan_with_reason("energy distance needs at least 2 generated and 2 reference points")
        xy = mean_pairwise_distance(generated, reference)
        xx = mean_pairwise_distance(generated, generated, exclude_diagonal=True)
        sub = subsample(reference, self.max_reference, rng)
        if len(sub) < 2:
            return nan_with_reason("energy distance needs max_reference >= 2 (or 0 for all points)")
        yy = mean_pairwise_distance(sub, sub, exclude_diagonal=True)
        return float(2 * xy - xx - yy)


class MMD(Metric):
    """Unbiased squared MMD with a Gaussian kernel, median-heuristic bandwidth (Gretton et al. 2012, eq. 3).

    ``k(x, y) = exp(−|x − y|² / (2h²))`` with ``h²`` the median squared distance among the
    pooled points (at most 500 of each sample), or ``bandwidth²`` when given. Expectation 0 for
    equal laws (can be slightly negative). As for ``energy``, the reference–reference term uses
    at most ``max_reference`` points. Cost O(n m d + n² d + r² d), memory O(block).
    """

    name = "mmd"
    higher_is_better = False

    bandwidth: float = param(0.0, ge=0, note="0 = median heuristic")
    max_reference: int = param(10000, ge=0, note="0 = all")

    @staticmethod
    def median_bandwidth2(x: np.ndarray, y: np.ndarray) -> float:
        """Median squared pairwise distance among ≤ 500 points of each sample, pooled.

        The points are evenly spaced in lexicographic order, so the bandwidth does not depend
        on the order of the samples or on which one is passed first.
        """

        def pick(points):
            ordered = points[np.lexsort(points.T[::-1])]
            return ordered[np.linspace(0, len(points) - 1, min(len(points), 500)).astype(int)]

        pooled = np.concatenate([pick(x), pick(y)])
        sq = cdist(pooled, pooled, "sqeuclidean")[np.triu_indices(len(pooled), k=1)]
        return float(np.median(sq))

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        h2 = self.bandwidth**2 if self.bandwidth > 0 else self.median_bandwidth2(generated, reference)
        if h2 <= 0:
            h2 = 1.0  # all points coincide: any bandwidth gives the same answer

        def kernel(sq):
            return np.exp(-sq / (2 * h2))

        sub = subsample(reference, self.max_reference, rng)
        xx = pairwise_mean(generated, generated, kernel, exclude_diagonal=True)
        yy = pairwise_mean(sub, sub, kernel, exclude_diagonal=True)
        xy = pairwise_mean(generated, reference, kernel)
        return float(xx + yy - 2 * xy)
