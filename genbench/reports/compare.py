"""``genbench compare``: did B do better than A, with the noise of the repetitions taken into account.

Two sides, each a results store (``.db``, ``.db.gz``), a suite in a store (``manifolds:reference``)
or an exported ``results.csv`` (read as a store: :mod:`genbench.results.csvstore`); or one board
and two of its samplers (``--sampler X --against Y``).
Cells are matched by their id — dataset configuration, sampler configuration, repetition — so two
stores of one suite from two commits compare cell for cell. Per dataset configuration, sampler
configuration and metric the verdict comes from :mod:`genbench.stats`: the paired t-test over the
repetitions both sides have, Holm's procedure over the configurations of each metric (so that
two runs of the same code call any configuration "better" or "worse" with probability ≤ 5 % per
metric), and the t-interval of the mean difference B − A.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GenbenchError
from ..stats import ALPHA, MIN_REPS, holm, mean_interval, paired, t_pvalue
from . import numbers

#: Verdicts of a configuration (B against A).
BETTER, WORSE, TIED, TOO_FEW, NO_DIRECTION = "better", "worse", "tied", "too few repetitions", "no direction"

Values = dict[str, dict[int, float]]  # metric → repetition → value


@dataclass
class Side:
    """What one side of a comparison holds: per (dataset id, sampler id) each metric's value per repetition."""

    label: str
    suite: str
    cells: dict[tuple[str, str], Values] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)

    def add(self, dataset_id: str, sampler_id: str, rep: int, metrics: dict[str, Any]) -> None:
        values = self.cells.setdefault((dataset_id, sampler_id), {})
        for name, v in metrics.items():
            if name not in self.metrics:
                self.metrics.append(name)
            x = _number(v)
            if x is not None:
                values.setdefault(name, {})[rep] = x


@dataclass
class Line:
    """One configuration and metric: B − A over the shared repetitions, its interval and verdict."""

    dataset: str
    sampler: str
    metric: str
    n: int
    a: float
    b: float
    diff: float
    lo: float
    hi: float
    p: float
    verdict: str = TIED
    #: the compared configurations when they differ (a sampler against another on one board)
    against: str = ""


def _number(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _split_id(cell_id: str) -> tuple[str, str, int]:
    """``dataset_id/sampler_id/rep=r`` → its parts (ids may hold ``/`` only inside brackets)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(cell_id):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "/" and depth == 0:
            parts.append(cell_id[start:i])
            start = i + 1
    parts.append(cell_id[start:])
    if len(parts) != 3 or not parts[2].startswith("rep="):
        raise GenbenchError(f"not a cell id: {cell_id!r}")
    return parts[0], parts[1], int(parts[2][4:])


def _from_rows(label: str, suite: str, rows: Iterable[dict[str, Any]]) -> Side:
    side = Side(label, suite)
    for r in rows:
        if r.get("status") != "ok":
            continue
        dataset, sampler, rep = _split_id(str(r["cell_id"]))
        side.add(dataset, sampler, rep, r.get("metrics") or {})
    return side


def _side_rows(spec: str, store: str | None, suite: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The suite and current rows one side names: ``spec`` a store file (``.db``, ``.db.gz``) or an
    exported ``results.csv`` (its ``suite``, else its last suite), or a suite name in ``store``."""
    from ..results.export import open_store, results_rows

    source: str | None
    if Path(spec).exists() or spec.endswith((".db", ".db.gz", ".sqlite", ".csv")):
        if not Path(spec).exists():
            raise GenbenchError(f"no such file: {spec}")
        source, name = spec, suite
    else:
        source, name = store, spec
    if name is None:
        with open_store(source) as db:
            name = db.last_suite()
        if name is None:
            raise GenbenchError(f"the store {source} holds no results yet")
    rows = results_rows(source, name)
    if not rows:
        raise GenbenchError(f"no results of suite {name!r} in {source or 'the default store'}")
    return name, rows


def load_side(spec: str, *, store: str | None = None, suite: str | None = None) -> Side:
    """One side: the rows ``spec`` names (see :func:`_side_rows`), by configuration and repetition."""
    name, rows = _side_rows(spec, store, suite)
    return _from_rows(spec, name, rows)


def _line(dataset: str, sampler: str, metric: str, a: dict[int, float], b: dict[int, float]) -> Line:
    d = -paired(a, b)  # b − a over the shared repetitions
    reps = sorted(set(a) & set(b))
    mean_a = sum(a[r] for r in reps) / len(reps) if reps else math.nan
    mean_b = sum(b[r] for r in reps) / len(reps) if reps else math.nan
    iv = mean_interval(d) if len(d) >= MIN_REPS else None
    lo, hi = (iv[1], iv[2]) if iv else (math.nan, math.nan)
    p = t_pvalue(d) if len(d) >= MIN_REPS else math.nan
    return Line(dataset, sampler, metric, len(d), mean_a, mean_b, float(d.mean()) if len(d) else math.nan, lo, hi, p)


def judge(lines: list[Line], directions: dict[str, bool | None], alpha: float = ALPHA) -> list[Line]:
    """Set each line's verdict: Holm over the lines of each metric, the sign by the metric's direction."""
    for metric in dict.fromkeys(ln.metric for ln in lines):
        family = [ln for ln in lines if ln.metric == metric]
        higher = directions.get(metric, False)
        rejected = holm([ln.p for ln in family], alpha)
        for ln, reject in zip(family, rejected, strict=True):
            if ln.n < MIN_REPS:
                ln.verdict = TOO_FEW
            elif higher is None:
                ln.verdict = NO_DIRECTION
            elif not reject:
                ln.verdict = TIED
            else:
                ln.verdict = BETTER if (ln.diff > 0) == bool(higher) else WORSE
    return lines


def compare_sides(a: Side, b: Side, metrics: list[str], directions: dict[str, bool | None]) -> list[Line]:
    """Every configuration both sides ran, for each of ``metrics``, judged (see :func:`judge`)."""
    lines = []
    for key in a.cells:
        if key not in b.cells:
            continue
        for m in metrics:
            va, vb = a.cells[key].get(m, {}), b.cells[key].get(m, {})
            if va and vb:
                lines.append(_line(key[0], key[1], m, va, vb))
    return judge(lines, directions)


def compare_samplers(board: Any, sampler: str, against: str, metrics: list[str]) -> list[Line]:
    """On one board: ``sampler`` (B) against ``against`` (A), each at its selected setting (the
    leaderboard's line, tuned without peeking), per dataset configuration both ran."""
    lines = []
    for g in board.groups:
        by = {s.config.sampler: s for s in g.samplers}
        if sampler not in by or against not in by:
            continue
        sa, sb = by[against].config, by[sampler].config
        for m in metrics:
            va, vb = sa.values.get(m, {}), sb.values.get(m, {})
            if va and vb:
                ln = _line(g.dataset_id, sb.sampler_id, m, va, vb)
                ln.against = sa.sampler_id
                lines.append(ln)
    return judge(lines, board.directions)


def unmatched(a: Side, b: Side) -> tuple[int, int]:
    """Configurations only A ran, and only B ran."""
    return len(set(a.cells) - set(b.cells)), len(set(b.cells) - set(a.cells))


def summary_line(lines: list[Line], metric: str, what: str = "B against A") -> str:
    """``B against A on sinkhorn: better on 7, tied on 3, worse on 1 of 11 configurations …``."""
    mine = [ln for ln in lines if ln.metric == metric]
    if not mine:
        return f"{what}: no configuration with values of {metric} on both sides"
    count = {v: sum(1 for ln in mine if ln.verdict == v) for v in (BETTER, TIED, WORSE, TOO_FEW)}
    worst = max((ln for ln in mine if ln.verdict == WORSE), key=lambda ln: abs(ln.diff), default=None)
    text = (
        f"{what} on {metric}: better on {count[BETTER]}, tied on {count[TIED]}, worse on {count[WORSE]} of "
        f"{len(mine)} configurations (paired t-tests over shared repetitions, Holm over the {len(mine)} at "
        f"{ALPHA:.0%})"
    )
    if count[TOO_FEW]:
        text += f"; {count[TOO_FEW]} with fewer than {MIN_REPS} shared repetitions"
    if worst is not None:
        text += f"; largest worsening {_diff(worst)} on {worst.dataset} {worst.sampler}"
    return text


def _diff(ln: Line) -> str:
    rel = f" ({100 * ln.diff / abs(ln.a):+.0f} %)" if ln.a and ln.a == ln.a else ""
    return f"{numbers.mean_sd(ln.diff, None)}{rel}"


def table_rows(lines: list[Line]) -> tuple[list[str], list[list[str]]]:
    """The lines as text: configuration, metric, A, B, Δ = B − A with its 95 % interval, p, verdict."""
    headers = ["dataset", "sampler", "metric", "n", "A", "B", "B − A [95% CI]", "p", "verdict"]
    rows = []
    for ln in lines:
        ci = "" if ln.lo != ln.lo else f" [{numbers.mean_sd(ln.lo, None)}, {numbers.mean_sd(ln.hi, None)}]"
        name = f"{ln.sampler} vs {ln.against}" if ln.against else ln.sampler
        rows.append(
            [
                ln.dataset,
                name,
                ln.metric,
                str(ln.n),
                numbers.mean_sd(ln.a, None),
                numbers.mean_sd(ln.b, None),
                _diff(ln) + ci,
                "—" if ln.p != ln.p else f"{ln.p:.2g}",
                ln.verdict,
            ]
        )
    return headers, rows


def to_json(lines: list[Line]) -> str:
    return json.dumps([{k: (None if isinstance(v, float) and v != v else v) for k, v in asdict(ln).items()}
                       for ln in lines], indent=1)  # fmt: skip


@dataclass
class Comparison:
    """What ``genbench compare`` found: the judged lines, the metric the summary and the gate use,
    and the summary line."""

    lines: list[Line]
    primary: str
    summary: str
    only_a: int = 0
    only_b: int = 0

    @property
    def worse(self) -> list[Line]:
        """Configurations where B is worse than A on the primary metric."""
        return [ln for ln in self.lines if ln.metric == self.primary and ln.verdict == WORSE]


def _choose(metrics: list[str], directions: dict[str, bool | None], primary: str | None, wanted: tuple[str, ...]):
    from .frame import choose_metric

    main = choose_metric(metrics, directions, wanted[0] if wanted else None, primary)
    if not wanted:
        return main, [m for m in metrics if directions.get(m) is not None]
    unknown = [w for w in wanted if w not in metrics]
    if unknown:
        raise GenbenchError(f"--metric {unknown[0]!r}: not a metric of both sides ({', '.join(metrics)})")
    return main, list(wanted)


def run_compare(
    a: str,
    b: str | None = None,
    *,
    store: str | None = None,
    suite: str | None = None,
    sampler: str | None = None,
    against: str | None = None,
    metrics: tuple[str, ...] = (),
    plugin_dirs: tuple[str, ...] = (),
) -> Comparison:
    """Compare two sides (``a`` and ``b``), or two samplers of one board (``a`` alone with ``sampler``
    and ``against``); see the module docstring."""
    from .frame import metric_directions, suite_primary_metric

    if (sampler is None) != (against is None):
        raise GenbenchError("--sampler and --against go together: the sampler to judge and the one to judge it by")
    if sampler is not None:
        if b is not None:
            raise GenbenchError("with --sampler/--against give one side (a store, a suite or a results.csv), not two")
        return _compare_on_board(a, store, suite, sampler, against or "", metrics, plugin_dirs)
    if b is None:
        raise GenbenchError("compare needs two sides (A B), or one and --sampler X --against Y")
    side_a, side_b = load_side(a, store=store, suite=suite), load_side(b, store=store, suite=suite)
    shared = [m for m in side_a.metrics if m in side_b.metrics]
    directions = metric_directions(shared, plugin_dirs)
    primary, chosen = _choose(shared, directions, suite_primary_metric(side_a.suite, plugin_dirs), metrics)
    lines = compare_sides(side_a, side_b, chosen, directions)
    only_a, only_b = unmatched(side_a, side_b)
    text = summary_line(lines, primary, f"B ({b}) against A ({a})")
    if only_a or only_b:
        text += f"; not compared: {only_a} configurations only in A, {only_b} only in B"
    return Comparison(lines, primary, text, only_a, only_b)


def _compare_on_board(
    spec: str, store: str | None, suite: str | None, sampler: str, against: str, metrics: tuple[str, ...], plugin_dirs
) -> Comparison:
    from .frame import build_board, metric_directions, suite_primary_metric

    name, rows = _side_rows(spec, store, suite)
    side = _from_rows(spec, name, rows)
    names = sorted({r["sampler"] for r in rows})
    for wanted in (sampler, against):
        if wanted not in names:
            from ..errors import did_you_mean

            raise GenbenchError(f"no sampler {wanted!r} on this board{did_you_mean(wanted, names)}")
    directions = metric_directions(side.metrics, plugin_dirs)
    primary, chosen = _choose(side.metrics, directions, suite_primary_metric(name, plugin_dirs), metrics)
    board = build_board(rows, name, metric=primary, directions=directions)
    lines = compare_samplers(board, sampler, against, chosen)
    return Comparison(lines, primary, summary_line(lines, primary, f"{sampler} against {against}"))
