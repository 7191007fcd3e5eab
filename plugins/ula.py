"""Unadjusted Langevin algorithm on a KDE score (or the dataset's exact score): a classic baseline.

Seed 002 compares DMPS with ULA; SPEC §2 item 5. Many chains run at once, each step

    x⁺ = x + τ s(x) + sqrt(2τ) ξ,   ξ ~ N(0, I),

with the shared KDE score ``s(x) = (Σ_j w_j(x) x_j − x)/σ²`` of :mod:`genbench.numerics.kde`.
With τ = σ² the drift is the bridge sampler's without Sinkhorn weights (seed 000, eq. (13)
with ``v = 1``: ``x⁺ = m_σ(x) + …``), but not the noise: the bridge adds σ ξ, ULA √2 σ ξ
(SPEC §2 item 5 calls it the bridge without Sinkhorn weights; that holds for the drift only).
The default τ = 0.1 σ² is a real Langevin discretisation.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

import genbench
from genbench.numerics.kde import BandwidthRule, ScoreParams, initial_particles
from genbench.params import param


class ULA(ScoreParams, genbench.Sampler):
    """Unadjusted Langevin chains ``x⁺ = x + τ s(x) + sqrt(2τ) ξ`` started from training points.

    Parameters
    ----------
    score:
        ``"kde"``: the Gaussian-KDE score of the training points (needs nothing else);
        ``"exact"``: the dataset's exact ``score`` (the "oracle" track; cells whose dataset has
        no score are skipped).
    bandwidth:
        KDE bandwidth σ: ``"scott"`` (default), ``"silverman"``, ``"median"`` or a number. On the
        3-mode ``gmm`` the median heuristic over-smooths (covariance error 26 % against 9 % for
        Scott, M = 1,000), hence the default. With ``score="exact"`` σ only sets the step scale
        and the start jitter.
    step:
        τ / σ², the step relative to the kernel variance (dimensionless, so one grid serves
        datasets of any scale). ULA's O(τ) bias adds ≈ τ/2 to each variance; 0.1 keeps it below
        the KDE's own σ² smoothing.
    steps:
        Langevin steps after burn-in.
    burn_in:
        Steps discarded before any sample is kept.
    chains:
        Parallel chains; ``None``: one chain per requested sample (each returns its last
        state). With fewer chains each returns ``ceil(n / chains)`` states spread evenly over
        its last ``steps`` steps.
    init:
        ``"train"``: chains start at training points jittered by N(0, σ² I) (a draw from the
        KDE); ``"broad"``: from N(mean, tr Cov / d · I). On multimodal data a broad start is
        metastable: chains keep the share of each basin they began with (a documented
        limitation, see ``tests/test_baselines.py``).
    """

    name = "ula"
    checking_params: ClassVar[dict] = {"steps": 50, "burn_in": 10}

    score: Literal["kde", "exact"] = "kde"
    bandwidth: float | BandwidthRule = param("scott", gt=0)
    step: float = param(0.1, gt=0, le=10, note="τ/σ²")
    steps: int = 500
    burn_in: int = param(100, ge=0)
    chains: int | None = None
    init: Literal["train", "broad"] = "train"

    def fit(self, X: np.ndarray, *, rng: np.random.Generator, dataset: genbench.Dataset | None = None) -> ULA:
        """Store the training points, the bandwidth σ and the score function."""
        self.check_params()
        self.fit_score(X, dataset)
        self.tau_ = self.step * self.sigma_**2
        return self

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """Run the chains and return ``n`` states, shape ``(n, d)``."""
        chains = n if self.chains is None else min(self.chains, n)
        per_chain = -(-n // chains)
        x = initial_particles(self.X_, chains, rng=rng, init=self.init, jitter=self.sigma_)
        steps = max(self.steps, per_chain)  # never keep the same state twice
        total = self.burn_in + steps
        keep = set((total - np.arange(per_chain) * steps // per_chain).tolist())
        tau, noise = self.tau_, np.sqrt(2.0 * self.tau_)
        kept = []
        for t in range(1, total + 1):
            x = x + tau * self.score_at(x) + noise * rng.standard_normal(x.shape)
            if t in keep:
                kept.append(x.copy())
        out = np.concatenate(kept[::-1], axis=0)  # newest states first
        return out[:n]


@genbench.hookimpl
def genbench_samplers():
    return [ULA]
