"""Ranks with their uncertainty: a paired bootstrap over repetitions.

Every sampler of a dataset configuration sees the same training set in repetition ``r`` (the
data seed depends on the dataset and the repetition only), so repetitions are resampled
*jointly*: one bootstrap draw picks R repetition indices with replacement and every entry's
mean is taken over those. From ``n_boot`` draws come

* the 95 % interval of each entry's rank (2.5 % and 97.5 % quantiles of its rank per draw);
* the displayed rank: 1 + the number of entries that are *clearly better* — better in at least
  97.5 % of the draws. Entries that no one separates share a rank (a tie, shown ``1=``).

With a single repetition there is nothing to resample: entries are ordered by value, no
interval is given and no tie can be judged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

#: Bootstrap draws per ranking.
N_BOOT = 2000
#: A entry is clearly better than another when it is better in at least this share of draws.
CLEARLY_BETTER = 0.975


@dataclass
class RankResult:
    """Rank of one entry: displayed rank, tie flag and the 95 % bootstrap interval (or ``None``)."""

    rank: int
    tied: bool
    lo: int | None
    hi: int | None
    #: the entry's rank in each bootstrap draw (``None`` with one repetition); draws use the same
    #: seed in every dataset configuration, so they can be averaged across configurations
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)

    def label(self) -> str:
        return f"{self.rank}=" if self.tied else str(self.rank)

    def interval(self) -> str:
        if self.lo is None:
            return "—"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}–{self.hi}"


def rank_values(values: list[dict[int, float]], higher_is_better: bool, *, seed: int = 0) -> list[RankResult]:
    """Rank entries given each one's ``{repetition: value}`` (at least one value each).

    Deterministic for a given ``seed``; see the module docstring for the definitions.
    """
    k = len(values)
    if k == 0:
        return []
    reps = sorted({r for v in values for r in v})
    V = np.full((k, len(reps)), np.nan)
    for i, v in enumerate(values):
        for j, r in enumerate(reps):
            if r in v and v[r] is not None:
                V[i, j] = v[r]
    sign = -1.0 if higher_is_better else 1.0  # smaller score is better
    S = sign * V
    full = np.nanmean(S, axis=1)
    if len(reps) < 2:
        order = full[:, None] < full[None, :]  # order[a, b]: a strictly better than b
        ranks = 1 + order.sum(axis=0)
        return [RankResult(int(r), bool((ranks == r).sum() > 1), None, None) for r in ranks]
    rng = np.random.default_rng(seed)
    idx = rng.integers(len(reps), size=(N_BOOT, len(reps)))
    draws = S[:, idx]  # (k, B, R)
    with warnings.catch_warnings():  # an entry may have no value in a draw: nanmean of nothing
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(draws, axis=2)
    means = np.where(np.isnan(means), full[:, None], means)  # an entry with no value in a draw keeps its mean
    # rank per draw: 1 + number strictly better
    better = means[:, None, :] < means[None, :, :]  # (a, b, B): a better than b
    draw_ranks = 1 + better.sum(axis=0)  # (k, B)
    share = better.mean(axis=2)  # share[a, b]: a better than b
    clearly = share >= CLEARLY_BETTER
    shown = 1 + clearly.sum(axis=0)
    lo = np.quantile(draw_ranks, 0.025, axis=1, method="lower")
    hi = np.quantile(draw_ranks, 0.975, axis=1, method="higher")
    return [
        RankResult(int(shown[i]), bool((shown == shown[i]).sum() > 1), int(lo[i]), int(hi[i]), draw_ranks[i])
        for i in range(k)
    ]
