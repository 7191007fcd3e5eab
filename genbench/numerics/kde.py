"""Gaussian kernel density estimates from data: log-density, score, softmax weights, bandwidths.

Shared by the particle baselines (``ula``, ``svgd``, ``dmps``) so none carries its own copy.
For training points ``X = (x_1 … x_M)`` and an isotropic bandwidth σ the KDE is

    p_σ(x) = (1/M) Σ_j N(x; x_j, σ² I),

and its score is a softmax-weighted mean (SPEC §2 item 5):

    ∇ log p_σ(x) = (Σ_j w_j(x) x_j − x) / σ²,   w_j(x) = softmax_j(−|x − x_j|² / (2σ²)).

The weights are the out-of-sample weights of the bridge sampler without the Sinkhorn scaling
(seed 000, eq. (7) with ``v = 1``) and, with log-weights ``−½ log q_j``, the Nyström kernel of
the diffusion map (seed 002). Everything is vectorised and chunked over query points so the
``(n, M)`` weight matrix never exceeds :data:`CHUNK_ENTRIES` entries at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.special import logsumexp

from .sinkhorn import sq_distances

if TYPE_CHECKING:
    from ..contracts import Dataset

__all__ = [
    "CHUNK_ENTRIES",
    "BandwidthRule",
    "ScoreParams",
    "bandwidth",
    "check_bandwidth",
    "initial_particles",
    "kde_log_density",
    "kde_score",
    "median_offdiag",
    "median_sq_dist",
    "softmax_weights",
]

#: Largest number of (query, training point) pairs held in memory at once (~32 MB of float64).
CHUNK_ENTRIES = 4_000_000

BandwidthRule = Literal["median", "scott", "silverman"]


def median_sq_dist(X: np.ndarray, max_points: int = 2000) -> float:
    """Median of the squared pairwise distances between distinct points of ``X``.

    Above ``max_points`` points an evenly strided subset is used (deterministic, no rng), which
    keeps the cost at O(max_points² d).
    """
    X = np.asarray(X, dtype=np.float64)
    if len(X) > max_points:
        X = X[np.linspace(0, len(X) - 1, max_points).astype(int)]
    if len(X) < 2:
        return 1.0
    return median_offdiag(sq_distances(X))


def median_offdiag(H: np.ndarray) -> float:
    """Median of the off-diagonal entries of a symmetric ``(n, n)`` matrix with zero diagonal.

    Uses :func:`numpy.partition` on the whole matrix (no index arrays): the diagonal's n zeros
    sort first and every pair appears twice, so the median sits at rank n + n(n−1)/2.
    Falls back to the mean positive entry, then 1, when the median is 0.
    """
    n = len(H)
    if n < 2:
        return 1.0
    flat = H.ravel().copy()
    k = n + (n * (n - 1)) // 2
    part = np.partition(flat, [k - 1, k])
    med = 0.5 * float(part[k - 1] + part[k])
    if med > 0:
        return med
    pos = flat[flat > 0]
    return float(pos.mean()) if len(pos) else 1.0


def _scale(X: np.ndarray) -> float:
    """Root-mean variance per coordinate, ``sqrt(tr Cov / d)`` (1 for degenerate data)."""
    if len(X) < 2:
        return 1.0
    var = float(np.var(X, axis=0, ddof=1).mean())
    return float(np.sqrt(var)) if var > 0 else 1.0


def bandwidth(X: np.ndarray, rule: float | BandwidthRule = "scott") -> float:
    """Isotropic KDE bandwidth σ (a standard deviation) for training points ``X`` of shape ``(M, d)``.

    - ``"median"``: σ² = median(|x_i − x_j|²) / (2 log M), the heuristic of SVGD (Liu & Wang
      2016) used as a KDE bandwidth;
    - ``"scott"``: σ = M^(−1/(d+4)) · s, Scott's rule with s = sqrt(tr Cov / d);
    - ``"silverman"``: σ = (M (d+2) / 4)^(−1/(d+4)) · s, Silverman's rule (as in
      :class:`scipy.stats.gaussian_kde`, with the isotropic scale s);
    - a positive number: used as σ.

    Measured on the 3-mode ``gmm`` (M = 1,000, 5 seeds; the KDE's covariance is Cov(X) + σ² I):
    the median rule over-smooths (σ = 0.79, relative Frobenius covariance error 26 %), Scott's
    rule gives σ = 0.46 and 9 % (Silverman = Scott in d = 2); samplers default to Scott.
    """
    X = np.asarray(X, dtype=np.float64)
    M, d = X.shape
    if not isinstance(rule, str):
        if not rule > 0:
            raise ValueError(f"bandwidth must be positive, got {rule!r}")
        return float(rule)
    if rule == "median":
        return float(np.sqrt(median_sq_dist(X) / (2.0 * np.log(max(M, 2)))))
    if rule == "scott":
        return float(max(M, 1) ** (-1.0 / (d + 4)) * _scale(X))
    if rule == "silverman":
        return float((max(M, 1) * (d + 2) / 4.0) ** (-1.0 / (d + 4)) * _scale(X))
    raise ValueError(f"unknown bandwidth rule {rule!r} (use 'median', 'scott', 'silverman' or a number)")


def _chunks(n: int, M: int):
    size = max(1, CHUNK_ENTRIES // max(M, 1))
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def softmax_weights(x: np.ndarray, X: np.ndarray, eps: float, log_w: np.ndarray | None = None) -> np.ndarray:
    """Row-stochastic weights ``w_ij ∝ exp(log_w_j − |x_i − X_j|² / (2 eps))``, shape ``(n, M)``.

    ``eps`` is the kernel variance (σ²). Computed in the log domain, so points far from the data
    get one-hot weights instead of 0/0. Not chunked: the caller holds the ``(n, M)`` result.
    """
    # −|x − X_j|²/(2 eps) up to a per-row constant: the |x|² term cancels in the softmax.
    x = np.asarray(x, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    logits = x @ X.T
    bias = -0.5 * (X * X).sum(1)
    if log_w is not None:
        bias = bias + eps * log_w
    logits += bias[None, :]
    logits /= eps
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return logits


def kde_log_density(x: np.ndarray, X: np.ndarray, sigma: float) -> np.ndarray:
    """``log p_σ(x)`` of the Gaussian KDE of ``X`` at query points ``x`` (shape ``(n,)``)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    X = np.asarray(X, dtype=np.float64)
    M, d = X.shape
    out = np.empty(len(x))
    const = -np.log(M) - 0.5 * d * np.log(2.0 * np.pi * sigma**2)
    for sl in _chunks(len(x), M):
        out[sl] = logsumexp(-sq_distances(x[sl], X) / (2.0 * sigma**2), axis=1) + const
    return out


def kde_score(x: np.ndarray, X: np.ndarray, sigma: float) -> np.ndarray:
    """Score ``∇ log p_σ(x) = (Σ_j w_j(x) x_j − x) / σ²`` of the Gaussian KDE (shape ``(n, d)``).

    SPEC §2 item 5; the weights are :func:`softmax_weights` with ``eps = σ²``. Chunked over
    query points: memory O(:data:`CHUNK_ENTRIES`), time O(n M d).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    X = np.asarray(X, dtype=np.float64)
    out = np.empty_like(x)
    for sl in _chunks(len(x), len(X)):
        out[sl] = softmax_weights(x[sl], X, sigma**2) @ X
    out -= x
    out /= sigma**2
    return out


def initial_particles(
    X: np.ndarray,
    n: int,
    *,
    rng: np.random.Generator,
    init: Literal["train", "broad"] = "train",
    jitter: float = 0.0,
) -> np.ndarray:
    """Starting points for ``n`` particles or chains, an ``(n, d)`` array.

    ``"train"``: training points (without replacement while ``n ≤ M``) plus ``N(0, jitter² I)``
    noise — with ``jitter = σ`` a draw from the KDE. ``"broad"``: the isotropic Gaussian
    ``N(mean(X), s² I)`` with ``s² = tr Cov(X) / d``, matched to the data's mean and overall
    variance; on multimodal data it puts particles in each basin in proportion to its volume,
    not its mass.
    """
    X = np.asarray(X, dtype=np.float64)
    M, d = X.shape
    if init == "train":
        idx = rng.permutation(M)[:n] if n <= M else rng.integers(M, size=n)
        out = X[idx].copy()
        if jitter > 0:
            out += jitter * rng.standard_normal((n, d))
        return out
    if init == "broad":
        return X.mean(axis=0) + _scale(X) * rng.standard_normal((n, d))
    raise ValueError(f"init must be 'train' or 'broad', got {init!r}")


def check_bandwidth(value: object, name: str = "bandwidth") -> None:
    """Raise a one-line :class:`ValueError` unless ``value`` is a bandwidth rule or a positive number."""
    ok = (
        value in ("median", "scott", "silverman")
        if isinstance(value, str)
        else (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0)
    )
    if not ok:
        raise ValueError(f"{name} must be 'median', 'scott', 'silverman' or a positive number, got {value!r}")


class ScoreParams:
    """Mixin for samplers driven by a score: parameters ``score``, ``bandwidth`` and ``init``.

    A sampler that follows ``s(x)`` (``ula``, ``svgd``, or a new one) inherits from this and
    :class:`genbench.Sampler`, declares the three parameters (``score: Literal["kde", "exact"]``,
    ``bandwidth = param("scott", gt=0)``, ``init: Literal["train", "broad"]``; or takes them in its
    own ``__init__`` and calls :meth:`check_score_params` from ``check_params``), calls
    :meth:`fit_score` from ``fit``, and then evaluates :meth:`score_at`. ``score="kde"`` is the
    Gaussian-KDE score of the training points (:func:`kde_score`); ``score="exact"`` the dataset's exact ``score`` (the
    "oracle" track: the sampler then requires the ``score`` capability, so cells whose dataset
    has none are stored as skipped).
    """

    score: str
    bandwidth: float | BandwidthRule
    init: str

    def required_capabilities(self) -> frozenset[str]:
        return frozenset({"score"}) if self.score == "exact" else frozenset()

    def check_score_params(self) -> None:
        """One-line :class:`ValueError` for a bad ``score``, ``bandwidth`` or ``init``."""
        if self.score not in ("kde", "exact"):
            raise ValueError(f"score must be 'kde' or 'exact', got {self.score!r}")
        check_bandwidth(self.bandwidth)
        if self.init not in ("train", "broad"):
            raise ValueError(f"init must be 'train' or 'broad', got {self.init!r}")

    def fit_score(self, X: np.ndarray, dataset: Dataset | None) -> None:
        """Set ``X_`` (float64 copy), the bandwidth ``sigma_`` and the score to follow."""
        self.X_ = np.array(X, dtype=np.float64)
        self.sigma_ = bandwidth(self.X_, self.bandwidth)
        self.score_fn_ = None
        if self.score == "exact":
            if dataset is None or getattr(dataset, "score", None) is None:
                raise ValueError("score='exact' needs a dataset with an exact score")
            self.score_fn_ = dataset.score

    def score_at(self, x: np.ndarray) -> np.ndarray:
        """The score at points ``x`` of shape ``(n, d)``."""
        if self.score_fn_ is not None:
            return np.asarray(self.score_fn_(x), dtype=np.float64).reshape(x.shape)
        return kde_score(x, self.X_, self.sigma_)
