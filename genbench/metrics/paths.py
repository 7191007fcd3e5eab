"""Metrics for datasets whose points are discretely observed paths (seed 001, section 4)."""

from __future__ import annotations

import numpy as np

from ..contracts import Metric, nan_with_reason


def sign_change_rate(paths: np.ndarray) -> float:
    """Fraction of consecutive observations ``(x_k, x_{k+1})`` of each row that change sign."""
    s = np.signbit(paths)
    return float((s[:, 1:] != s[:, :-1]).mean())


class TransitionRate(Metric):
    """Error in the well-switching rate of bistable paths (seed 001, Fig. 2: "relative number of
    sign changes"): ``|rate(generated) − rate(reference)|``, lower is better.

    Each point is one path ``(Z(t_0), …, Z(t_K))``; the rate is the fraction of the K steps
    whose sign changes. The rate itself, the paper's number (0.9 % training, 1.2 % generated),
    is :class:`TransitionRateValue`. Applies to datasets that declare ``path = True``.
    Cost O((n + m) d).
    """

    name = "transition_rate"
    higher_is_better = False

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        rate = _generated_rate(generated, dataset)
        if np.isnan(rate):  # NaN with the reason: not a path dataset
            return rate
        return abs(rate - sign_change_rate(reference))


class TransitionRateValue(Metric):
    """The generated paths' well-switching rate itself (seed 001 Fig. 2's number): a value to
    read beside the reference's, with no better direction (``higher_is_better = None``)."""

    name = "transition_rate_value"
    higher_is_better = None

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        return _generated_rate(generated, dataset)


def _generated_rate(generated: np.ndarray, dataset) -> float:
    if not getattr(dataset, "path", False):
        return nan_with_reason("transition_rate needs a path dataset (points are observed paths)")
    if generated.shape[1] < 2:
        return nan_with_reason("transition_rate needs paths of at least 2 observations")
    return sign_change_rate(generated)
