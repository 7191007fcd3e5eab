"""Fitted rates: the exponent of error ∝ M^b recovered within its interval from noisy synthetic
cells, a rate fitted into the data floor flagged, the time exponent, and the planted cases."""

from __future__ import annotations

import numpy as np

from genbench.reports.leaderboard import build_board
from genbench.reports.rates import board_rates, fit_exponent, rate_table

MS = (100, 200, 500, 1000, 2000)


def _rows(sampler: str, exponent: float, *, floor: float = 0.0, reps: int = 5, seed: int = 0, time_exp: float = 1.0):
    """Cells of ``sampler`` on arc at each M: sliced_w2 = max(0.5 · M^exponent, floor) × lognormal
    noise (8 %), fit + sample seconds ∝ M^time_exp."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in MS:
        for r in range(reps):
            value = max(0.5 * m**exponent, floor) * float(np.exp(0.08 * rng.standard_normal()))
            rows.append(
                {
                    "dataset": "arc",
                    "dataset_params": {"n_train": m},
                    "sampler": sampler,
                    "sampler_params": {},
                    "rep": r,
                    "status": "ok",
                    "message": "",
                    "metrics": {"sliced_w2": value, "memorization": 1.0},
                    "fit_s": 1e-3 * m**time_exp * float(np.exp(0.05 * rng.standard_normal())),
                    "sample_s": 0.0,
                    "peak_mem_mb": 10.0,
                    "diagnostics": {},
                }
            )
    return rows


def _board(rows, floors=None):
    board = build_board(rows, "t", directions={"sliced_w2": False, "memorization": None})
    board.floors = floors or {}
    return board


def test_a_known_exponent_lies_in_its_interval_and_the_time_exponent_too():
    rates = {(r.sampler, r.quantity): r for r in board_rates(_board(_rows("a", -0.5) + _rows("b", -0.25, seed=1)))}
    a, b = rates[("a", "sliced_w2")], rates[("b", "sliced_w2")]
    assert a.lo <= -0.5 <= a.hi and b.lo <= -0.25 <= b.hi
    assert a.hi < b.lo  # 5 repetitions of 8 % noise tell -0.5 from -0.25
    assert a.axis == "M" and a.x == MS and a.reps == 5 and a.floor == ""
    t = rates[("a", "time")]
    assert t.lo <= 1.0 <= t.hi
    headers, rows = rate_table(list(rates.values()))
    assert rows[0][headers.index("fitted over")] == "100–2000 (5 values)"


def test_the_interval_covers_the_true_exponent_about_95_percent_of_the_time():
    hits = 0
    for seed in range(60):
        pts = {}
        rng = np.random.default_rng(seed)
        for r in range(5):
            pts[r] = [(m, 0.5 * m**-0.5 * float(np.exp(0.1 * rng.standard_normal()))) for m in MS]
        _, lo, hi, _ = fit_exponent(pts)
        hits += lo <= -0.5 <= hi
    assert hits >= 52  # 95 % of 60 is 57; 52 allows binomial noise (P(X < 52) ≈ 0.3 %)


def test_a_rate_fitted_into_the_data_floor_is_flagged():
    floor = 0.5 * 500**-0.5  # reached from M = 500 on
    rows = _rows("a", -0.5, floor=floor)
    floors = {f"arc[n_train={m}]": {"sliced_w2": floor} for m in MS}
    (rate,) = [r for r in board_rates(_board(rows, floors)) if r.quantity == "sliced_w2" and r.sampler == "a"]
    assert rate.floor == "M ≥ 500"
    assert "at the data floor from M ≥ 500" in rate_table([rate])[1][0][-1]
    assert rate.hi < -0.5 + 0.5 and rate.slope > -0.5  # the floor flattens it: not the sampler's rate
    # planted: the same sampler far above the floor is not flagged
    rates = board_rates(_board(_rows("a", -0.5), {k: {"sliced_w2": floor / 10} for k in floors}))
    (clean,) = [r for r in rates if r.quantity == "sliced_w2" and r.sampler == "a"]
    assert clean.floor == ""
    (own,) = [r for r in rates if r.sampler == "data floor"]  # the floor's own exponent, beside them
    assert abs(own.slope) < 1e-9 and own.reps == 0


def test_too_few_axis_values_or_repetitions_give_no_rate():
    rows = [r for r in _rows("a", -0.5) if r["dataset_params"]["n_train"] in MS[:3]]
    assert board_rates(_board(rows)) == []
    one_rep = [r for r in _rows("a", -0.5) if r["rep"] == 0]
    assert board_rates(_board(one_rep)) == []
