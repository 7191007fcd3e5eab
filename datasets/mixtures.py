"""Gaussian mixtures with an exact density and score, and the thesis's 8-point circle.

``gmm`` is SPEC §3's mixture with unequal weights (seeds 003, 004; the baseline samplers' test
case); ``gauss_pair``, ``unequal_pair`` and
``circle_grid`` are seed 004's own (the MEng thesis on generalisation of OU score-based models).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import logsumexp

import genbench
from genbench.params import param

# The 3-mode 2-D mixture the baselines are tested on (SPEC §3's `gmm`, seeds 003/004): unequal weights.
MEANS_2D = np.array([[-2.0, 0.0], [2.0, 0.5], [0.0, 2.5]])
WEIGHTS = np.array([0.5, 0.3, 0.2])


class IsotropicMixture(genbench.Dataset):
    """Base of the mixtures ``Σ_k w_k N(μ_k, s² I)``: sampling, exact ``log_prob`` and ``score``,
    and ``component`` (the most responsible mode, for ``mode_balance``). Subclasses give
    ``means`` (K, d), ``weights`` (K,) and ``std``."""

    std: float

    @property
    def means(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def weights(self) -> np.ndarray:
        raise NotImplementedError

    def sample(self, n, *, rng):
        means = self.means
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        return means[k] + self.std * rng.standard_normal((n, means.shape[1]))

    def _log_components(self, x):
        means = self.means
        x = np.asarray(x, dtype=np.float64).reshape(-1, means.shape[1])
        sq = ((x[:, None, :] - means[None]) ** 2).sum(-1)
        norm = -0.5 * means.shape[1] * np.log(2 * np.pi * self.std**2)
        return x, np.log(self.weights)[None] + norm - 0.5 * sq / self.std**2

    def log_prob(self, x):
        _, logc = self._log_components(x)
        return logsumexp(logc, axis=1)

    def score(self, x):
        x, logc = self._log_components(x)
        resp = np.exp(logc - logsumexp(logc, axis=1, keepdims=True))
        return (resp @ self.means - x) / self.std**2

    def component(self, x) -> np.ndarray:
        """Index of the most responsible component for each point (for mode-balance metrics)."""
        _, logc = self._log_components(x)
        return logc.argmax(axis=1)


class GMM(IsotropicMixture):
    """Isotropic Gaussian mixture ``Σ_k w_k N(μ_k, s² I)`` in 1-D or 2-D.

    Default (``dim = 2``): means (−2, 0), (2, 0.5), (0, 2.5), weights 0.5/0.3/0.2, std 0.35.
    ``dim = 1`` keeps the first coordinate of those means (−2, 2, 0). ``log_prob`` and
    ``score`` are exact.
    """

    name = "gmm"

    n_train: int = 1000
    dim: Literal[1, 2] = 2
    std: float = param(0.35, gt=0)

    @property
    def means(self) -> np.ndarray:
        return MEANS_2D[:, : self.dim]

    @property
    def weights(self) -> np.ndarray:
        return WEIGHTS


class GaussPair(IsotropicMixture):
    """``½ N(−μ, s²) + ½ N(μ, s²)`` on the line (seed 004: Fig. 2.2 with μ = 5; §5.1, Fig. 5.1,
    μ = 10^0 … 10^5 for the OU rate β ≈ 0.95 ln μ; §5.3, Fig. 5.6, μ = 50). s = 1 in the thesis."""

    name = "gauss_pair"

    n_train: int = 1000
    mu: float = param(5.0, gt=0)
    std: float = param(1.0, gt=0)

    @property
    def means(self) -> np.ndarray:
        return np.array([[-float(self.mu)], [float(self.mu)]])

    @property
    def weights(self) -> np.ndarray:
        return np.array([0.5, 0.5])


class UnequalPair(IsotropicMixture):
    """``w N((−5, −5), I) + (1 − w) N((5, −5), I)``, w = 0.1 (seed 004, App. C.3, Fig. C.4):
    Langevin dynamics with the exact score, started uniformly on [−7, 7]², ends near 0.5/0.5.

    Slips in the thesis: the density is printed without its 1/(2π) (the same for both
    components, so the weights stand), and the low-score region it colours is "approximately the
    line y = −x", which does not separate these two means (the line x = 0 does; §2.3's other
    example, with means (−5, −5) and (5, 5), is the one y = −x separates).
    """

    name = "unequal_pair"

    n_train: int = 1000
    weight: float = param(0.1, gt=0, lt=1)
    std: float = param(1.0, gt=0)

    @property
    def means(self) -> np.ndarray:
        return np.array([[-5.0, -5.0], [5.0, -5.0]])

    @property
    def weights(self) -> np.ndarray:
        return np.array([self.weight, 1.0 - self.weight])


class CircleGrid(genbench.Dataset):
    """The unit circle, trained on a regular grid of its points (seed 004, §3.2, Fig. 3.1):
    ``M_train = {(cos iπ/4, sin iπ/4) | i = 0, …, 7}``; the law π (reference points, metrics) is
    uniform on the circle, the support the 8 points under-specify. Does a sampler fill the arcs
    between them (generalise), or return the 8 points (copy)?

    ``n_train`` points at angles ``2πi/n_train`` (8: the thesis's iπ/4). The thesis prints
    ``(cos π/4, sin π/4)`` without the ``i``, a slip: its Fig. 3.1 shows eight points.
    ``circle_centers``/``circle_radius``/``uniform_angle`` serve ``circle_c1``/``circle_c2``.
    """

    name = "circle_grid"
    uniform_angle = True
    circle_radius = 1.0

    n_train: int = 8

    @property
    def circle_centers(self) -> tuple[tuple[float, float], ...]:
        return ((0.0, 0.0),)

    def training_points(self, n: int) -> np.ndarray:
        """The regular grid ``(cos 2πi/n, sin 2πi/n)``, i = 0, …, n − 1."""
        theta = 2 * np.pi * np.arange(n) / n
        return np.column_stack([np.cos(theta), np.sin(theta)])

    def sample_train(self, n, *, rng):
        return self.training_points(n)

    def sample(self, n, *, rng):
        theta = rng.uniform(0.0, 2 * np.pi, n)
        return np.column_stack([np.cos(theta), np.sin(theta)])

    def support_distance(self, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return np.abs(np.hypot(x[:, 0], x[:, 1]) - 1.0)


@genbench.hookimpl
def genbench_datasets():
    return [GMM, GaussPair, UnequalPair, CircleGrid]
