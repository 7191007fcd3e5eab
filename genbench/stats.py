"""Every comparison genbench prints — ranks, rank intervals, ties, paper verdicts — from one place.

**The design is paired.** In repetition ``r`` every sampler of a dataset configuration sees the
same training set (the data seed depends on the suite seed, the dataset and ``r`` only), so two
entries are compared through their paired differences ``d_r = x_r − y_r`` over the repetitions
they share.

**The test is the paired Student t-test** (``scipy.stats.ttest_rel``), two-sided at
:data:`ALPHA` = 5 %: "A is better than B" needs ``p < α`` with A's mean on the better side, so
a false "better" in a given direction has probability ≤ 2.5 %. Why this test:

* it is exact for Gaussian differences at every n ≥ 2, and when two samplers have no true
  difference — the same sampler under two names, or two whose results have one distribution —
  their paired differences are symmetric, and for symmetric differences the t-test's size stays
  at or below nominal (Efron, "Student's t-test under symmetry conditions", JASA 64, 1969);
* an exact sign-flip permutation test or the Wilcoxon signed-rank test cannot reject at 5 %
  two-sided below n = 6 (their smallest p-value is 2 / 2ⁿ), and the percentile bootstrap of a
  mean is far too confident at small n (the rule this module replaced called equal samplers
  different, one way or the other, in 50 % of pairs at n = 2 and 27 % at n = 3; Hall, *The Bootstrap and Edgeworth
  Expansion*, 1992, §3.10).

What no test can do at n ≤ 10: when two samplers have equal means but differently *shaped*
noise (skewed paired differences), the t-test's size is above nominal; :func:`simulate`
measures it and docs/measurements/statistics.md gives the numbers.

**Multiple comparisons on a board.** An entry's rank interval rests on its ``k − 1``
comparisons with the other entries of its table, each made at ``α / (k − 1)`` (Bonferroni), so
each entry's interval covers its true rank with probability ≥ 95 % — the *marginal* rank
confidence sets of Mogstad, Romano, Shaikh & Wilhelm ("Inference for ranks", Review of Economic
Studies 91, 2024; also Klein, Wright & Wieczorek, JRSS C 69, 2020). The level depends only on
the pair and ``k``, so "A separated from B" is symmetric. A paper claim is one test on its own
(an ordering of several steps holds only when every step does — an intersection–union test,
which needs no correction).

**One rank.** Entries are ordered by their mean; an entry's rank is its position in that order
(equal means share the better position), and its interval is ``[1 + #entries separated from it
and better, k − #entries separated from it and worse]``. The rank lies inside its interval by
construction, and a worse mean never gets a better rank.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Two-sided level of every comparison (2.5 % each way).
ALPHA = 0.05
#: The fewest shared repetitions a paired comparison or an interval of a mean needs.
MIN_REPS = 2
#: The fewest repetitions an argmin verdict needs (a bootstrap of two curves has three outcomes).
MIN_REPS_ARGMIN = 3
#: Argmin claims: reproduced when the argmin is within tolerance in at least this share of draws,
#: not reproduced when in at most ``1 −`` it.
ARGMIN_ROBUST = 0.9
#: Paired bootstrap draws for the argmin's spread (the only place a bootstrap is used: the argmin
#: of a curve has no t-interval).
N_BOOT = 2000


def too_few(n: int, need: int = MIN_REPS) -> str:
    """The text every view shows instead of a comparison: ``needs ≥ 2 repetitions (has 1)``."""
    return f"needs ≥ {need} repetitions (has {n})"


# ---------------------------------------------------------------------------- paired comparisons


@dataclass(frozen=True)
class Comparison:
    """``a − b`` over the repetitions both have: mean difference, two-sided p-value (NaN with fewer
    than :data:`MIN_REPS`), and the number of shared repetitions."""

    n: int
    diff: float
    p: float

    def separated(self, level: float = ALPHA) -> bool:
        """The two differ at two-sided ``level`` (never with too few repetitions)."""
        return self.p == self.p and self.p < level


def paired(a: Mapping[int, float], b: Mapping[int, float]) -> np.ndarray:
    """``a[r] − b[r]`` over the repetitions both have, in repetition order."""
    reps = sorted(set(a) & set(b))
    return np.array([a[r] - b[r] for r in reps], dtype=float)


def t_pvalues(d: np.ndarray) -> np.ndarray:
    """Two-sided p-values of the one-sample t-test of mean 0 along the last axis of ``d`` (the
    paired differences; the same statistic as ``scipy.stats.ttest_rel`` on the pairs, written for
    arrays so that :func:`simulate` can run thousands of boards). A constant non-zero difference
    has p = 0, an identically zero one p = 1; NaN with fewer than :data:`MIN_REPS` values."""
    from scipy import stats

    d = np.asarray(d, dtype=float)
    n = d.shape[-1]
    if n < MIN_REPS:
        return np.full(d.shape[:-1], np.nan)
    mean = d.mean(axis=-1)
    sd = d.std(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(mean) / (sd / math.sqrt(n))
    p = 2 * stats.t.sf(t, n - 1)
    constant = sd <= 1e-14 * np.maximum(np.abs(mean), np.abs(d).max(axis=-1, initial=0.0))
    return np.where(constant, np.where(mean == 0, 1.0, 0.0), p)


def t_pvalue(d: np.ndarray) -> float:
    """:func:`t_pvalues` of one vector of paired differences."""
    return float(t_pvalues(np.asarray(d, dtype=float)[None, :])[0])


def compare(a: Mapping[int, float], b: Mapping[int, float]) -> Comparison:
    """Paired t-test of ``a`` against ``b`` (``{repetition: value}``)."""
    d = paired(a, b)
    return Comparison(len(d), float(d.mean()) if len(d) else math.nan, t_pvalue(d))


def mean_interval(xs: Sequence[float] | np.ndarray, level: float = 1 - ALPHA) -> tuple[float, float, float] | None:
    """``(mean, lo, hi)``: the Student-t interval of the mean at ``level`` (``None`` with fewer than
    :data:`MIN_REPS` values)."""
    from scipy import stats

    x = np.asarray(xs, dtype=float)
    if len(x) < MIN_REPS:
        return None
    m = float(x.mean())
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return m, m - half, m + half


def reaches(xs: Sequence[float], bound: float, higher_is_better: bool, level: float = 1 - ALPHA) -> bool | None:
    """Whether the ``level`` t-interval of the mean of ``xs`` reaches ``bound`` or beyond it — for the
    data floor: the sampler cannot be told from fresh data, or beats it (``None`` with fewer than
    :data:`MIN_REPS` values)."""
    iv = mean_interval(xs, level)
    if iv is None:
        return None
    _, lo, hi = iv
    return hi >= bound if higher_is_better else lo <= bound


def holm(pvalues: Sequence[float], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down procedure (Holm, *Scand. J. Statist.* 1979): which of a family of
    hypotheses are rejected so that the chance of any false rejection in the family is at most
    ``alpha``. ``nan`` p-values (nothing to test) are never rejected and do not count."""
    ps = [(p, i) for i, p in enumerate(pvalues) if p == p]
    ps.sort()
    out = [False] * len(pvalues)
    m = len(ps)
    for k, (p, i) in enumerate(ps):
        if p > alpha / (m - k):
            break
        out[i] = True
    return out


# ---------------------------------------------------------------------------- ranks


@dataclass
class RankResult:
    """One entry of a ranked table: its rank (position by mean), whether another entry has the same
    mean, and its 95 % rank interval (``None`` with fewer than :data:`MIN_REPS` repetitions)."""

    rank: int
    tied: bool
    lo: int | None
    hi: int | None

    def label(self) -> str:
        return f"{self.rank}=" if self.tied else str(self.rank)

    def interval(self) -> str:
        if self.lo is None:
            return "—"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}–{self.hi}"

    @property
    def top(self) -> bool:
        """No entry is separated from it and better: it may be the best."""
        return self.lo == 1 or (self.lo is None and self.rank == 1)

    @property
    def best(self) -> bool:
        """Separated from, and better than, every other entry."""
        return self.lo == 1 and self.hi == 1


def level_for(k: int) -> float:
    """The two-sided level of each of an entry's comparisons in a table of ``k`` (Bonferroni)."""
    return ALPHA / max(1, k - 1)


def separations(values: Sequence[Mapping[int, float]], higher_is_better: bool) -> np.ndarray:
    """``S[a, b]``: entry ``a`` is separated from and better than entry ``b`` at :func:`level_for`
    — by the paired t-test, with the means over all of each entry's repetitions on the same side."""
    k = len(values)
    sign = -1.0 if higher_is_better else 1.0  # smaller signed score is better
    means = np.array([sign * np.mean(list(v.values())) if v else np.inf for v in values])
    level = level_for(k)
    S = np.zeros((k, k), dtype=bool)
    for a in range(k):
        for b in range(a + 1, k):
            c = compare(values[a], values[b])
            if not c.separated(level):
                continue
            a_better = sign * c.diff < 0
            if a_better and means[a] < means[b]:
                S[a, b] = True
            elif not a_better and means[b] < means[a]:
                S[b, a] = True
    return S


def rank_values(values: Sequence[Mapping[int, float]], higher_is_better: bool) -> list[RankResult]:
    """Rank entries given each one's ``{repetition: value}`` (at least one value each): see the
    module docstring. Deterministic: no resampling."""
    k = len(values)
    if k == 0:
        return []
    sign = -1.0 if higher_is_better else 1.0
    means = np.array([sign * np.mean(list(v.values())) for v in values])
    ranks = 1 + (means[None, :] < means[:, None]).sum(axis=1)  # 1 + entries with a better mean
    reps = max((len(v) for v in values), default=0)
    if reps < MIN_REPS:
        return [RankResult(int(r), bool((ranks == r).sum() > 1), None, None) for r in ranks]
    S = separations(values, higher_is_better)
    lo = 1 + S.sum(axis=0)  # separated and better than me
    hi = k - S.sum(axis=1)  # separated and worse than me
    return [RankResult(int(ranks[i]), bool((ranks == ranks[i]).sum() > 1), int(lo[i]), int(hi[i])) for i in range(k)]


# ---------------------------------------------------------------------------- verdicts

HOLDS, REVERSED, TIE, FEW = "holds", "reversed", "tie", "too few"


def step(a: Mapping[int, float], b: Mapping[int, float], increasing: bool) -> tuple[str, Comparison]:
    """One step of an ordering claim, ``a`` then ``b`` ``increasing`` (or decreasing): ``holds``
    (separated the claimed way), ``reversed`` (separated the other way), ``tie`` or ``too few``."""
    c = compare(b, a)
    if c.n < MIN_REPS:
        return FEW, c
    if not c.separated():
        return TIE, c
    return (HOLDS if (c.diff > 0) == increasing else REVERSED), c


def interval_verdict(xs: Sequence[float], lo: float, hi: float) -> tuple[str, tuple[float, float, float] | None]:
    """A value claim ``lo ≤ mean ≤ hi`` judged by the 95 % t-interval of the mean: ``inside``,
    ``outside``, ``straddles`` or ``too few``."""
    iv = mean_interval(xs)
    if iv is None:
        return FEW, None
    _, a, b = iv
    if lo <= a and b <= hi:
        return "inside", iv
    if b < lo or a > hi:
        return "outside", iv
    return "straddles", iv


def argmin_share(
    curves: Mapping[int, Mapping[float, float]], within: Callable[[float], bool], *, n_boot: int = N_BOOT
) -> float:
    """Share of paired bootstrap draws (repetitions resampled jointly) whose mean curve has its
    argmin ``within`` the claim's tolerance; every repetition must cover the same grid."""
    reps = sorted(curves)
    grid = sorted(curves[reps[0]])
    V = np.array([[curves[r][x] for x in grid] for r in reps])  # (R, G)
    rng = np.random.default_rng(0)  # fixed: a report is a pure function of the stored rows
    idx = rng.integers(0, len(reps), size=(n_boot, len(reps)))
    best = V[idx].mean(axis=1).argmin(axis=1)
    ok = np.array([within(x) for x in grid])
    return float(ok[best].mean())


# ---------------------------------------------------------------------------- measured error rates

NOISES = ("gaussian", "skewed", "heavy-tailed")


def _noise(kind: str, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Unit-variance, mean-zero noise: Gaussian, skewed (centred exponential) or heavy-tailed
    (Student t with 3 degrees of freedom)."""
    if kind == "gaussian":
        return rng.standard_normal(shape)
    if kind == "skewed":
        return rng.exponential(1.0, shape) - 1.0
    if kind == "heavy-tailed":
        return rng.standard_t(3, shape) / math.sqrt(3.0)
    raise ValueError(f"noise {kind!r}: expected one of {', '.join(NOISES)}")


#: A decision rule on ``trials × n`` arrays of two entries' values: +1, −1 or 0 per trial.
Rule = Callable[[np.ndarray, np.ndarray], np.ndarray]


def t_rule(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """This module's rule for a table of two entries (``k = 2``; lower is better), on ``trials × n``
    arrays: ``+1`` a is separated and better, ``−1`` b is, ``0`` not separated — what
    :func:`rank_values` decides for each row (a test checks that they agree)."""
    d = a - b
    separated = t_pvalues(d) < level_for(2)
    return np.where(separated, np.where(d.mean(axis=-1) < 0, 1, -1), 0)


def simulate(
    rule: Rule,
    n: int,
    noise: str,
    *,
    delta: float = 0.0,
    trials: int = 4000,
    seed: int = 0,
    noise_b: str | None = None,
) -> tuple[float, float]:
    """``(P(a called better), P(b called better))`` over ``trials`` boards of two entries with
    ``n`` repetitions. Each entry's value is a shared repetition effect (the training set) plus its
    own unit-variance noise of kind ``noise`` (``noise_b`` for ``b``, if given: equal means, noise
    of another shape); ``a``'s mean is lower (better) by ``delta`` standard deviations of the
    paired difference. ``delta = 0`` measures the false-positive rate."""
    rng = np.random.default_rng(seed)
    shared = 3.0 * rng.standard_normal((trials, n))
    scale = 1 / math.sqrt(2.0)  # each entry's noise sd, so that the paired difference has sd 1
    a = shared + scale * _noise(noise, rng, (trials, n)) - delta
    b = shared + scale * _noise(noise_b or noise, rng, (trials, n))
    calls = np.asarray(rule(a, b))
    return float(np.mean(calls == 1)), float(np.mean(calls == -1))


def step_rule(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The paper report's ordering step "a below b" as a :data:`Rule`: ``+1`` holds, ``−1``
    reversed, ``0`` tie — the same test and level as :func:`step`."""
    d = b - a
    separated = t_pvalues(d) < ALPHA
    return np.where(separated, np.where(d.mean(axis=-1) > 0, 1, -1), 0)


def bootstrap_rule(a: np.ndarray, b: np.ndarray, *, n_boot: int = 2000, share: float = 0.975) -> np.ndarray:
    """The rule genbench used before this module (kept as the planted case of the error-rate test):
    better in at least ``share`` of ``n_boot`` paired percentile-bootstrap resamples; with one
    repetition, the order of the values."""
    d = a - b
    n = d.shape[1]
    if n < 2:
        return np.sign(-d[:, 0]).astype(int)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, n, size=(n_boot, n))
    means = d[:, idx].mean(axis=-1)  # (trials, n_boot)
    a_better, b_better = (means < 0).mean(axis=1), (means > 0).mean(axis=1)
    return np.where(a_better >= share, 1, np.where(b_better >= share, -1, 0))


# ---------------------------------------------------------------------------- across datasets


def friedman(table: Sequence[Sequence[float]], level: float = ALPHA) -> tuple[float, float] | None:
    """Demšar (JMLR 7, 2006), §3.2.2: Friedman's test that ``k`` samplers have equal mean ranks over
    ``N`` datasets (``table``: one row per dataset, one score or rank per sampler; lower is better),
    and the Nemenyi critical difference ``q_α √(k(k+1)/(6N))`` of mean ranks. ``(p, cd)``, or
    ``None`` with fewer than 2 datasets or 3 samplers."""
    from scipy import stats

    T = np.asarray(table, dtype=float)
    if T.ndim != 2 or T.shape[0] < 2 or T.shape[1] < 3:
        return None
    N, k = T.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.friedmanchisquare(*T.T).pvalue)
    q = float(stats.studentized_range.ppf(1 - level, k, np.inf)) / math.sqrt(2.0)
    return p, q * math.sqrt(k * (k + 1) / (6.0 * N))
