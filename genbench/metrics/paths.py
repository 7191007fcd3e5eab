"""Metrics for datasets whose points are discretely observed paths (seed 001, section 4)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..contracts import Metric, nan_with_reason


def sign_change_rate(paths: np.ndarray) -> float:
    """Fraction of consecutive observations ``(x_k, x_{k+1})`` of each row that change sign."""
    s = np.signbit(paths)
    return float((s[:, 1:] != s[:, :-1]).mean())


class TransitionRate(Metric):
    """Well-switching rate of bistable paths (seed 001, Fig. 2: "relative number of sign changes").

    Each point is one path ``(Z(t_0), …, Z(t_K))``; the rate is the fraction of the K steps
    whose sign changes. ``report = "error"`` (default): ``|rate(generated) − rate(reference)|``
    (lower is better); ``"generated"``: the generated rate itself, the paper's number (0.9 %
    training, 1.2 % generated) — a value to read, whose direction is not "lower is better".
    Applies to datasets that declare ``path = True``. Cost O((n + m) d).
    """

    name = "transition_rate"
    higher_is_better = False

    def __init__(self, report: Literal["error", "generated"] = "error") -> None:
        self.report = report

    def check_params(self) -> None:
        super().check_params()
        if self.report not in ("error", "generated"):
            raise ValueError(f"report must be 'error' or 'generated', got {self.report!r}")

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        if not getattr(dataset, "path", False):
            return nan_with_reason("transition_rate needs a path dataset (points are observed paths)")
        if generated.shape[1] < 2:
            return nan_with_reason("transition_rate needs paths of at least 2 observations")
        rate = sign_change_rate(generated)
        if self.report == "generated":
            return rate
        return abs(rate - sign_change_rate(reference))
