"""``genbench compare``: a sampler planted worse by a known amount is called worse where the
difference exceeds the noise and tied elsewhere; two runs of the same code with other seeds are
tied; ``--fail-on-worse`` gates; Holm's procedure keeps the family's false calls at 5 %."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from genbench.errors import GenbenchError
from genbench.reports.compare import BETTER, TIED, WORSE, run_compare
from genbench.stats import holm, t_pvalues

from .conftest import run_cli

DATASETS = [f"blob[n_train={n}]" for n in (100, 200, 400, 800)] + [f"arc[n_train={n}]" for n in (100, 200, 400, 800)]
SAMPLERS = ["kde[bandwidth=0.1]", "bridge[eps=0.01]", "mine"]


def _write(path, seed: int, planted: dict[str, float] | None = None, reps: int = 5) -> None:
    """A results.csv of 8 datasets × 3 samplers × ``reps`` cells: sinkhorn = a per-configuration
    level + noise (sd 0.01, its own draw per seed); ``planted`` adds to ``mine`` on those datasets."""
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cell_id", "suite", "status", "rep", "m_sinkhorn", "m_memorization"])
        for i, d in enumerate(DATASETS):
            for j, s in enumerate(SAMPLERS):
                for r in range(reps):
                    level = 0.2 + 0.01 * i + 0.03 * j
                    shift = (planted or {}).get(d, 0.0) if s == "mine" else 0.0
                    value = level + shift + 0.01 * rng.standard_normal()
                    w.writerow([f"{d}/{s}/rep={r}", "toy", "ok", r, f"{value:.6f}", "1.0"])


def test_a_planted_worsening_is_worse_where_it_exceeds_the_noise_and_tied_elsewhere(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    _write(a, seed=1)
    planted = {DATASETS[0]: 0.1, DATASETS[1]: 0.08, DATASETS[2]: 0.0002}  # 10 sd, 8 sd, 0.02 sd of a cell
    _write(b, seed=2, planted=planted)
    result = run_compare(str(a), str(b), metrics=("sinkhorn",))
    verdicts = {(ln.dataset, ln.sampler): ln.verdict for ln in result.lines}
    assert verdicts[(DATASETS[0], "mine")] == WORSE and verdicts[(DATASETS[1], "mine")] == WORSE
    assert verdicts[(DATASETS[2], "mine")] == TIED  # below the noise
    others = [v for (d, s), v in verdicts.items() if not (s == "mine" and d in DATASETS[:2])]
    assert others.count(TIED) >= len(others) - 1  # the rest: same law, other draws
    worse = {(ln.dataset, ln.sampler) for ln in result.worse}
    assert {(DATASETS[0], "mine"), (DATASETS[1], "mine")} <= worse
    line = next(ln for ln in result.lines if (ln.dataset, ln.sampler) == (DATASETS[0], "mine"))
    assert line.lo < 0.1 < line.hi or abs(line.diff - 0.1) < 0.02  # the effect size, with its interval
    assert "worse on" in result.summary and "Holm" in result.summary
    # the other way round, the same configurations are better
    back = run_compare(str(b), str(a), metrics=("sinkhorn",))
    assert {(ln.dataset, ln.sampler) for ln in back.lines if ln.verdict == BETTER} == worse


def test_two_runs_of_the_same_code_with_other_seeds_are_tied(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    calls = []
    for pair in range(10):  # 10 pairs × 24 configurations: one test at a time would call ~12 of them
        _write(a, seed=100 + pair)
        _write(b, seed=200 + pair)
        result = run_compare(str(a), str(b), metrics=("sinkhorn",))
        assert len(result.lines) == len(DATASETS) * len(SAMPLERS)
        calls += [(pair, ln.dataset, ln.sampler, ln.verdict) for ln in result.lines if ln.verdict != TIED]
    assert len(calls) <= 2, calls  # Holm: a false call in at most ~5 % of the runs


def test_fail_on_worse_sets_the_exit_status(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    _write(a, seed=5)
    _write(b, seed=6, planted={DATASETS[3]: 0.2})
    gate = run_cli("compare", str(a), str(b), "--metric", "sinkhorn", "--fail-on-worse")
    assert gate.returncode == 1, gate.stderr
    assert "worse on 1 of 24 configurations" in gate.stderr and "mine" in gate.stdout
    same = run_cli("compare", str(a), str(a), "--metric", "sinkhorn", "--fail-on-worse")
    assert same.returncode == 0 and "tied on 24" in same.stderr
    bad = run_cli("compare", str(a))
    assert bad.returncode == 2 and "two sides" in bad.stderr and "Traceback" not in bad.stderr


def test_a_sampler_against_another_on_one_board_needs_both(tmp_path):
    a = tmp_path / "a.csv"
    _write(a, seed=7, planted={DATASETS[0]: 0.2})
    result = run_compare(str(a), sampler="mine", against="kde", metrics=("sinkhorn",))
    verdicts = {ln.dataset: ln.verdict for ln in result.lines}
    assert len(verdicts) == len(DATASETS) and verdicts[DATASETS[0]] == WORSE  # mine sits 0.06 + 0.2 above kde
    assert result.summary.startswith("mine against kde on sinkhorn")
    with pytest.raises(GenbenchError, match="go together"):
        run_compare(str(a), sampler="mine")
    with pytest.raises(GenbenchError, match="no sampler 'kd'"):
        run_compare(str(a), sampler="mine", against="kd")


def test_holm_keeps_the_familys_false_calls_at_five_percent_and_finds_a_real_difference():
    rng = np.random.default_rng(0)
    trials, family, n = 4000, 20, 5
    p = t_pvalues(rng.standard_normal((trials, family, n)))  # no true difference anywhere
    any_false = np.mean([any(holm(row)) for row in p])
    assert any_false <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / trials), any_false
    per_test = np.mean(p < 0.05)  # the same tests one by one: a false call in most families
    assert 1 - (1 - per_test) ** family > 0.5
    shifted = rng.standard_normal((trials, family, n))
    shifted[:, 0] += 4.0  # one real difference of 4 sd
    found = np.mean([holm(row)[0] for row in t_pvalues(shifted)])
    assert found > 0.7, found
