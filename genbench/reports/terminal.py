"""The terminal leaderboard: every configuration ranked per dataset, fitted to the terminal width.

Columns (``--columns`` picks them by these names): ``dataset``, ``rank``, ``ci`` (95 % interval
of the rank, from paired t-tests: :mod:`genbench.stats`), ``sampler``, ``ok``, one per metric
(mean ± std over repetitions),
``time`` (fit + sample seconds) and ``mem`` (peak MB). Metric columns with no value anywhere are
dropped; when the table is still wider than the terminal, the least important columns go first
(metrics after the ranking one, then memory, the interval, ok, memorization — a copying configuration
still says so in its rank — and time last) and long ids are abbreviated.
"""

from __future__ import annotations

import shutil

from ..errors import GenbenchError, did_you_mean
from .frame import (
    BUDGET,
    BUDGET_NOTE,
    COPIES,
    COPYING_NOTE,
    Board,
    Standing,
    negative_note,
    repetition_warning,
    summarize,
)

#: Direction marks in headers: higher is better, lower is better, no direction (a flag).
ARROWS = {True: "↑", False: "↓", None: "·"}
FIXED = ("dataset", "rank", "ci", "sampler", "ok")
TAIL = ("time", "mem")


def sig(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant figures, trailing zeros kept (``0.100``, ``-5.50e-05``, ``1.23e+03``)."""
    text = format(x, f"#.{digits}g")
    mantissa, e, exp = text.partition("e")
    return mantissa.rstrip(".") + e + exp


def fmt_mean_std(mean: float, std: float) -> str:
    """``0.0520 ± 0.0091``: the mean to 3 significant figures, the spread to 2; the mean alone with one
    value; ``—`` with none."""
    if mean != mean:
        return "—"
    return sig(mean) if std != std else f"{sig(mean)} ± {sig(std, 2)}"


def fmt_num(x: float | None, spec: str = "") -> str:
    """``x`` to 3 significant figures (or by ``spec``); ``—`` for none or NaN."""
    if x is None or x != x:
        return "—"
    return format(x, spec) if spec else sig(x)


def _cell(board: Board, s: Standing, col: str) -> str:
    c = s.config
    if col == "dataset":
        return c.dataset_id
    if col == "rank":
        return s.rank_label
    if col == "ci":
        return s.rank.interval() if s.rank else "—"
    if col == "sampler":
        return f"{c.sampler_id} {BUDGET}" if c.budget else c.sampler_id
    if col == "ok":
        return f"{c.n_ok}/{c.n_cells}"
    if col == "time":
        return fmt_num(c.time_s())
    if col == "mem":
        return fmt_num(sum(c.peak_mem_mb) / len(c.peak_mem_mb) if c.peak_mem_mb else None, ".0f")
    return fmt_mean_std(c.mean(col), c.std(col))


def _header(board: Board, col: str) -> str:
    if col in board.metrics:
        return f"{col} {ARROWS[board.directions.get(col, False)]}"
    return {"ci": "rank 95% CI", "time": "fit+sample s", "mem": "peak MB"}.get(col, col)


def available_columns(board: Board) -> list[str]:
    return [*FIXED, *board.metrics, *TAIL]


def _drop_order(board: Board, cols: list[str]) -> list[str]:
    """Columns in the order they are dropped to fit: extra metrics (last first), mem, ci, ok, memorization
    (a copying configuration still says so in its rank), time. Rank, sampler and the ranking metric stay."""
    extra = [m for m in board.metrics if m not in (board.metric, "memorization")]
    order = [*reversed(extra), "mem", "ci", "ok", "memorization", "time"]
    return [c for c in order if c in cols]


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def terminal_table(board: Board, *, columns: list[str] | None = None, width: int | None = None, fmt="simple") -> str:
    """The configuration table as text, ``width`` columns wide at most (default: the terminal's)."""
    from tabulate import tabulate

    known = available_columns(board)
    if columns:
        for c in columns:
            if c not in known:
                raise GenbenchError(f"--columns: unknown column {c!r}{did_you_mean(c, known)}")
        cols = list(columns)
    else:
        empty = [m for m in board.metrics if not any(c.values.get(m) for c in board.configs)]
        cols = [c for c in known if c not in empty]
    lines = [s for g in board.groups for s in g.configs]
    hidden: list[str] = []
    sections = False  # the dataset as a heading over its own table instead of a column

    def floor_cells(g, cols: list[str]) -> list[str] | None:
        floor = board.floors.get(g.dataset_id)
        if not floor:
            return None
        named = {"dataset": g.dataset_id, "rank": "data floor", "sampler": "fresh data"}
        return [named.get(c) or (fmt_mean_std(floor[c], float("nan")) if c in floor else "") for c in cols]

    def rows(g, cols: list[str], limit: int | None) -> list[list[str]]:
        body = [[_cell(board, s, c) for c in cols] for s in g.configs]
        floor = floor_cells(g, cols)
        body += [floor] if floor else []
        if limit:
            body = [[_truncate(v, limit) if c in ("dataset", "sampler") else v for c, v in zip(cols, row, strict=True)]
                    for row in body]  # fmt: skip
        return body

    def render(cols: list[str], limit: int | None = None) -> str:
        headers = [_header(board, c) for c in cols]
        if not sections:
            body = [row for g in board.groups for row in rows(g, cols, limit)]
            return tabulate(body, headers=headers, tablefmt=fmt, disable_numparse=True)
        parts = []
        for g in board.groups:
            table = tabulate(rows(g, cols, limit), headers=headers, tablefmt=fmt, disable_numparse=True)
            parts.append(f"{g.dataset_id}\n{table}")
        return "\n\n".join(parts)

    def too_wide(text: str) -> bool:
        return max(map(len, text.splitlines())) > width

    text = render(cols)
    if width is None and fmt == "simple":
        width = shutil.get_terminal_size((120, 24)).columns
    if width and not columns:
        order = _drop_order(board, cols)
        while too_wide(text) and order:
            col = order.pop(0)
            if col == "memorization" and "dataset" in cols and not sections:
                sections = True  # before giving up a measurement, move the dataset into headings
                cols.remove("dataset")
                text = render(cols)
                if not too_wide(text):
                    break
            cols.remove(col)
            hidden.append(col)
            text = render(cols)
        limit = 40
        while too_wide(text) and limit > 12:
            limit -= 4
            text = render(cols, limit)
    arrow = "↑ higher" if board.higher_is_better else "↓ lower"
    title = (
        f"leaderboard: suite {board.suite} ({board.n_cells} cells, {board.repetitions} repetition"
        f"{'s' if board.repetitions != 1 else ''}; ranked by {board.metric} ({arrow} is better), "
        "mean ± std over repetitions; rank: position by mean, CI: the ranks paired t-tests cannot exclude)"
    )
    notes = []
    if any(s.note == COPIES for s in lines):
        notes.append(COPYING_NOTE.replace("`", ""))
    if any(s.config.budget for s in lines):
        notes.append(BUDGET_NOTE)
    if not board.copying_checked:
        notes.append("memorization is not measured in this suite: copying of training points is not checked.")
    notes += [negative_note(m) for m in board.negative if m in cols]
    if board.repetitions < 2:
        notes.append(repetition_warning(board))
    if hidden:
        notes.append(f"hidden to fit the terminal: {', '.join(hidden)} (--columns picks columns)")
    if width:
        import textwrap

        title = textwrap.fill(title, width)
        notes = [textwrap.fill(n, width) for n in notes]
    return "\n".join([title, _summary_text(board, fmt, width), text, *notes])


def _summary_text(board: Board, fmt: str, width: int | None) -> str:
    """The cross-dataset summary (:func:`~.frame.summarize`), first; columns dropped from the right
    until it fits ``width``."""
    from tabulate import tabulate

    n = len(board.groups)
    lines = summarize(board)
    columns = {
        "mean rank": [x.rank_text() for x in lines],
        "CI ends": [x.interval_text() for x in lines],
        "at defaults": [x.default_text() for x in lines],
        "top": [f"{x.top}/{n}" for x in lines],
        "best": [f"{x.wins}/{n}" for x in lines],
        "fit+sample s": [fmt_num(x.time_s) for x in lines],
    }
    names = [f"{x.sampler} {BUDGET}" if x.budget else x.sampler for x in lines]
    wanted = list(columns)
    head = (
        f"summary over {n} dataset configurations (mean rank: the mean of the per-dataset ranks of the samplers "
        "at their selected setting; top: no sampler separated and better; best: separated from every other):"
    )
    while True:
        body = [[name, *(columns[c][i] for c in wanted)] for i, name in enumerate(names)]
        table = tabulate(body, headers=["sampler", *wanted], tablefmt=fmt, disable_numparse=True)
        if not width or len(wanted) <= 2 or max(map(len, table.splitlines())) <= width:
            break
        wanted.pop()
    if width:
        import textwrap

        head = textwrap.fill(head, width)
    return f"{head}\n{table}\n"
