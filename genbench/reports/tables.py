"""The per-dataset tables and the explanations the Markdown and HTML renderers share (as plain text;
each renderer escapes it for its format)."""

from __future__ import annotations

import math

from ..stats import ALPHA
from . import numbers
from .floor import FLOOR, FLOOR_NOTE
from .frame import (
    BUDGET,
    BUDGET_NOTE,
    COPIES,
    COPY_MARK,
    COPYING_NOTE,
    FLOOR_MARK,
    NO_VALUE,
    TOP_MARK,
    Board,
    Group,
    Standing,
    budget_label,
    negative_note,
    rank_matrix,
    summarize,
)
from .terminal import ARROWS, fmt_num


def _metrics_shown(board: Board, group: Group) -> list[str]:
    """The ranking metric first, then the copy check, then every other metric with a value in this group."""
    rest = [m for m in board.metrics if m != board.metric and any(c.config.values.get(m) for c in group.configs)]
    rest.sort(key=lambda m: m != "memorization")
    return [board.metric, *rest]


def _sensitivity(board: Board, s: Standing) -> str:
    """How much worse the grid is on average than its best setting: ``Δ +5 %`` (relative to a positive
    best), else ``Δ +0.0012``; "" without a grid."""
    if s.sensitivity is None:
        return ""
    best = s.config.mean(board.metric)
    sign = "-" if board.higher_is_better else "+"
    if best == best and best > 0:
        return f"Δ {sign}{100 * s.sensitivity / abs(best):.0f} %"
    return f"Δ {sign}{fmt_num(s.sensitivity)}"


def _mem(s: Standing) -> str:
    mem = s.config.peak_mem_mb
    return fmt_num(sum(mem) / len(mem) if mem else None, ".0f")


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def metric_header(board: Board, metric: str) -> str:
    """A metric's column header: its name and direction mark (``sinkhorn ↓``)."""
    return f"{metric} {ARROWS[board.directions.get(metric, False)]}"


def _metric_columns(
    board: Board, group: Group, lines: list[Standing], metrics: list[str], headers: list[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Each metric's column over ``lines`` and, last, the data floor (one notation per column, each
    mean rounded to its spread); and the floor row's cells by ``headers`` (``[]``: no floor)."""
    floor = board.floors.get(group.dataset_id)
    sd = board.floor_sd.get(group.dataset_id, {})
    columns = {}
    for m in metrics:
        pairs = [(s.config.mean(m), s.config.std(m)) for s in lines]
        if floor:
            pairs.append((floor.get(m, math.nan), sd.get(m, math.nan)))
        columns[m] = numbers.column(pairs)
    if not floor:
        return columns, []
    row = [""] * len(headers)
    for m in metrics:
        row[headers.index(metric_header(board, m))] = columns[m][-1]
    row[0] = FLOOR
    row[headers.index("sampler") if "sampler" in headers else 2] = "fresh data"
    return columns, row


def _setting(board: Board, s: Standing) -> str:
    """The line's setting, how many were tried and how much tuning mattered:
    ``eps=0.01 (4/5 reps) · 5 tried · Δ +23 %``."""
    if s.settings <= 1:
        return s.best_setting()
    return " · ".join(filter(None, [s.best_setting(), f"{s.settings} tried", _sensitivity(board, s)]))


def _at_default(board: Board, s: Standing) -> str:
    """The sampler at its default setting: ``0.102 ± 0.004 (rank 3)``; ``same`` when the line is that
    setting; ``—`` when its grid does not have it."""
    d = s.default
    if d is None:
        return "—"
    if d.config is s.config:
        return f"same (rank {d.rank_label})"
    c = d.config
    return f"{numbers.mean_sd(c.mean(board.metric), c.std(board.metric))} (rank {d.rank_label})"


def sampler_table(board: Board, group: Group, *, secondary: bool = True) -> tuple[list[str], list[list[str]]]:
    """Samplers at their selected setting: rank, the ranking metric, the copy check (and, with
    ``secondary``, every other metric), the rank interval, the setting (with how many were tried
    and the tuning sensitivity), the default setting's value and rank, cost, failures; the data's
    floor last. Without ``secondary`` the table fits a page (the HTML shows the rest apart)."""
    metrics = _metrics_shown(board, group)
    if not secondary:
        metrics = [m for m in metrics if m in (board.metric, "memorization")]
    head = [metric_header(board, m) for m in metrics]
    headers = [
        "rank",
        "sampler",
        *head,
        "rank 95% CI",
        "setting",
        "at default",
        "fit+sample s",
        "peak MB",
        "failed",
    ]
    columns, floor = _metric_columns(board, group, group.samplers, metrics, headers)
    rows = []
    for i, s in enumerate(group.samplers):
        c = s.config
        rows.append(
            [
                s.rank_label,
                budget_label(c, c.sampler),
                *[columns[m][i] for m in metrics],
                s.rank.interval() if s.rank else "—",
                _setting(board, s),
                _at_default(board, s),
                fmt_num(c.time_s()),
                _mem(s),
                f"{s.failed}/{s.cells}",
            ]
        )
    return headers, rows + ([floor] if floor else [])


def secondary_table(board: Board, group: Group) -> tuple[list[str], list[list[str]]]:
    """The metrics :func:`sampler_table` leaves out without ``secondary``, for the same lines (``[]``
    rows when there are none)."""
    metrics = [m for m in _metrics_shown(board, group) if m not in (board.metric, "memorization")]
    headers = ["rank", "sampler", *[metric_header(board, m) for m in metrics]]
    if not metrics:
        return headers, []
    columns, floor = _metric_columns(board, group, group.samplers, metrics, headers)
    rows = [
        [s.rank_label, budget_label(s.config, s.config.sampler), *[columns[m][i] for m in metrics]]
        for i, s in enumerate(group.samplers)
    ]
    return headers, rows + ([floor] if floor else [])


def summary_table(board: Board) -> tuple[list[str], list[list[str]]]:
    """Every sampler across the board's dataset configurations, by mean rank (see :func:`summarize`)."""
    n = len(board.groups)
    headers = [
        "sampler",
        "mean rank",
        "CI ends",
        "at defaults",
        "settings",
        "top",
        "at floor",
        "ranked",
        "fit+sample s",
        "peak MB",
        "copies",
        "failed",
    ]
    rows = []
    for x in summarize(board):
        name = f"{x.sampler} {BUDGET} ({x.budget})" if x.budget else x.sampler
        rows.append(
            [
                name,
                x.rank_text(),
                x.interval_text(),
                x.default_text(),
                str(x.settings),
                f"{x.top}/{n}",
                f"{x.at_floor}/{n}" if board.floors else "—",
                f"{x.ranked}/{x.groups}",
                fmt_num(x.time_s),
                fmt_num(x.peak_mb, ".0f"),
                str(x.copies),
                f"{x.failed}/{x.cells}",
            ]
        )
    return headers, rows


def matrix_table(board: Board) -> tuple[list[str], list[list[str]]]:
    """The rank matrix as plain text: a row per dataset configuration, a column per sampler."""
    order, rows = rank_matrix(board)
    return ["dataset", *order], [[did, *[c.text() if c else "" for c in cells]] for did, cells in rows]


def matrix_explanation(board: Board) -> str:
    """What the rank matrix's cells mean (one sentence or two)."""
    floor = f", `{FLOOR_MARK}` the 95 % interval of its mean reaches the data floor" if board.floors else ""
    return (
        "Which sampler for which data: each cell is the sampler's rank on that dataset configuration (the "
        f"table's `rank` below; columns in summary order); `{TOP_MARK}` it is in the top group (no sampler "
        f"separated from it and better){floor}, `{COPY_MARK}` its settings copy the training set (not ranked)."
    )


def summary_explanation(board: Board) -> str:
    """What the summary's columns mean (one paragraph)."""
    text = (
        f"Summary over the {len(board.groups)} dataset configurations: `mean rank` is the mean of the sampler's "
        "per-dataset `rank` below (the same numbers), over the configurations where it is ranked (`ranked`; copying "
        "or valueless lines are not); `CI ends` the means of the per-dataset rank intervals' two ends; "
        "`at defaults` its mean rank when every sampler runs at its default setting (ranked among the defaults); "
        "`settings` how many settings its grid tried per configuration; `top` the configurations where no sampler "
        "is separated from it and better (its rank interval starts at 1), `at floor` those where it cannot be told "
        "from fresh data (the 95 % interval of its mean reaches the data floor); `fit+sample s` and `peak MB` "
        "medians over configurations, `copies` its configurations flagged as copying, `failed` failed / run cells."
    )
    friedman = cross_dataset_test(board)
    return text + (" " + friedman if friedman else "")


def cross_dataset_test(board: Board) -> str:
    """Demšar's (JMLR 7, 2006) Friedman test over the configurations where every sampler is ranked,
    with the Nemenyi critical difference of mean ranks, as one sentence ("" with fewer than 2
    configurations or 3 samplers)."""
    from ..stats import friedman

    names = sorted({c.sampler for c in board.configs})
    table = []
    for g in board.groups:
        ranks = {s.config.sampler: s.rank.rank for s in g.samplers if s.rank is not None}
        if set(ranks) == set(names):
            table.append([ranks[n] for n in names])
    result = friedman(table)
    if result is None:
        return ""
    p, cd = result
    return (
        f"Across the {len(table)} configurations where all {len(names)} samplers are ranked, Friedman's test of "
        f"equal mean ranks gives p = {p:.2g}; by Nemenyi's test two mean ranks closer than {cd:.2f} are not "
        "separated (Demšar, JMLR 2006)."
    )


def config_table(board: Board, group: Group) -> tuple[list[str], list[list[str]]]:
    """Every configuration of the group, ranked on its own."""
    metrics = _metrics_shown(board, group)
    headers = [
        "rank",
        "rank 95% CI",
        "configuration",
        "ok",
        *[metric_header(board, m) for m in metrics],
        "fit+sample s",
        "peak MB",
        "first failure",
    ]
    columns, floor = _metric_columns(board, group, group.configs, metrics, headers)
    rows = []
    for i, s in enumerate(group.configs):
        c = s.config
        rows.append(
            [
                s.rank_label,
                s.rank.interval() if s.rank else "—",
                budget_label(c, c.sampler_id),
                f"{c.n_ok}/{c.n_cells}",
                *[columns[m][i] for m in metrics],
                fmt_num(c.time_s()),
                _mem(s),
                c.failure[:120],
            ]
        )
    if not any(r[-1] for r in rows):  # no failure: no column for it
        headers, rows = headers[:-1], [r[:-1] for r in rows]
        floor = floor[:-1]
    return headers, rows + ([floor] if floor else [])


def explanations(board: Board) -> list[str]:
    """How to read the tables (plain text; Markdown-style backticks are left to the renderer)."""
    direction = "higher" if board.higher_is_better else "lower"
    reps = board.repetitions
    out = [
        f"Ranked by `{board.metric}` ({direction} is better), mean ± standard deviation over {reps} "
        f"repetition{'s' if reps != 1 else ''}. A sampler with a grid is tuned without peeking: repetition r is "
        "scored at the setting with the best mean over the other repetitions (`setting`: the one chosen most "
        "often, with how often when not always, and how many were tried); `at default` is the same sampler at "
        "its default setting, with its rank among every sampler at its default.",
        "`rank` is the position by mean (equal means share one), and `rank 95% CI` the ranks the data cannot "
        "exclude: 1 + the samplers separated from it and better, to the number of samplers − those separated and "
        "worse. Two samplers are separated when a paired t-test over the repetitions they share (every sampler "
        f"sees the same training set in a repetition) rejects equal means at {ALPHA:.0%} / (samplers − 1), so "
        "each interval holds its sampler's true rank with ≥ 95 % probability (genbench.stats)"
        + (" — with one repetition nothing can be separated: no interval." if reps < 2 else "."),
        "`Δ` in `setting` is how much worse the sampler is on average over its grid than at its best setting "
        f"(relative to the best value when that is positive, else in units of `{board.metric}`); a large Δ means "
        "the result depends on tuning.",
        "`fit+sample s` and `peak MB` are means over the ok repetitions of the shown setting (peak MB: resident "
        "memory the cell added); `failed` counts cells that errored, timed out, crashed or returned invalid "
        "samples, over every setting. Values: mean ± standard deviation, the mean rounded to the spread's second "
        "significant figure, one notation per column; a single value to 3 significant figures.",
        "After a metric's name: `↓` lower is better, `↑` higher is better, `·` no direction — a flag, not a "
        "score (`memorization`: about 1 for fresh data, below 0.5 a copier; neither more nor less is better).",
        COPYING_NOTE,
        f"`{NO_VALUE}` instead of a rank: no repetition gave a value (every cell failed, or the metric was NaN).",
    ]
    if any(c.budget for c in board.configs):
        out.append(BUDGET_NOTE)
    if board.floors:
        out.append(FLOOR_NOTE)
    if not board.copying_checked:
        out.append("This suite does not measure `memorization`: copying of training points is not checked.")
    out += [negative_note(m) for m in board.negative]
    return out


def summary(board: Board) -> str:
    st = board.statuses()
    parts = ", ".join(f"{n} {k}" for k, n in sorted(st.items()))
    copies = sum(1 for c in board.configs if c.copies)
    n_samplers = len({c.sampler for c in board.configs})
    flag = f"; {copies} configuration{'s' if copies != 1 else ''} flagged {COPIES}" if copies else ""
    return (
        f"Suite `{board.suite}`: {board.n_cells} cells ({parts}), {len(board.groups)} dataset configurations, "
        f"{n_samplers} sampler{'s' if n_samplers != 1 else ''}, {len(board.configs)} sampler × dataset "
        f"configurations{flag}."
    )


def _values(board: Board, key: str) -> str:
    seen = list(dict.fromkeys(str((r.get("versions") or {}).get(key, "")) for r in board.rows))
    seen = [v for v in seen if v]
    if not seen:
        return "not recorded"
    return seen[0] if len(seen) == 1 else "mixed: " + ", ".join(seen[:4]) + (" …" if len(seen) > 4 else "")


def provenance(board: Board) -> list[tuple[str, str]]:
    """What produced the board: genbench version and commit, the machine, the numerical stack, the dates
    (from the rows' ``versions``, ``code_version`` and ``finished_at``; ``mixed`` where rows differ)."""
    commit = _values(board, "genbench_git")
    codes = sorted({str(r.get("code_version") or "") for r in board.rows} - {""})
    dates = sorted(str(r.get("finished_at") or "")[:16] for r in board.rows if r.get("finished_at"))
    out = [
        ("genbench", f"{_values(board, 'genbench')} (code {', '.join(c.split('+')[-1] for c in codes[:3]) or '—'})"),
        ("commit", commit[:12] if len(commit) == 40 else commit),
        ("CPU", _values(board, "machine_cpu")),
        ("cores", _values(board, "machine_cores")),
        ("GPU", _values(board, "machine_gpu")),
        ("OS", _values(board, "machine_os")),
    ]
    out += [(name, _values(board, name)) for name in ("python", "numpy", "scipy", "POT", "torch", "jax")]
    out.append(("run", f"{dates[0]} – {dates[-1]} UTC" if dates else "not recorded"))
    return out
