"""The leaderboard's one data step: stored rows → a :class:`Board` that every renderer reads.

A :class:`Config` is one dataset configuration × one sampler configuration over its repetitions.
Per dataset configuration (a :class:`Group`: the dataset and the parameters the suite sets, so
one group per M and d where the suite varies them) the board ranks, with the one rank of
:mod:`genbench.stats`,

* *samplers*, each tuned over its grid (its ε, bandwidth, …) without looking at the score it is
  judged by: repetition ``r`` is scored at the setting with the best mean over the *other*
  repetitions (leave-one-repetition-out), with the tuning sensitivity: how much worse its grid is
  on average than its best setting;
* *samplers at their defaults* (the setting the sampler's class declares, where its grid has it;
  a sampler run at one setting, at that setting), ranked on their own;
* *configurations*, every grid point on its own (the terminal table and the HTML's full table).

A configuration whose ``memorization`` mean is below the copying threshold (see
:mod:`genbench.metrics.memorization`) is marked ``⚠ copies`` and not ranked, nor chosen as a
sampler's best setting; one with no value for the ranking metric (every repetition failed) is
not ranked either.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..errors import GenbenchError, did_you_mean
from ..metrics.memorization import COPYING_THRESHOLD, flags_copying
from ..results.schema import component_id
from ..stats import MIN_REPS, RankResult, rank_values, reaches

#: Shown instead of a rank for a configuration that copies its training set.
COPIES = "⚠ copies"
#: Marks a configuration trained with less than its sampler's default budget.
BUDGET = "⧗ budget-limited"
#: Shown instead of a rank when no repetition gave a value (every cell failed, or the metric was NaN).
NO_VALUE = "n/a"


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def _std(xs: list[float]) -> float:
    if len(xs) < 2:
        return math.nan
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


@dataclass
class Config:
    """One dataset configuration × one sampler configuration, over its repetitions."""

    dataset_id: str
    dataset: str
    dataset_params: dict[str, Any]
    sampler_id: str
    sampler: str
    sampler_params: dict[str, Any]
    #: every parameter of the sampler as it ran (the suite's and the class defaults)
    sampler_config: dict[str, Any] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    #: metric → repetition → value, from ok cells that gave one
    values: dict[str, dict[int, float]] = field(default_factory=dict)
    fit_s: list[float] = field(default_factory=list)
    sample_s: list[float] = field(default_factory=list)
    peak_mem_mb: list[float] = field(default_factory=list)
    #: ``(rep, diagnostics)`` of ok cells that reported any
    diagnostics: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: ``(rep, thumbnail)`` of ok cells that stored one (:mod:`genbench.results.thumbnail`)
    thumbnails: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: first message of a failed cell
    failure: str = ""
    #: what limits the training budget below the sampler's default (``steps 2000 of 16000``), or ""
    budget: str = ""

    @property
    def n_cells(self) -> int:
        return sum(self.statuses.values())

    @property
    def n_ok(self) -> int:
        return self.statuses["ok"]

    @property
    def n_failed(self) -> int:
        """Cells that did not finish ok (error, invalid, timeout, crashed); skipped cells are not failures."""
        return self.n_cells - self.n_ok - self.statuses["skipped"]

    def mean(self, metric: str) -> float:
        return _mean(list(self.values.get(metric, {}).values()))

    def std(self, metric: str) -> float:
        return _std(list(self.values.get(metric, {}).values()))

    @property
    def copies(self) -> bool:
        """Mean ``memorization`` below the copying threshold (``False`` when not measured)."""
        m = self.mean("memorization")
        return m == m and flags_copying(m)

    def time_s(self) -> float:
        """Mean fit + sample seconds over ok cells."""
        return _mean([f + s for f, s in zip(self.fit_s, self.sample_s, strict=False)])


@dataclass
class Standing:
    """One line of a ranked table: a sampler at its selected setting, or one configuration."""

    config: Config
    rank: RankResult | None  # None: not ranked (see ``note``)
    note: str = ""  # COPIES, NO_VALUE or ""
    #: the sampler's settings in this group (configurations of its grid) and the parameters that vary
    settings: int = 1
    tuned: tuple[str, ...] = ()
    #: mean over the grid (copying settings left out) of how much worse each setting is than the best
    sensitivity: float | None = None
    #: cells and failed cells over every setting of the sampler (sampler lines) or this configuration
    cells: int = 0
    failed: int = 0
    #: how the setting was chosen: ``fixed`` (one setting), ``cross-validated`` (leave one repetition
    #: out), ``default`` (one repetition: nothing to select on honestly), or "" (a configuration line)
    selection: str = ""
    #: repetitions scored at the shown setting, of those scored (cross-validated lines)
    chosen: tuple[int, int] = (0, 0)
    #: the grid's best mean chosen on every repetition at once (the old, optimistic selection)
    in_sample: float | None = None
    #: the same sampler at its default setting, ranked among the defaults (``None``: not on the grid)
    default: Standing | None = None

    @property
    def rank_label(self) -> str:
        return self.rank.label() if self.rank else self.note

    def best_setting(self) -> str:
        """The setting this line shows: the tuned parameters (``eps=0.01``, with ``4/5 reps`` when
        leave-one-out selection did not pick it every time), else every parameter the suite sets
        (``eps=0.025``), else ``defaults``."""
        params = self.config.sampler_params
        keys = self.tuned or tuple(params)
        if not keys:
            return "defaults"
        text = component_id("", {k: params[k] for k in keys if k in params})[1:-1]
        if self.selection == "cross-validated" and self.chosen[0] != self.chosen[1]:
            text += f" ({self.chosen[0]}/{self.chosen[1]} reps)"
        elif self.selection == "default":
            text += " (default)"
        return text


@dataclass
class Group:
    """A dataset configuration and its ranked samplers and configurations."""

    dataset_id: str
    dataset: str
    dataset_params: dict[str, Any]
    samplers: list[Standing]
    configs: list[Standing]
    #: each sampler at its default setting (see the module docstring), ranked on their own
    defaults: list[Standing] = field(default_factory=list)


@dataclass
class Board:
    """Everything the renderers show: ranked groups, the configurations, and what to say about them."""

    suite: str
    metric: str
    higher_is_better: bool
    metrics: list[str]
    directions: dict[str, bool | None]
    groups: list[Group]
    configs: list[Config]
    rows: list[dict[str, Any]]
    repetitions: int
    copying_checked: bool
    #: metrics with a negative mean somewhere (docs/leaderboard.md explains why that can happen)
    negative: list[str]
    #: dataset id → metric → the data's own noise floor (:mod:`.floor`); empty when not computed
    floors: dict[str, dict[str, float]] = field(default_factory=dict)
    #: dataset id → metric → the standard deviation of the floor's draws
    floor_sd: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        return len(self.rows)

    def statuses(self) -> Counter:
        return Counter(r["status"] for r in self.rows)


@dataclass
class SummaryLine:
    """One sampler across every dataset configuration of a board: the mean of its per-dataset ranks
    (the very ranks the tables show), tuned and at defaults."""

    sampler: str
    mean_rank: float  # mean of its per-dataset ranks, over the configurations where it is ranked
    lo: float | None  # mean of the per-dataset rank intervals' ends (None with one repetition)
    hi: float | None
    ranked: int  # configurations where it is ranked (not copying, has a value)
    groups: int  # configurations where it ran
    wins: int  # separated from, and better than, every other sampler (rank interval 1–1)
    top: int  # no sampler separated from it and better (rank interval starts at 1)
    time_s: float  # median over configurations of mean fit + sample seconds
    peak_mb: float  # median over configurations of mean peak memory
    copies: int  # configurations of the sampler flagged as copying
    failed: int
    cells: int
    budget: str = ""  # the budget limit, where every ranked line is budget-limited alike
    settings: int = 1  # settings tried per configuration (the largest grid)
    default_rank: float = math.nan  # mean of its per-dataset ranks among the samplers at their defaults
    default_ranked: int = 0
    #: configurations where its interval of the mean reaches the data floor (see :func:`at_floor`)
    at_floor: int = 0

    def rank_text(self) -> str:
        return "—" if self.ranked == 0 else f"{self.mean_rank:.2f}"

    def interval_text(self) -> str:
        return "—" if self.lo is None else f"{self.lo:.1f}–{self.hi:.1f}"

    def default_text(self) -> str:
        return "—" if self.default_ranked == 0 else f"{self.default_rank:.2f}"


def _median(xs: list[float]) -> float:
    xs = sorted(x for x in xs if x == x)
    if not xs:
        return math.nan
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else 0.5 * (xs[mid - 1] + xs[mid])


def at_floor(board: Board, dataset_id: str, s: Standing) -> bool | None:
    """Whether a ranked line cannot be told from fresh data: the 95 % t-interval of its mean
    reaches the data floor (or beyond); ``None`` without a floor, a rank or 2 repetitions."""
    floor = board.floors.get(dataset_id, {}).get(board.metric)
    if floor is None or s.rank is None:
        return None
    return reaches(list(s.config.values.get(board.metric, {}).values()), floor, board.higher_is_better)


def summarize(board: Board) -> list[SummaryLine]:
    """The cross-dataset summary: per sampler the mean of its per-dataset ranks (the tables' own)
    with the mean of their intervals' ends, wins and top places (from the same intervals), the mean
    rank at defaults, cost, copying flags and failures — ordered by mean rank, samplers never
    ranked last."""
    lines = []
    for sampler in dict.fromkeys(c.sampler for c in board.configs):
        placed = [(g, s) for g in board.groups for s in g.samplers if s.config.sampler == sampler]
        standings = [s for _, s in placed]
        ranked = [s for s in standings if s.rank is not None]
        ranks = [s.rank for s in ranked if s.rank is not None]  # the ranked standings' ranks
        default_ranks = [s.default.rank for s in standings if s.default is not None and s.default.rank is not None]
        intervals = [(r.lo, r.hi) for r in ranks if r.lo is not None and r.hi is not None]
        lo = hi = None
        if ranked and len(intervals) == len(ranks):
            lo, hi = _mean([a for a, _ in intervals]), _mean([b for _, b in intervals])
        configs = [c for c in board.configs if c.sampler == sampler]
        budgets = {s.config.budget for s in ranked}
        lines.append(
            SummaryLine(
                sampler=sampler,
                mean_rank=_mean([r.rank for r in ranks]) if ranked else math.inf,
                lo=lo,
                hi=hi,
                ranked=len(ranked),
                groups=len(standings),
                wins=sum(1 for r in ranks if r.best),
                top=sum(1 for r in ranks if r.top),
                at_floor=sum(1 for g, s in placed if at_floor(board, g.dataset_id, s)),
                time_s=_median([s.config.time_s() for s in standings]),
                peak_mb=_median([_mean(s.config.peak_mem_mb) for s in standings]),
                copies=sum(1 for c in configs if c.copies),
                failed=sum(s.failed for s in standings),
                cells=sum(s.cells for s in standings),
                budget=budgets.pop() if len(budgets) == 1 else "",
                settings=max((s.settings for s in standings), default=1),
                default_rank=_mean([r.rank for r in default_ranks]) if default_ranks else math.nan,
                default_ranked=len(default_ranks),
            )
        )
    return sorted(lines, key=lambda x: (x.mean_rank, x.sampler))


#: Marks in the rank matrix: in the top group; indistinguishable from fresh data; copies.
TOP_MARK, FLOOR_MARK, COPY_MARK = "●", "≈", "⚠"


@dataclass
class MatrixCell:
    """One sampler on one dataset configuration, as the rank matrix shows it."""

    label: str  # its rank label (``2=``), or why it has none
    rank: int | None
    top: bool  # no sampler separated from it and better (rank interval starts at 1)
    floor: bool  # the 95 % interval of its mean reaches the data floor
    copies: bool

    def text(self) -> str:
        if self.copies:
            return COPY_MARK
        return " ".join([self.label, *([TOP_MARK] if self.top else []), *([FLOOR_MARK] if self.floor else [])])


def rank_matrix(board: Board) -> tuple[list[str], list[tuple[str, list[MatrixCell | None]]]]:
    """Samplers in summary order (by mean rank), and per dataset configuration each sampler's
    per-dataset rank — the tables' own — with its marks (``None``: it did not run there)."""
    order = [x.sampler for x in summarize(board)]
    rows = []
    for g in board.groups:
        by = {s.config.sampler: s for s in g.samplers}
        cells: list[MatrixCell | None] = []
        for name in order:
            s = by.get(name)
            if s is None:
                cells.append(None)
                continue
            top = bool(s.rank is not None and s.rank.top)
            floor = bool(at_floor(board, g.dataset_id, s))
            cells.append(MatrixCell(s.rank_label, s.rank.rank if s.rank else None, top, floor, s.note == COPIES))
        rows.append((g.dataset_id, cells))
    return order, rows


def collect_configs(rows: list[dict[str, Any]]) -> list[Config]:
    """Stored rows → configurations, in the order they first appear."""
    out: dict[tuple[str, str], Config] = {}
    for r in rows:
        did = component_id(r["dataset"], r["dataset_params"] or {})
        sid = component_id(r["sampler"], r["sampler_params"] or {})
        c = out.get((did, sid))
        if c is None:
            c = out[(did, sid)] = Config(
                did,
                r["dataset"],
                dict(r["dataset_params"] or {}),
                sid,
                r["sampler"],
                dict(r["sampler_params"] or {}),
                dict(r.get("sampler_config") or {}),
            )
        c.statuses[r["status"]] += 1
        if r["status"] == "ok":
            for name, value in (r["metrics"] or {}).items():
                c.values.setdefault(name, {})
                if value is not None and value == value:
                    c.values[name][int(r["rep"])] = float(value)
            if r.get("fit_s") is not None and r.get("sample_s") is not None:
                c.fit_s.append(r["fit_s"])
                c.sample_s.append(r["sample_s"])
            if r.get("peak_mem_mb") is not None:
                c.peak_mem_mb.append(r["peak_mem_mb"])
            if r.get("diagnostics"):
                c.diagnostics.append((int(r["rep"]), r["diagnostics"]))
            thumb = r.get("thumbnail")
            if isinstance(thumb, dict) and "generated" in thumb:
                c.thumbnails.append((int(r["rep"]), thumb))
        else:
            for name in r["metrics"] or {}:
                c.values.setdefault(name, {})
            if not c.failure and r["status"] != "skipped":
                c.failure = f"{r['status']}: {(r.get('message') or '').splitlines()[0] if r.get('message') else ''}"
    return list(out.values())


def mark_budgets(configs: list[Config], defaults: dict[str, dict[str, Any]]) -> None:
    """Set ``budget`` on every configuration that trains with less than its sampler's default budget
    (``defaults``: sampler → its ``budget_params`` with their defaults)."""
    for c in configs:
        short = []
        for key, default in defaults.get(c.sampler, {}).items():
            value = c.sampler_params.get(key, default)
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value, default))
            if numbers and value < default:
                short.append(f"{key} {value:g} of {default:g}")
        c.budget = ", ".join(short)


def budget_label(c: Config, text: str) -> str:
    """``text`` with the budget-limited mark, when ``c`` has one."""
    return f"{text} {BUDGET} ({c.budget})" if c.budget else text


def _sort_key(value: Any) -> tuple:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _rank(standings: list[Standing], metric: str, higher: bool) -> list[Standing]:
    """Rank the standings that have a value and do not copy; order the rest after them."""
    rankable = [s for s in standings if not s.note]
    results = rank_values([s.config.values[metric] for s in rankable], higher)
    for s, r in zip(rankable, results, strict=True):
        s.rank = r
    sign = -1.0 if higher else 1.0

    def key(s: Standing) -> tuple:
        m = s.config.mean(metric)
        return (s.rank.rank if s.rank else math.inf, {"": 0, COPIES: 1, NO_VALUE: 2}[s.note], sign * m if m == m else 0)

    return sorted(standings, key=key)


def _note(c: Config, metric: str) -> str:
    if c.copies:
        return COPIES
    if not c.values.get(metric):
        return NO_VALUE
    return ""


def is_default(c: Config, defaults: dict[str, Any] | None) -> bool:
    """Whether ``c`` ran at its sampler's declared defaults (``defaults``: the class's; ``None``
    when the sampler is not registered here)."""
    if defaults is None:
        return False

    def same(a: Any, b: Any) -> bool:  # the store's JSON has lists where the class has tuples
        return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)

    return all(same(c.sampler_config.get(k, v), v) for k, v in defaults.items())


def _first_default(grid: list[Config], defaults: dict[str, Any] | None) -> Config | None:
    """The first setting of ``grid`` at the sampler's declared defaults, if it has one."""
    return next((c for c in grid if is_default(c, defaults)), None)


def select_without_peeking(grid: list[Config], metric: str, higher: bool) -> tuple[dict[int, Config], Counter]:
    """Leave-one-repetition-out selection: for each repetition ``r``, the setting of ``grid`` with the
    best mean over the *other* repetitions (ties: the first in grid order). Returns ``{r: setting}``
    and how often each setting (by id) was chosen; ``{}`` with fewer than two repetitions."""
    sign = -1.0 if higher else 1.0
    reps = sorted({r for c in grid for r in c.values.get(metric, {})})
    picks: dict[int, Config] = {}
    if len(reps) < MIN_REPS:
        return picks, Counter()
    for r in reps:
        scored: list[tuple[float, int, Config]] = []
        for c in grid:
            vals = c.values.get(metric, {})
            others = [v for q, v in vals.items() if q != r]
            if r in vals and others:
                scored.append((sign * _mean(others), len(scored), c))
        if scored:
            picks[r] = min(scored, key=lambda t: t[:2])[2]
    return picks, Counter(c.sampler_id for c in picks.values())


def _selected_config(grid: list[Config], picks: dict[int, Config], counts: Counter) -> Config:
    """A line whose repetition ``r`` is the value of ``picks[r]`` at ``r`` (every metric), shown under
    the setting picked most often (its costs, thumbnails and diagnostics)."""
    order = {c.sampler_id: i for i, c in enumerate(grid)}
    shown_id = min(counts, key=lambda sid: (-counts[sid], order[sid]))
    shown = next(c for c in grid if c.sampler_id == shown_id)
    values: dict[str, dict[int, float]] = {m: {} for m in shown.values}
    for r, c in picks.items():
        for m, vals in c.values.items():
            if r in vals:
                values.setdefault(m, {})[r] = vals[r]
    return Config(**{**shown.__dict__, "values": values})


def _sampler_line(grid: list[Config], metric: str, higher: bool, defaults: dict[str, Any] | None) -> Standing:
    """One sampler in one group: its setting chosen without peeking (or its one setting), with the
    tuning sensitivity and the old in-sample best kept for comparison."""
    sign = -1.0 if higher else 1.0
    keys = sorted({k for c in grid for k in c.sampler_params})
    tuned = tuple(k for k in keys if len({repr(c.sampler_params.get(k)) for c in grid}) > 1)
    usable = [c for c in grid if _note(c, metric) == ""]
    common: dict[str, Any] = {
        "settings": len(grid),
        "tuned": tuned,
        "cells": sum(c.n_cells for c in grid),
        "failed": sum(c.n_failed for c in grid),
    }
    if not usable:  # every setting copies or has no value: show the one that copies, if any
        copying = [c for c in grid if c.copies]
        best, note = (copying[0], COPIES) if copying else (grid[0], NO_VALUE)
        return Standing(best, None, note, selection="fixed" if len(grid) == 1 else "", **common)
    in_sample = min(usable, key=lambda c: sign * c.mean(metric))
    sens = None
    if len(usable) > 1:
        b = sign * in_sample.mean(metric)
        sens = _mean([sign * c.mean(metric) - b for c in usable])
    if len(usable) == 1:
        line, selection, chosen = usable[0], "fixed" if len(grid) == 1 else "only usable", (0, 0)
    else:
        picks, counts = select_without_peeking(usable, metric, higher)
        if picks:
            line = _selected_config(usable, picks, counts)
            selection, chosen = "cross-validated", (max(counts.values()), len(picks))
        else:  # one repetition: choosing on it would score the choice on the data it was made on
            line, selection, chosen = _first_default(usable, defaults) or usable[0], "default", (0, 0)
    return Standing(
        line,
        None,
        "",
        sensitivity=sens,
        selection=selection,
        chosen=chosen,
        in_sample=in_sample.mean(metric),
        **common,
    )


def _default_line(grid: list[Config], metric: str, defaults: dict[str, Any] | None) -> Standing | None:
    """The sampler at its default setting (its one setting when it ran at one), or ``None``."""
    c = grid[0] if len(grid) == 1 else _first_default(grid, defaults)
    if c is None:
        return None
    return Standing(c, None, _note(c, metric), settings=1, cells=c.n_cells, failed=c.n_failed, selection="default")


def _group(
    configs: list[Config], metric: str, higher: bool, param_defaults: dict[str, dict[str, Any]] | None = None
) -> Group:
    first = configs[0]
    param_defaults = param_defaults or {}
    config_lines = [Standing(c, None, _note(c, metric), cells=c.n_cells, failed=c.n_failed) for c in configs]
    by_sampler: dict[str, list[Config]] = {}
    for c in configs:
        by_sampler.setdefault(c.sampler, []).append(c)
    sampler_lines, default_lines = [], []
    for name, grid in by_sampler.items():
        line = _sampler_line(grid, metric, higher, param_defaults.get(name))
        default = _default_line(grid, metric, param_defaults.get(name))
        if default is not None:
            line.default = default
            default_lines.append(default)
        sampler_lines.append(line)
    return Group(
        first.dataset_id,
        first.dataset,
        first.dataset_params,
        _rank(sampler_lines, metric, higher),
        _rank(config_lines, metric, higher),
        _rank(default_lines, metric, higher),
    )


def metric_directions(names: list[str], plugin_dirs=()) -> dict[str, bool | None]:
    """``higher_is_better`` of each registered metric (unregistered ones: lower is better)."""
    from ..plugins import get_registry

    try:
        reg = get_registry(plugin_dirs)
    except GenbenchError:
        reg = None
    out: dict[str, bool | None] = {}
    for n in names:
        entry = reg.components["metric"].get(n) if reg else None
        out[n] = entry.obj.higher_is_better if entry is not None else False
    return out


def stored_suite(suite: str, plugin_dirs=()):
    """The shipped suite a stored name refers to (``manifolds:quick``, ``name+adhoc``), or ``None``
    when it cannot be loaded (a suite file that is gone, a plugin suite not on the path)."""
    from ..plugins import get_registry
    from ..spec.suite import load_suite

    name, _, profile = suite.split("+", 1)[0].partition(":")
    try:
        return load_suite(name, get_registry(plugin_dirs), profile or None)
    except (GenbenchError, OSError):
        return None


def suite_primary_metric(suite: str, plugin_dirs=()) -> str | None:
    """The ``primary_metric`` of a shipped suite (by the stored name: ``manifolds:quick``), if it sets one."""
    loaded = stored_suite(suite, plugin_dirs)
    return getattr(loaded, "primary_metric", None)


def choose_metric(metrics: list[str], directions: dict[str, bool | None], wanted: str | None, default: str | None):
    """The ranking metric: ``wanted``, else the suite's primary metric, else the first with a direction."""
    ranked = [m for m in metrics if directions.get(m) is not None]
    if wanted is not None:
        if wanted not in metrics:
            raise GenbenchError(f"--metric {wanted!r}: not a metric of this suite{did_you_mean(wanted, metrics)}")
        if directions.get(wanted) is None:
            hint = ", ".join(ranked) or "none"
            raise GenbenchError(
                f"--metric {wanted!r} has no direction (a flag, not a score) and cannot rank; choose one of: {hint}"
            )
        return wanted
    if default in ranked:
        return default
    return ranked[0] if ranked else None


def build_board(
    rows: list[dict[str, Any]],
    suite: str,
    *,
    metric: str | None = None,
    directions: dict[str, bool | None] | None = None,
    primary_metric: str | None = None,
    budget_defaults: dict[str, dict[str, Any]] | None = None,
    param_defaults: dict[str, dict[str, Any]] | None = None,
) -> Board:
    """Rank the stored ``rows`` of ``suite`` by ``metric`` (default: ``primary_metric``, else the
    first metric with a direction); ``param_defaults`` (sampler → its declared defaults) marks each
    sampler's default setting. :class:`GenbenchError` if nothing can be ranked."""
    metrics: list[str] = []
    for r in rows:
        metrics += [m for m in r["metrics"] or {} if m not in metrics]
    directions = directions if directions is not None else {m: False for m in metrics}
    chosen = choose_metric(metrics, directions, metric, primary_metric)
    if chosen is None:
        raise GenbenchError(f"suite {suite!r} has no metric with a direction to rank by (metrics: {metrics or 'none'})")
    higher = bool(directions.get(chosen))
    configs = collect_configs(rows)
    mark_budgets(configs, budget_defaults or {})
    order = {d: i for i, d in enumerate(dict.fromkeys(c.dataset for c in configs))}
    by_dataset: dict[str, list[Config]] = {}
    for c in configs:
        by_dataset.setdefault(c.dataset_id, []).append(c)
    groups = [_group(cs, chosen, higher, param_defaults) for cs in by_dataset.values()]
    groups.sort(key=lambda g: (order[g.dataset], [(k, _sort_key(v)) for k, v in sorted(g.dataset_params.items())]))
    negative = [m for m in metrics if any(c.mean(m) < 0 for c in configs)]
    return Board(
        suite=suite,
        metric=chosen,
        higher_is_better=higher,
        metrics=metrics,
        directions=directions,
        groups=groups,
        configs=configs,
        rows=rows,
        repetitions=max((int(r["rep"]) + 1 for r in rows), default=0),
        copying_checked="memorization" in metrics,
        negative=negative,
    )


#: What the renderers say about a negative value of a metric (``{metric}`` is filled in).
NEGATIVE_NOTES = {
    "energy": (
        "energy is an unbiased estimate of the energy distance (U-statistics): when the samples follow "
        "the data's law its expectation is 0, so small negative values mean 'indistinguishable at this "
        "sample size', not better than 0."
    ),
}

#: The sentence every renderer uses to explain the copying mark.
COPYING_NOTE = (
    f"{COPIES}: the median distance of generated points to their nearest training point is below "
    f"{COPYING_THRESHOLD} × that of fresh data points (mean `memorization` < {COPYING_THRESHOLD}): the "
    "sampler returns (near-)copies of its training set, which every accuracy metric rewards. Such a "
    "setting is shown but not ranked, and not chosen as a sampler's best setting."
)


#: The sentence every renderer uses to explain the budget mark.
BUDGET_NOTE = (
    f"{BUDGET}: trained with less than the sampler's default budget (e.g. fewer optimiser steps, in a quick "
    "profile): its numbers are not the sampler's converged result."
)


def negative_note(metric: str) -> str:
    return NEGATIVE_NOTES.get(
        metric, f"{metric} has negative values: the metric is an estimate that can fall below its minimum."
    )


def repetition_warning(board: Board) -> str:
    """A warning when the ranks rest on one repetition ("" otherwise)."""
    if board.repetitions >= 2:
        return ""
    return (
        "Warning: one repetition per cell — ranks are orderings of single runs: nothing is separated, no interval "
        "(a paired comparison needs ≥ 2 repetitions), no setting is tuned (each sampler shown at its default). "
        "Run a profile with repetitions ≥ 5 before drawing conclusions."
    )
