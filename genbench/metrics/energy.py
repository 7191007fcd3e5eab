"""Energy distance between two point clouds (Székely & Rizzo)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from ..contracts import Metric

_BLOCK = 2**22  # distances per block (32 MB of float64)


def mean_pairwise_distance(x: np.ndarray, y: np.ndarray, *, exclude_diagonal: bool = False) -> float:
    """Mean Euclidean distance over all pairs (x_i, y_j), computed in blocks of rows.

    With ``exclude_diagonal`` (``x is y``), the n self-pairs are left out (U-statistic).
    Cost O(n m d) time, O(block) memory.
    """
    n, m = x.shape[0], y.shape[0]
    rows = max(1, _BLOCK // max(m, 1))
    total = 0.0
    for start in range(0, n, rows):
        total += cdist(x[start : start + rows], y).sum()
    pairs = n * m - (n if exclude_diagonal else 0)
    return total / pairs if pairs > 0 else 0.0


class Energy(Metric):
    """Energy distance ``2 E|X−Y| − E|X−X'| − E|Y−Y'|`` (Székely & Rizzo 2013, eq. 2).

    Within-sample terms are U-statistics (self-pairs excluded), so the value is an unbiased
    estimate with expectation 0 when both samples come from the same law (it can be slightly
    negative). Cost O((n + m)² d) time and O(block) memory; the reference term E|Y−Y'|
    dominates when m ≫ n (m² / 2 distances).
    """

    name = "energy"
    higher_is_better = False

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        xy = mean_pairwise_distance(generated, reference)
        xx = mean_pairwise_distance(generated, generated, exclude_diagonal=True)
        yy = mean_pairwise_distance(reference, reference, exclude_diagonal=True)
        return float(2 * xy - xx - yy)
