"""How each sampler's error and cost grow: power-law exponents fitted along a board's M and d axes.

For a sampler on a family of dataset configurations that differ only in one axis (``n_train`` =
M, or ``dim`` = d) with at least :data:`MIN_POINTS` values, the exponent b of ``value ≈ a · x^b``
is fitted by least squares on log–log axes **per repetition** (repetition r's cells across the
axis), and the exponents of the repetitions give the estimate and its 95 % Student-t interval
(:func:`genbench.stats.mean_interval`) — the spread of the whole fit, not of one point. Quantities:
the ranking metric against M and d, and fit + sample seconds against M.

A metric cannot fall below the data's own floor (:mod:`.floor`: the metric between two fresh
draws at the cells' sizes, which does not shrink with M): where the sampler's interval of the mean
reaches the floor, the fitted exponent measures the floor, not the sampler, and the rate is
flagged with where that starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..results.schema import component_id
from ..stats import MIN_REPS, mean_interval, reaches
from .frame import Board, Group, Standing

#: Axis values a rate needs (per repetition: all but one of them).
MIN_POINTS = 4
#: The axes rates are fitted along: dataset parameter → its name in tables.
AXES = {"n_train": "M", "dim": "d"}

#: The sampler column of the data floor's own exponent.
FLOOR_ROW = "data floor"
#: What the seeds state about rates along these axes, shown beside the measured exponents.
PAPER_STATEMENTS = {
    ("bridge", "d"): "seed 001 §1: the number of training samples the bridge needs grows exponentially in d",
    ("localized_bridge", "d"): "seed 001 §1: localization remedies that curse of dimensionality (a smaller "
    "exponent in d than the bridge's at the same M)",
}


@dataclass
class Rate:
    """One fitted exponent: ``quantity`` (a metric, or ``time``) of ``sampler`` against ``axis``."""

    sampler: str
    family: str  # the dataset and its fixed parameters, e.g. ``hypersemisphere[n_train=500]``
    axis: str  # "M" or "d"
    quantity: str
    slope: float
    lo: float
    hi: float
    reps: int
    x: tuple[float, ...]  # the axis values fitted over
    #: "" or where the sampler's error reaches the data floor (``M ≥ 1000``): no rate from there on
    floor: str = ""

    def interval(self) -> str:
        return "—" if self.lo != self.lo else f"{self.lo:+.2f} to {self.hi:+.2f}"

    def range(self) -> str:
        return f"{_num(self.x[0])}–{_num(self.x[-1])} ({len(self.x)} values)"


def _num(x: float) -> str:
    return f"{x:g}"


def _families(board: Board, axis: str) -> dict[tuple[str, tuple], list[tuple[float, Group]]]:
    """(dataset, its other parameters) → [(axis value, group)] with ≥ :data:`MIN_POINTS` values."""
    out: dict[tuple[str, tuple], list[tuple[float, Group]]] = {}
    for g in board.groups:
        x = g.dataset_params.get(axis)
        if not isinstance(x, (int, float)) or isinstance(x, bool) or x <= 0:
            continue
        rest = tuple(sorted((k, v) for k, v in g.dataset_params.items() if k != axis))
        out.setdefault((g.dataset, rest), []).append((float(x), g))
    return {k: sorted(v, key=lambda t: t[0]) for k, v in out.items() if len({x for x, _ in v}) >= MIN_POINTS}


def _line(g: Group, sampler: str) -> Standing | None:
    return next((s for s in g.samplers if s.config.sampler == sampler and s.rank is not None), None)


def _times(board: Board, g: Group, s: Standing) -> dict[int, float]:
    """Fit + sample seconds per repetition of the line's shown configuration."""
    out = {}
    for r in board.rows:
        if r["status"] != "ok" or r["fit_s"] is None or r["sample_s"] is None:
            continue
        if component_id(r["sampler"], r["sampler_params"] or {}) != s.config.sampler_id:
            continue
        if component_id(r["dataset"], r["dataset_params"] or {}) == g.dataset_id:
            out[int(r["rep"])] = float(r["fit_s"]) + float(r["sample_s"])
    return out


def fit_exponent(points: dict[int, list[tuple[float, float]]]) -> tuple[float, float, float, int] | None:
    """``points``: repetition → [(x, value)]. The mean over repetitions of each one's least-squares
    log–log slope (from ≥ :data:`MIN_POINTS` − 1 positive values), with its 95 % t-interval, and how
    many repetitions gave a slope; ``None`` with fewer than :data:`MIN_REPS`."""
    slopes = []
    for pts in points.values():
        pts = [(x, y) for x, y in pts if x > 0 and y > 0 and math.isfinite(y)]
        if len({x for x, _ in pts}) < MIN_POINTS - 1:
            continue
        lx, ly = np.log([x for x, _ in pts]), np.log([y for _, y in pts])
        slopes.append(float(np.polyfit(lx, ly, 1)[0]))
    iv = mean_interval(slopes)
    if iv is None:
        return None
    return iv[0], iv[1], iv[2], len(slopes)


def _floor_start(board: Board, family: list[tuple[float, Group]], sampler: str, axis: str) -> str:
    """Where the sampler's ranking-metric interval reaches the data floor from there to the end of
    the axis (``M ≥ 1000``), or ""."""
    start = None
    for x, g in reversed(family):
        floor = board.floors.get(g.dataset_id, {}).get(board.metric)
        s = _line(g, sampler)
        if floor is None or s is None:
            break
        if not reaches(list(s.config.values.get(board.metric, {}).values()), floor, board.higher_is_better):
            break
        start = x
    return "" if start is None else f"{AXES[axis]} ≥ {_num(start)}"


def board_rates(board: Board) -> list[Rate]:
    """Every rate the board's axes allow: per sampler and dataset family, the ranking metric against
    M and d, and fit + sample seconds against M."""
    out: list[Rate] = []
    samplers = list(dict.fromkeys(c.sampler for c in board.configs))
    for axis, name in AXES.items():
        for (dataset, rest), family in _families(board, axis).items():
            label = component_id(dataset, dict(rest))
            quantities = [board.metric] + (["time"] if axis == "n_train" else [])
            for sampler in samplers:
                for q in quantities:
                    points: dict[int, list[tuple[float, float]]] = {}
                    xs = []
                    for x, g in family:
                        s = _line(g, sampler)
                        if s is None:
                            continue
                        xs.append(x)
                        values = _times(board, g, s) if q == "time" else s.config.values.get(q, {})
                        for rep, v in values.items():
                            points.setdefault(rep, []).append((x, v))
                    fit = fit_exponent(points)
                    if fit is None or len(xs) < MIN_POINTS:
                        continue
                    floor = _floor_start(board, family, sampler, axis) if q != "time" else ""
                    out.append(Rate(sampler, label, name, q, fit[0], fit[1], fit[2], fit[3], tuple(xs), floor))
            floor_rate = _floor_rate(board, family, label, name)
            if floor_rate is not None:
                out.append(floor_rate)
    return out


def _floor_rate(board: Board, family: list[tuple[float, Group]], label: str, axis: str) -> Rate | None:
    """The exponent of the data floor itself along the axis (a least-squares fit of its means; no
    interval): what a perfect sampler's metric does, beside which the samplers' exponents read."""
    floors = [(x, board.floors.get(g.dataset_id, {}).get(board.metric)) for x, g in family]
    pts = [(x, y) for x, y in floors if y is not None and y > 0]
    if len({x for x, _ in pts}) < MIN_POINTS:
        return None
    slope = float(np.polyfit(np.log([x for x, _ in pts]), np.log([y for _, y in pts]), 1)[0])
    return Rate(FLOOR_ROW, label, axis, board.metric, slope, math.nan, math.nan, 0, tuple(x for x, _ in pts))


def rate_table(rates: list[Rate]) -> tuple[list[str], list[list[str]]]:
    """The rates as text, one row per sampler, family, axis and quantity."""
    headers = ["sampler", "data", "axis", "of", "exponent", "95% CI", "fitted over", "reps", "note"]
    rows = []
    for r in rates:
        note = f"at the data floor from {r.floor}: not a rate there" if r.floor else ""
        if r.sampler == FLOOR_ROW:
            note = "the floor's own exponent (its means; no interval): a perfect sampler's"
        paper = PAPER_STATEMENTS.get((r.sampler, r.axis)) if r.quantity != "time" else None
        note = "; ".join(filter(None, [note, paper]))
        of = "fit+sample s" if r.quantity == "time" else r.quantity
        reps = str(r.reps) if r.reps else "—"
        rows.append([r.sampler, r.family, r.axis, of, f"{r.slope:+.2f}", r.interval(), r.range(), reps, note])
    return headers, rows


RATE_NOTE = (
    "Each exponent b of `value ≈ a · x^b` is fitted on log–log axes per repetition and averaged; its "
    f"95 % interval is the Student-t interval over the repetitions (≥ {MIN_REPS}), so it covers the whole fit's "
    "noise. Negative: the value falls as the axis grows. A metric's exponent stops meaning anything where the "
    "sampler reaches the data floor (the metric between two fresh draws at the cells' sizes, which does not shrink "
    "with M): those rates say so."
)
