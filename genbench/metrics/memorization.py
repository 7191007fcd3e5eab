"""Data-copying test: are generated points closer to the training set than fresh points are?"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..contracts import Metric, nan_with_reason
from ..params import param
from ._sampling import subsample

#: Ratios below this flag a sampler as copying its training set.
COPYING_THRESHOLD = 0.5


def nearest_distances(points: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Euclidean distance from each point to its nearest training point (k-d tree)."""
    return cKDTree(train).query(points, k=1)[0]


def flags_copying(value: float, threshold: float = COPYING_THRESHOLD) -> bool:
    """``True`` when a :class:`Memorization` value says the sampler copies its training set."""
    return bool(value < threshold)


class Memorization(Metric):
    """Ratio of median nearest-training-point distances, generated over fresh reference.

    In the spirit of Meehan, Chaudhuri & Dasgupta, "A non-parametric test to detect
    data-copying in generative models" (AISTATS 2020): a sampler that returns its training
    points (with or without tiny noise) puts its samples much closer to the training set than
    fresh draws from π are. ≈ 1: no copying (above 1: farther than fresh points);
    → 0: copies. Values below :data:`COPYING_THRESHOLD` (0.5) are flagged. Every accuracy
    metric rewards copying, so read accuracy beside this column.

    No direction (``higher_is_better = None``): it is a flag, not a score. Values far above 1
    are no better than ≈ 1 — they mean samples lie off the data (a sampler returning noise
    scores high) — so the leaderboard shows it but never ranks by it.

    The reference is subsampled to ``max_reference`` points (0 = all). Cost O((n + r) log M) for
    low d with a k-d tree, O((n + r) M d) in high d.
    """

    name = "memorization"
    higher_is_better = None

    max_reference: int = param(2000, ge=0, note="0 = all")

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        if train is None or len(train) == 0:
            return nan_with_reason("memorization needs the training set")
        reference = subsample(reference, self.max_reference, rng)
        d_ref = np.median(nearest_distances(reference, train))
        if d_ref == 0:
            return nan_with_reason("fresh reference points coincide with training points")
        return float(np.median(nearest_distances(generated, train)) / d_ref)
