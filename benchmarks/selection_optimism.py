"""What issue 32 changed on a stored board: the optimism of choosing a sampler's setting on the
repetitions it is scored on, and how many sampler pairs each rule separates.

    python benchmarks/selection_optimism.py leaderboard/store.db.gz manifolds:reference

Optimism, per sampler with a grid and per dataset configuration: the in-sample best setting's mean
minus the mean of the leave-one-repetition-out selection (in metric units; negative = the old
selection looked better than an honest one). Separations: sampler pairs per table called different
by the old rule (better in ≥ 97.5 % of 2,000 paired bootstrap draws, each sampler at its in-sample
best setting) and by genbench.stats (paired t at 5 % / (k − 1), the selection without peeking).
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict

import numpy as np

from genbench import stats
from genbench.reports.leaderboard import load_board


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("store")
    ap.add_argument("suite")
    args = ap.parse_args()
    board = load_board(args.store, args.suite, floors=False)
    sign = -1.0 if board.higher_is_better else 1.0
    metric = board.metric
    optimism: dict[str, list[tuple[float, float]]] = defaultdict(list)
    old_sep = new_sep = pairs = 0
    for g in board.groups:
        lines = [s for s in g.samplers if s.rank is not None]
        for s in lines:
            if s.selection == "cross-validated":
                honest = s.config.mean(metric)
                optimism[s.config.sampler].append((sign * (s.in_sample - honest), abs(honest)))
        # the old board: each sampler at its in-sample best setting, the old bootstrap rule
        old_values = []
        for s in lines:
            grid = [c for c in board.configs if c.dataset_id == g.dataset_id and c.sampler == s.config.sampler]
            usable = [c for c in grid if not c.copies and c.values.get(metric)]
            old_values.append(min(usable, key=lambda c: sign * c.mean(metric)).values[metric])
        for a, b in itertools.combinations(range(len(lines)), 2):
            pairs += 1
            reps = sorted(set(old_values[a]) & set(old_values[b]))
            x = np.array([[sign * old_values[a][r] for r in reps]])
            y = np.array([[sign * old_values[b][r] for r in reps]])
            old_sep += int(stats.bootstrap_rule(x, y)[0] != 0)
        S = stats.separations([s.config.values[metric] for s in lines], board.higher_is_better)
        new_sep += int(S.sum())
    print(f"{board.suite}: {len(board.groups)} tables, {pairs} sampler pairs, {board.repetitions} repetitions")
    print(f"separated: old rule {old_sep}, genbench.stats {new_sep}")
    print(f"optimism of in-sample selection ({metric}, in-sample best − leave-one-out, per configuration):")
    for name, pairs_ in sorted(optimism.items()):
        xs = np.array([x for x, _ in pairs_])
        rel = np.array([x / h for x, h in pairs_ if h > 0])
        print(
            f"  {name}: mean {xs.mean():+.4f} (relative {100 * rel.mean():+.1f} %), "
            f"largest {xs[np.argmax(abs(xs))]:+.4f}, over {len(xs)} configurations"
        )


if __name__ == "__main__":
    main()
