"""The per-dataset tables and the explanations the Markdown and HTML renderers share (as plain text;
each renderer escapes it for its format)."""

from __future__ import annotations

import math

from ..stats import ALPHA
from .floor import FLOOR, FLOOR_NOTE
from .frame import (
    BUDGET,
    BUDGET_NOTE,
    COPIES,
    COPYING_NOTE,
    NO_VALUE,
    Board,
    Group,
    Standing,
    budget_label,
    negative_note,
    summarize,
)
from .terminal import ARROWS, fmt_mean_std, fmt_num


def _metrics_shown(board: Board, group: Group) -> list[str]:
    """The ranking metric first, then every other metric with a value in this group."""
    rest = [m for m in board.metrics if m != board.metric and any(c.config.values.get(m) for c in group.configs)]
    return [board.metric, *rest]


def _sensitivity(board: Board, s: Standing) -> str:
    if s.sensitivity is None:
        return "—"
    best = s.config.mean(board.metric)
    rel = f" ({100 * s.sensitivity / abs(best):+.0f} %)" if best == best and best > 0 else ""
    return f"{'-' if board.higher_is_better else '+'}{s.sensitivity:.3g}{rel}"


def _mem(s: Standing) -> str:
    mem = s.config.peak_mem_mb
    return fmt_num(sum(mem) / len(mem) if mem else None, ".0f")


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def metric_header(board: Board, metric: str) -> str:
    """A metric's column header: its name and direction mark (``sinkhorn ↓``)."""
    return f"{metric} {ARROWS[board.directions.get(metric, False)]}"


def floor_row(board: Board, group: Group, headers: list[str], metrics: list[str]) -> list[list[str]]:
    """The ``data floor`` line of a table (``[]`` when the board has no floor for this group)."""
    floor = board.floors.get(group.dataset_id)
    if not floor:
        return []
    values = {metric_header(board, m): fmt_mean_std(floor.get(m, math.nan), math.nan) for m in metrics}
    row = [values.get(h, "") for h in headers]
    row[0] = FLOOR
    row[headers.index("sampler") if "sampler" in headers else 2] = "fresh data"
    return [row]


def _setting(s: Standing) -> str:
    """The line's setting and how many were tried: ``eps=0.01 (4/5 reps) · 5 tried``."""
    return f"{s.best_setting()} · {s.settings} tried" if s.settings > 1 else s.best_setting()


def _at_default(board: Board, s: Standing) -> str:
    """The sampler at its default setting: ``0.102 ± 0.004 (rank 3)``; ``same`` when the line is that
    setting; ``—`` when its grid does not have it."""
    d = s.default
    if d is None:
        return "—"
    if d.config is s.config:
        return f"same (rank {d.rank_label})"
    c = d.config
    return f"{fmt_mean_std(c.mean(board.metric), c.std(board.metric))} (rank {d.rank_label})"


def sampler_table(board: Board, group: Group) -> tuple[list[str], list[list[str]]]:
    """Samplers at their selected setting: rank, interval, setting, the ranking metric, the default
    setting's value and rank, cost, the other metrics, tuning sensitivity, failures; the data's floor
    last."""
    metrics = _metrics_shown(board, group)
    head = [metric_header(board, m) for m in metrics]
    headers = [
        "rank",
        "rank 95% CI",
        "sampler",
        "setting",
        head[0],
        "at default",
        "fit+sample s",
        "peak MB",
        *head[1:],
        "tuning Δ",
        "failed",
    ]
    rows = []
    for s in group.samplers:
        c = s.config
        values = [fmt_mean_std(c.mean(m), c.std(m)) for m in metrics]
        rows.append(
            [
                s.rank_label,
                s.rank.interval() if s.rank else "—",
                budget_label(c, c.sampler),
                _setting(s),
                values[0],
                _at_default(board, s),
                fmt_num(c.time_s()),
                _mem(s),
                *values[1:],
                _sensitivity(board, s),
                f"{s.failed}/{s.cells}",
            ]
        )
    return headers, rows + floor_row(board, group, headers, metrics)


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
        "best",
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
                f"{x.wins}/{n}",
                f"{x.ranked}/{x.groups}",
                fmt_num(x.time_s),
                fmt_num(x.peak_mb, ".0f"),
                str(x.copies),
                f"{x.failed}/{x.cells}",
            ]
        )
    return headers, rows


def summary_explanation(board: Board) -> str:
    """What the summary's columns mean (one paragraph)."""
    text = (
        f"Summary over the {len(board.groups)} dataset configurations: `mean rank` is the mean of the sampler's "
        "per-dataset `rank` below (the same numbers), over the configurations where it is ranked (`ranked`; copying "
        "or valueless lines are not); `CI ends` the means of the per-dataset rank intervals' two ends; "
        "`at defaults` its mean rank when every sampler runs at its default setting (ranked among the defaults); "
        "`settings` how many settings its grid tried per configuration; `top` the configurations where no sampler "
        "is separated from it and better (its rank interval starts at 1), `best` those where it is separated from "
        "and better than every other sampler (interval 1–1); `fit+sample s` and `peak MB` medians over "
        "configurations, `copies` its configurations flagged as copying, `failed` failed / run cells."
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
    rows = []
    for s in group.configs:
        c = s.config
        rows.append(
            [
                s.rank_label,
                s.rank.interval() if s.rank else "—",
                budget_label(c, c.sampler_id),
                f"{c.n_ok}/{c.n_cells}",
                *[fmt_mean_std(c.mean(m), c.std(m)) for m in metrics],
                fmt_num(c.time_s()),
                _mem(s),
                c.failure[:120],
            ]
        )
    return headers, rows + floor_row(board, group, headers, metrics)


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
        "`tuning Δ` is how much worse the sampler is on average over its grid than at its best setting (in units "
        f"of `{board.metric}`, and relative to the best value when that is positive); a large Δ means the result "
        "depends on tuning.",
        "`fit+sample s` and `peak MB` are means over the ok repetitions of the shown setting (peak MB: resident "
        "memory the cell added); `failed` counts cells that errored, timed out, crashed or returned invalid "
        "samples, over every setting. Values: mean ± standard deviation, 3 significant figures (± 2).",
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
