"""Stein variational gradient descent (Liu & Wang 2016) on a KDE or exact score.

Seed 002 compares DMPS with SVGD; SPEC §2 item 6. Each iteration moves every particle along

    φ(x_i) = (1/n) Σ_j [ k(x_j, x_i) s(x_j) + ∇_{x_j} k(x_j, x_i) ],
    k(x, y) = exp(−|x − y|² / (2h²)),   h² = ½ median(|x_i − x_j|²) / log(n + 1),

(driving term plus repulsion), with h re-estimated from the particles at every iteration and
the step set by AdaGrad with momentum 0.9 (the authors' reference implementation):
``G ← 0.9 G + 0.1 φ²`` (``G = φ²`` at the first iteration), ``x ← x + η φ / (1e-6 + sqrt(G))``.
The score s is the shared KDE score of :mod:`genbench.numerics.kde` or the dataset's exact one.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

import genbench
from genbench.numerics.kde import BandwidthRule, ScoreParams, initial_particles, median_offdiag
from genbench.numerics.sinkhorn import sq_distances
from genbench.params import param


class SVGD(ScoreParams, genbench.Sampler):
    """SVGD with an RBF kernel of median bandwidth and AdaGrad-with-momentum steps.

    Parameters
    ----------
    score:
        ``"kde"``: Gaussian-KDE score of the training points; ``"exact"``: the dataset's exact
        score (the "oracle" track; datasets without a score are skipped).
    bandwidth:
        KDE bandwidth σ of the score (not the SVGD kernel): ``"scott"`` (default; the median
        heuristic over-smooths the 3-mode ``gmm``), ``"silverman"``, ``"median"`` or a number.
    kernel_bandwidth:
        SVGD kernel h: ``"median"`` (h² = ½ median d² / log(n+1), re-estimated each
        iteration) or a number.
    iterations:
        SVGD iterations.
    step:
        AdaGrad step η in units of the data's scale sqrt(tr Cov / d): each coordinate moves
        about η·scale per iteration at first.
    init:
        ``"train"``: training points jittered by N(0, σ² I) (default; the only start held to
        the accuracy tolerances); ``"broad"``: N(mean, tr Cov / d · I).
    """

    name = "svgd"
    checking_params: ClassVar[dict] = {"iterations": 30}

    score: Literal["kde", "exact"] = "kde"
    bandwidth: float | BandwidthRule = param("scott", gt=0)
    kernel_bandwidth: float | Literal["median"] = param("median", gt=0)
    iterations: int = 300
    step: float = param(0.01, gt=0)
    init: Literal["train", "broad"] = "train"

    def fit(self, X: np.ndarray, *, rng: np.random.Generator, dataset: genbench.Dataset | None = None) -> SVGD:
        """Store the training points, the score bandwidth σ, the data scale and the score function."""
        self.check_params()
        self.fit_score(X, dataset)
        var = float(np.var(self.X_, axis=0).mean()) if len(self.X_) > 1 else 0.0
        self.scale_ = float(np.sqrt(var)) if var > 0 else 1.0
        return self

    def direction(self, x: np.ndarray) -> np.ndarray:
        """The SVGD direction φ(x_i) for all particles at once, O(n² d)."""
        n = len(x)
        H = sq_distances(x)
        if self.kernel_bandwidth == "median":
            h2 = 0.5 * median_offdiag(H) / np.log(n + 1)
        else:
            h2 = float(self.kernel_bandwidth) ** 2
        K = np.exp(-H / (2.0 * h2))
        # Σ_j ∇_{x_j} k(x_j, x_i) = Σ_j k_ij (x_i − x_j) / h²
        repulsion = (K.sum(1)[:, None] * x - K @ x) / h2
        return (K @ self.score_at(x) + repulsion) / n

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """Move ``n`` particles for ``iterations`` SVGD steps and return them, shape ``(n, d)``."""
        x = initial_particles(self.X_, n, rng=rng, init=self.init, jitter=self.sigma_)
        eta = self.step * self.scale_
        G = None
        for _ in range(self.iterations):
            phi = self.direction(x)
            G = phi**2 if G is None else 0.9 * G + 0.1 * phi**2
            x = x + eta * phi / (1e-6 + np.sqrt(G))
        return x


@genbench.hookimpl
def genbench_samplers():
    return [SVGD]
