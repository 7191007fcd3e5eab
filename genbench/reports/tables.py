"""The per-dataset tables and the explanations the Markdown and HTML renderers share (as plain text;
each renderer escapes it for its format)."""

from __future__ import annotations

import math

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
from .ranking import CLEARLY_BETTER, N_BOOT
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


def sampler_table(board: Board, group: Group) -> tuple[list[str], list[list[str]]]:
    """Samplers at their best setting: rank, interval, setting, the ranking metric, cost, the other
    metrics, tuning sensitivity, failures; the data's floor last."""
    metrics = _metrics_shown(board, group)
    head = [metric_header(board, m) for m in metrics]
    headers = [
        "rank",
        "rank 95% CI",
        "sampler",
        "best setting",
        head[0],
        "fit+sample s",
        "peak MB",
        *head[1:],
        "tuning Δ (settings)",
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
                s.best_setting(),
                values[0],
                fmt_num(c.time_s()),
                _mem(s),
                *values[1:],
                f"{_sensitivity(board, s)} ({s.settings})",
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
        "95% CI",
        "wins",
        "top tie",
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
                f"{x.wins}/{n}",
                f"{x.top}/{n}",
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
    return (
        f"Summary over the {len(board.groups)} dataset configurations, each sampler at its best setting in each: "
        "`mean rank` is 1 + the samplers with a better mean, averaged over the configurations where it is ranked "
        "(`ranked`; copying or valueless lines are not), "
        "`95% CI` the 2.5–97.5 % range of its mean rank over the paired bootstrap draws (a resample re-ranks "
        "near-ties both ways, so the mean rank of the measured means can sit just outside it), `wins` the "
        "configurations where its per-dataset `rank` is 1 alone, `top tie` where it is 1 or `1=`, "
        "`fit+sample s` and `peak MB` medians over configurations, `copies` its configurations flagged as copying, "
        "`failed` failed / run cells."
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
        f"repetition{'s' if reps != 1 else ''}. Each sampler is shown at its best setting over its grid "
        "(`best setting`: the tuned parameters there), chosen on these same repetitions, so slightly optimistic.",
        f"`rank` is 1 + the number of samplers that are clearly better: better in at least {CLEARLY_BETTER:.1%} of "
        f"{N_BOOT} paired bootstrap resamples of the repetitions (every sampler sees the same training set in a "
        "repetition). Samplers that nothing separates share a rank, shown as a tie (`1=`). `rank 95% CI` is the "
        "2.5–97.5 % range of the sampler's rank over the resamples; since `rank` counts only samplers that are "
        "clearly better, it can lie below that range (usually 3rd but never clearly beaten: `1=` with `3–4`)"
        + (" — with one repetition there is nothing to resample: no interval, no ties." if reps < 2 else "."),
        "`tuning Δ` is how much worse the sampler is on average over its grid than at its best setting (in units "
        f"of `{board.metric}`, and relative to the best value when that is positive), with the number of settings; "
        "a large Δ means the result depends on tuning.",
        "`fit+sample s` and `peak MB` are means over the ok repetitions of the best setting (peak MB: resident "
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
