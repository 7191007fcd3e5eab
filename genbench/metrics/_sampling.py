"""Randomness shared by the metrics: a deterministic default generator and subsampling."""

from __future__ import annotations

import numpy as np


def metric_rng(rng: np.random.Generator | None) -> np.random.Generator:
    """``rng``, or a fixed-seed generator when a metric is called without one (the runner always
    passes the cell's; a direct call then still gives the same number twice)."""
    return np.random.default_rng(0) if rng is None else rng


def subsample(points: np.ndarray, k: int, rng: np.random.Generator | None) -> np.ndarray:
    """At most ``k`` of ``points``, drawn without replacement (all of them when ``k <= 0``)."""
    if k <= 0 or len(points) <= k:
        return points
    return points[metric_rng(rng).choice(len(points), k, replace=False)]
