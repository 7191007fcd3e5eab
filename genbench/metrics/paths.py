"""Metrics for datasets whose points are discretely observed paths (seed 001, section 4)."""

from __future__ import annotations

import numpy as np

from ..contracts import Metric, nan_with_reason
from ..params import param


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


def autocorrelation(x: np.ndarray, segments: int, max_lag: int, stride: int = 1) -> np.ndarray:
    """Pooled autocorrelation ``ρ(k)``, k = 0…max_lag, of the columns of ``x`` (n, c).

    The rows are ``segments`` contiguous time series of ``ceil(n / segments)`` rows (the last one
    may be shorter), each subsampled every ``stride`` rows; mean and variance are pooled over all
    series and no product spans two series. Returns shape ``(max_lag + 1, c)``.
    """
    per = -(-len(x) // segments)
    chunks = [x[i * per : (i + 1) * per : stride] for i in range(segments)]
    chunks = [c for c in chunks if len(c)]
    if min(len(c) for c in chunks) <= max_lag:
        raise ValueError(f"series of {min(len(c) for c in chunks)} steps are too short for lag {max_lag}")
    mu = np.concatenate(chunks).mean(axis=0)
    var = np.concatenate(chunks).var(axis=0)
    out = np.empty((max_lag + 1, x.shape[1]))
    for k in range(max_lag + 1):
        num = sum(((c[: len(c) - k] - mu) * (c[k:] - mu)).sum(axis=0) for c in chunks)
        out[k] = num / sum(len(c) - k for c in chunks) / np.where(var > 0, var, 1.0)
    return out


class Autocorrelation(Metric):
    """Error in the slow variables' autocorrelation: ``max_k mean_z |ρ_gen(k) − ρ_ref(k)|``, k ≤ ``max_lag``.

    Seed 000 §6.3 (Figs. 8–9, time series of z) and seed 001 §5.1 (Fig. 4) judge a closure by
    whether the surrogate model reproduces the full model's slow dynamics; this is the temporal
    half (``marginal_w1`` is the stationary-density half). Applies to the closure datasets with
    ``surrogate=True``: the generated points are surrogate paths and the reference pairs full-model
    paths, both path by path in time order (``dataset.segments``), the reference subsampled to the
    surrogate's time step (``dataset.lag_stride``). Lags count surrogate steps (Δt = 0.1 for
    Lorenz-63, δt = 5e-3 for Lorenz-96). Cost O((n + m) · max_lag).
    """

    name = "autocorrelation"
    higher_is_better = False

    max_lag: int = param(20, ge=1)

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        if not getattr(dataset, "surrogate", False) or not callable(getattr(dataset, "segments", None)):
            return nan_with_reason("autocorrelation needs a closure dataset with surrogate=True (points on paths)")
        cond = list(dataset.conditioning or (0,))
        try:
            gen = autocorrelation(generated[:, cond], dataset.segments(len(generated), True), int(self.max_lag))
            ref = autocorrelation(
                reference[:, cond], dataset.segments(len(reference), False), int(self.max_lag), dataset.lag_stride
            )
        except ValueError as exc:
            return nan_with_reason(f"autocorrelation: {exc}")
        return float(np.max(np.abs(gen - ref).mean(axis=1)))
