"""genbench.stats: the error rates of every comparison genbench prints, measured by simulation, and
the one rank's invariants. Each check has a planted case that must fail it (the rule genbench used
before, a rule that never separates, a board that peeks)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genbench import stats

from .conftest import FIXTURES, run_cli

NS = (2, 3, 5, 10)
TRIALS = 100_000


def _limit(rate: float, trials: int) -> float:
    """``rate`` plus three Monte Carlo standard errors: a measured rate above it is a real excess."""
    return rate + 3 * math.sqrt(rate * (1 - rate) / trials)


def _null_excesses(rule, ns=NS, noises=stats.NOISES, trials=TRIALS) -> list[str]:
    """Every (noise, n) where ``rule``'s false 'better' rate exceeds 5 % two-sided or 2.5 % one way."""
    bad = []
    for noise in noises:
        for n in ns:
            a, b = stats.simulate(rule, n, noise, trials=trials, seed=n)
            if a + b > _limit(stats.ALPHA, trials) or max(a, b) > _limit(stats.ALPHA / 2, trials):
                bad.append(f"{noise} n={n}: {a:.3f} / {b:.3f}")
    return bad


@pytest.mark.parametrize("rule", [stats.t_rule, stats.step_rule], ids=["board", "paper-step"])
def test_no_true_difference_is_called_a_difference_at_most_5_percent(rule):
    assert _null_excesses(rule) == []


def test_the_old_bootstrap_rule_fails_the_same_check():
    # planted: "better in ≥ 97.5 % of 2,000 paired bootstrap resamples" — about 25 % each way at n = 2
    bad = _null_excesses(stats.bootstrap_rule, ns=(2, 3), noises=("gaussian",), trials=2000)
    assert len(bad) == 2, bad


def _power(rule, n: int, delta: float) -> float:
    return stats.simulate(rule, n, "gaussian", delta=delta, trials=TRIALS, seed=100 + n)[0]


def test_a_true_difference_is_found():
    # the null check alone is passed by a rule that never separates: power must be there too
    assert _power(stats.t_rule, 5, 2.0) > 0.85  # two sd of the paired difference, 5 repetitions
    assert _power(stats.t_rule, 10, 1.0) > 0.75
    assert _power(stats.t_rule, 3, 2.0) > 0.4

    def never(a, b):
        return np.zeros(len(a), dtype=int)

    assert _power(never, 10, 2.0) == 0.0  # the planted rule fails it


def test_the_vectorised_rule_is_what_rank_values_decides():
    rng = np.random.default_rng(7)
    for n in (2, 3, 5):
        a = rng.standard_normal((300, n))
        b = a + 0.8 * rng.standard_normal((300, n)) + 0.6
        calls = stats.t_rule(a, b)
        for t in range(300):
            ra, rb = stats.rank_values([dict(enumerate(a[t])), dict(enumerate(b[t]))], higher_is_better=False)
            expected = 1 if ra.best else (-1 if rb.best else 0)
            assert calls[t] == expected


def test_one_rank_is_ordered_by_mean_and_inside_its_interval():
    rng = np.random.default_rng(3)
    for _ in range(200):
        k, n = rng.integers(2, 9), rng.integers(2, 7)
        shared = rng.standard_normal(n)
        entries = [
            {r: float(shared[r] + m + s * rng.standard_normal()) for r in range(n) if rng.random() > 0.1}
            for m, s in zip(rng.normal(0, 1, k), rng.uniform(0.05, 1.0, k), strict=True)
        ]
        entries = [e or {0: 0.0} for e in entries]
        higher = bool(rng.integers(2))
        ranks = stats.rank_values(entries, higher)
        sign = -1 if higher else 1
        order = sorted(range(k), key=lambda i: sign * np.mean(list(entries[i].values())))
        shown = [ranks[i].rank for i in order]
        assert shown == sorted(shown)  # a worse mean never ranks better
        for r in ranks:
            if r.lo is not None:
                assert 1 <= r.lo <= r.rank <= r.hi <= k


def test_too_few_repetitions_separate_nothing():
    ra, _ = stats.rank_values([{0: 0.1}, {0: 0.9}], higher_is_better=False)
    assert ra.lo is None and not ra.best and ra.rank == 1
    assert stats.step({0: 0.1}, {0: 0.9}, increasing=True)[0] == stats.FEW
    assert stats.interval_verdict([0.5], 0, 1)[0] == stats.FEW
    assert stats.too_few(1) == "needs ≥ 2 repetitions (has 1)"


def test_interval_verdicts_and_the_friedman_critical_difference():
    assert stats.interval_verdict([0.50, 0.51, 0.49, 0.50], 0.4, 0.6)[0] == "inside"
    assert stats.interval_verdict([0.50, 0.51, 0.49, 0.50], 0.6, 0.9)[0] == "outside"
    assert stats.interval_verdict([0.50, 0.70, 0.30, 0.50], 0.45, 0.9)[0] == "straddles"
    p, cd = stats.friedman(np.tile(np.arange(1, 12), (11, 1)))  # 11 samplers, same order on 11 datasets
    assert p < 1e-10 and cd == pytest.approx(4.55, abs=0.01)  # Demšar 2006, Table 5: q = 3.219 at k = 11


TWIN_SUITE = """
name = "twins"
seed = 11
repetitions = 3
n_samples = 300
n_reference = 400
timeout = 60
primary_metric = "sliced_w2"
metrics = ["sliced_w2"]
[datasets.arc]
n_train = [100, 150, 200, 250, 300, 400]
[datasets.hypersemisphere]
dim = [3, 4]
n_train = [100, 200, 300]
[datasets.circle]
n_train = [50, 100, 200, 400]
[datasets.swiss_roll]
n_train = [100, 200, 300, 400]
scale = 0.1
[datasets.disc3d]
n_train = [100, 200, 300, 400]
[samplers.kde]
[samplers.kde_twin]
[samplers.dmps]
"""


def test_a_sampler_and_its_twin_come_out_tied(tmp_path):
    """The A/A check, end to end: ``kde`` and ``kde_twin`` (the same class under another name) on 24
    dataset configurations; the board may separate them in at most 5 % of them."""
    from genbench.reports.leaderboard import load_board

    suite = tmp_path / "twins.toml"
    suite.write_text(TWIN_SUITE)
    store = tmp_path / "twins.db"
    plugins = str(FIXTURES / "twin_plugins")
    proc = run_cli("run", "--suite", str(suite), "--store", str(store), "--plugin-dir", plugins, "-j", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    board = load_board(store, "twins", plugin_dirs=(plugins,), floors=False)
    assert len(board.groups) == 24
    separated, old = [], 0
    for g in board.groups:
        names = [s.config.sampler for s in g.samplers]
        S = stats.separations([s.config.values["sliced_w2"] for s in g.samplers], higher_is_better=False)
        i, j = names.index("kde"), names.index("kde_twin")
        assert g.samplers[i].rank.lo is not None  # 3 repetitions: the board compares
        if S[i, j] or S[j, i]:
            separated.append(g.dataset_id)
        a, b = (np.array([list(g.samplers[x].config.values["sliced_w2"].values())]) for x in (i, j))
        old += int(stats.bootstrap_rule(a, b)[0] != 0)
    assert len(separated) <= 0.05 * len(board.groups), separated
    assert old > 0.05 * len(board.groups)  # planted: the old bootstrap rule separates the twins (3 of 24)
    print(f"twins separated in {len(separated)} of 24 configurations; by the old rule in {old}")
    # and the board is not blind: dmps is separated from the KDEs somewhere
    assert any(s.rank.best or s.rank.lo > 1 for g in board.groups for s in g.samplers if s.config.sampler == "dmps")
