"""The error rates of genbench's comparisons (:mod:`genbench.stats`), measured by simulation: the
tables in docs/measurements/statistics.md.

    python benchmarks/stats_rates.py            # 100,000 boards per cell (2,000 for the old bootstrap rule), about 20 s

Each board holds two entries with ``n`` repetitions: a shared repetition effect (the training set)
plus each entry's own unit-variance noise. With no true difference, a "better" call is a false
positive; with entry a better by δ standard deviations of the paired difference, it is power.
"""

from __future__ import annotations

import argparse

from genbench import stats

NS = (1, 2, 3, 5, 10)


def _row(label: str, cells: list[str]) -> str:
    return f"| {label} | " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=100_000)
    args = ap.parse_args()
    T = args.trials
    head = "| rule, noise | " + " | ".join(f"n = {n}" for n in NS) + " |\n|---|" + "---|" * len(NS)
    print("False 'better' calls with no true difference (either way; each way in brackets):\n")
    print(head)

    def cell(rule, n, noise, **kw) -> str:
        if n < 2 and rule is not stats.bootstrap_rule:
            return "— (none)"
        trials = min(T, 2000) if rule is stats.bootstrap_rule else T
        a, b = stats.simulate(rule, n, noise, trials=trials, seed=n, **kw)
        return f"{a + b:.3f} ({a:.3f} / {b:.3f})"

    for noise in stats.NOISES:
        print(_row(f"paired t (board, k = 2), {noise}", [cell(stats.t_rule, n, noise) for n in NS]))
    print(
        _row(
            "paired t, skewed vs Gaussian noise (equal means)",
            [cell(stats.t_rule, n, "skewed", noise_b="gaussian") for n in NS],
        )
    )
    print(
        _row(
            "old rule: 97.5 % of paired bootstrap draws, gaussian",
            [cell(stats.bootstrap_rule, n, "gaussian") for n in NS],
        )
    )
    print("\nPower: P(a called better) when a is better by δ sd of the paired difference (Gaussian noise):\n")
    print(head)
    for delta in (1.0, 2.0, 3.0):
        for name, level_k in (("k = 2", 2), ("k = 11", 11)):

            def rule(a, b, k=level_k):
                import numpy as np

                d = a - b
                sep = stats.t_pvalues(d) < stats.level_for(k)
                return np.where(sep, np.where(d.mean(axis=-1) < 0, 1, -1), 0)

            cells = [
                "—" if n < 2 else f"{stats.simulate(rule, n, 'gaussian', delta=delta, trials=T, seed=50 + n)[0]:.2f}"
                for n in NS
            ]
            print(_row(f"δ = {delta:g}, {name} on the board (level 5 % / (k − 1))", cells))


if __name__ == "__main__":
    main()
