"""The terminal leaderboard: every configuration ranked per dataset, fitted to the terminal width.

Columns (``--columns`` picks them by these names): ``dataset``, ``rank``, ``ci`` (95 % interval
of the rank, from paired t-tests: :mod:`genbench.stats`), ``sampler``, ``ok``, one per metric
(mean ± std over repetitions),
``time`` (fit + sample seconds) and ``mem`` (peak MB). Metric columns with no value anywhere are
dropped; when the table is still wider than the terminal, the least important columns go first
(metrics after the ranking one, then memory, the interval, ok, memorization — a copying configuration
still says so in its rank — and time last), then ids are shortened by :class:`Ids`, which keeps the
parameter values that tell configurations apart and never prints two alike. Picked columns that leave
out ``dataset`` keep each dataset as a heading over its own table.

:func:`results_table` is ``genbench results``: one row per cell, sorted by dataset, sampler and
repetition, under dataset headings, fitted the same way.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import GenbenchError, did_you_mean
from . import numbers
from .frame import (
    BUDGET,
    BUDGET_NOTE,
    COPIES,
    COPY_MARK,
    COPYING_NOTE,
    FLOOR_MARK,
    TOP_MARK,
    Board,
    Standing,
    negative_note,
    rank_matrix,
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
    return numbers.mean_sd(c.mean(col), c.std(col))


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


# ------------------------------------------------------------------ ids shortened, never made alike

#: How far :class:`Ids` can shorten an id (0: as it is).
MAX_LEVEL = 4
_NUMBER = re.compile(r"((?<=[=,\[])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?=[,\]]|$))")  # a whole parameter value


def natural_key(text: str) -> tuple:
    """A sort key that reads numeric parameter values as numbers: ``arc[n_train=200]`` before
    ``arc[n_train=1000]``, ``beta=-0.2`` before ``beta=0``, numbers before words (strings and numbers
    alternate)."""
    return tuple(float(p) if i % 2 else p for i, p in enumerate(_NUMBER.split(text)))


def split_id(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """``kde[bandwidth=0.02,x=[1,2]]`` → ``("kde", [("bandwidth", "0.02"), ("x", "[1,2]")])``; a bare
    name has no parameters; ``None`` for text of another shape."""
    if "[" not in text:
        return (text, []) if "]" not in text else None
    m = re.fullmatch(r"([^\[\]=,]+)\[(.+)\]", text)
    if not m:
        return None
    parts, depth, current = [], 0, ""
    for ch in m.group(2):
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += (ch in "[({") - (ch in "])}")
        current += ch
    pairs = [p.partition("=") for p in [*parts, current]]
    if any(not sep or not k for k, sep, _ in pairs):
        return None
    return m.group(1), [(k, v) for k, _, v in pairs]


def _unique_prefixes(words: set[str]) -> dict[str, str]:
    """Each word's shortest prefix that no other word starts with (the word itself when none is)."""
    out = {}
    for w in words:
        n = 1
        while n < len(w) and any(o != w and o.startswith(w[:n]) for o in words):
            n += 1
        out[w] = w[:n]
    return out


def _short_name(name: str) -> str:
    """A component name of more than 10 characters shortened: each word but the last cut to 3 letters
    (``localized_bridge`` → ``loc_bridge``), then the whole to 10 (``hypersemisphere`` → ``hypersemis``)."""
    if len(name) <= 10:
        return name
    *words, last = name.split("_")
    return "_".join([*(w[:3] for w in words), last])[:10]


def _constant_params(ids: list[str]) -> dict[str, set[str]]:
    """Per component name, the parameters that all its ids set to one value (they tell none apart)."""
    seen: dict[str, list[dict[str, str]]] = {}
    for i in ids:
        parsed = split_id(i)
        if parsed:
            seen.setdefault(parsed[0], []).append(dict(parsed[1]))
    return {name: {k for k, v in ps[0].items() if all(p.get(k) == v for p in ps)} for name, ps in seen.items()}


def _abbreviate(text: str, level: int, keys: dict[str, str], constant: dict[str, set[str]]) -> str:
    parsed = split_id(text)
    if parsed is None or level == 0:
        return text
    name, pairs = parsed
    if level >= 3:
        pairs = [(k, v) for k, v in pairs if k not in constant.get(name, set())]
    name = _short_name(name) if level >= 2 else name
    if not pairs:
        return name
    inner = ",".join(v if level >= 4 else f"{keys[k]}={v}" for k, v in pairs)
    return f"{name}[{inner}]"


class Ids:
    """Shorter forms of a column's ids that keep the values that tell them apart, by level: 0 the ids as
    they are; 1 parameter names cut to their shortest unique prefix (``kde[b=0.02]``); 2 long component
    names cut too (``hypersemis[d=9,n=500]``); 3 without the parameters that every id of a component sets
    alike (``ula``); 4 without parameter names (``kde[0.02]``). A level at which two different ids would
    read alike is skipped, so distinct ids never print the same text."""

    def __init__(self, ids) -> None:
        ids = list(dict.fromkeys(ids))
        keys = _unique_prefixes({k for i in ids for k, _ in (split_id(i) or ("", []))[1]})
        constant = _constant_params(ids)
        self.levels: list[dict[str, str]] = []
        for level in range(MAX_LEVEL + 1):
            short = {i: _abbreviate(i, level, keys, constant) for i in ids}
            if len(set(short.values())) == len(short):
                self.levels.append(short)

    def __call__(self, text: str, level: int) -> str:
        """``text`` at ``level`` (text that is not one of the ids: as it is)."""
        return self.levels[min(level, len(self.levels) - 1)].get(text, text)


# ------------------------------------------------------------------ fitting a table to the width


@dataclass
class _Layout:
    """What a table shows: its columns, the dataset as headings over one table each instead of a
    column, how far ids are shortened (:class:`Ids`), and the columns left out to fit."""

    cols: list[str]
    sections: bool = False
    level: int = 0
    hidden: list[str] = field(default_factory=list)

    def key(self) -> tuple:
        return (tuple(self.cols), self.sections, self.level)


#: Whether a table laid out so fits the width.
Fits = Callable[[_Layout], bool]


def _too_wide(text: str, width: int | None) -> bool:
    if not width:
        return False
    return max(map(len, text.splitlines()), default=0) > width


def _rendered_fits(render: Callable[[_Layout], str], width: int | None) -> Fits:
    """:data:`Fits` by rendering the table (each layout once)."""
    seen: dict[tuple, bool] = {}

    def fits(lay: _Layout) -> bool:
        if lay.key() not in seen:
            seen[lay.key()] = not _too_wide(render(lay), width)
        return seen[lay.key()]

    return fits


def _shorten(fits: Fits, lay: _Layout) -> None:
    """Shorten the ids level by level until the table fits."""
    while not fits(lay) and lay.level < MAX_LEVEL:
        lay.level += 1


def _relax(fits: Fits, lay: _Layout) -> None:
    """Lengthen the ids again, level by level, while the table (after columns were left out) still fits."""
    while lay.level > 0 and fits(replace(lay, level=lay.level - 1)):
        lay.level -= 1


def _drop(fits: Fits, lay: _Layout, order: list[str]) -> None:
    """Leave out the columns of ``order``, in turn, until the table fits."""
    for col in order:
        if fits(lay):
            break
        lay.cols.remove(col)
        lay.hidden.append(col)


def _restore(fits: Fits, lay: _Layout, cols: list[str]) -> None:
    """Bring back left-out columns (the last left out first) while the table, its ids shortened, still fits."""
    while lay.hidden:
        col = lay.hidden[-1]
        trial = replace(lay, cols=[c for c in cols if c in lay.cols or c == col], hidden=lay.hidden[:-1])
        _shorten(fits, trial)
        if not fits(trial):
            break
        lay.cols, lay.hidden, lay.level = trial.cols, trial.hidden, trial.level


def _into_headings(fits: Fits, lay: _Layout) -> None:
    """Move the dataset column into headings if the table is too wide (ids at full length again)."""
    if not fits(lay) and "dataset" in lay.cols:
        lay.cols.remove("dataset")
        lay.sections, lay.level = True, 0


def _fit_picked(fits: Fits, lay: _Layout, keep: tuple[str, ...]) -> None:
    """Picked columns fitted: ids shortened, then the dataset column moved into headings, then columns
    left out from the right (those in ``keep`` stay), then ids lengthened again where there is room."""
    _shorten(fits, lay)
    _into_headings(fits, lay)
    _shorten(fits, lay)
    _drop(fits, lay, [c for c in reversed(lay.cols) if c not in keep])
    _relax(fits, lay)


def _sectioned(parts: list[tuple[str, str]], fmt: str, width: int | None) -> str:
    """Tables under their headings (a heading wider than the terminal is cut, never a table's id)."""
    gap = "\n\n" if fmt == "github" else "\n"  # Markdown: a table starts a block of its own
    out = []
    for heading, table in parts:
        if width and len(heading) > width:
            heading = heading[: width - 1] + "…"
        out.append(f"{heading}{gap}{table}")
    return "\n\n".join(out)


# ------------------------------------------------------------------ the leaderboard's configuration table


def _metric_columns(board: Board, g, cols: list[str]) -> dict[str, list[str]]:
    """Each metric column of ``cols`` over the group's configurations and, last, the data floor with
    its spread: one notation per column, each mean rounded to its spread (:mod:`.numbers`)."""
    floor = board.floors.get(g.dataset_id) or {}
    sd = board.floor_sd.get(g.dataset_id, {})
    out = {}
    for c in cols:
        if c in FIXED or c in TAIL:
            continue
        pairs = [(s.config.mean(c), s.config.std(c)) for s in g.configs]
        out[c] = numbers.column([*pairs, (floor.get(c, math.nan), sd.get(c, math.nan))])
    return out


def _board_rows(board: Board, g, lay: _Layout, ids: dict[str, Ids]) -> list[list[str]]:
    metric = _metric_columns(board, g, lay.cols)
    body = [[metric[c][i] if c in metric else _cell(board, s, c) for c in lay.cols] for i, s in enumerate(g.configs)]
    floor = board.floors.get(g.dataset_id)
    if floor:
        named = {"dataset": g.dataset_id, "rank": "data floor", "sampler": "fresh data"}
        body.append([named.get(c) or (metric[c][-1] if c in metric and c in floor else "") for c in lay.cols])
    if lay.level:
        body = [[_short_cell(ids, c, v, lay.level) for c, v in zip(lay.cols, row, strict=True)] for row in body]
    return body


def _short_cell(ids: dict[str, Ids], col: str, value: str, level: int) -> str:
    if col not in ids:
        return value
    mark = f" {BUDGET}"
    if value.endswith(mark):
        return ids[col](value[: -len(mark)], level) + mark
    return ids[col](value, level)


def _render_board(board: Board, lay: _Layout, ids: dict[str, Ids], fmt: str, width: int | None) -> str:
    from tabulate import tabulate

    headers = [_header(board, c) for c in lay.cols]

    def table(body: list[list[str]]) -> str:
        return tabulate(body, headers=headers, tablefmt=fmt, disable_numparse=True)

    if not lay.sections:
        return table([row for g in board.groups for row in _board_rows(board, g, lay, ids)])
    parts = [(g.dataset_id, table(_board_rows(board, g, lay, ids))) for g in board.groups]
    return _sectioned(parts, fmt, width)


def _fit_default(fits: Fits, board: Board, lay: _Layout) -> None:
    """The default columns fitted: the least important dropped first (before memorization goes, the
    dataset moves into headings), then ids shortened."""
    for col in _drop_order(board, lay.cols):
        if fits(lay):
            break
        if col == "memorization":
            _into_headings(fits, lay)
        _drop(fits, lay, [col])
    _shorten(fits, lay)


def terminal_table(board: Board, *, columns: list[str] | None = None, width: int | None = None, fmt="simple") -> str:
    """The configuration table as text, ``width`` columns wide at most (default: the terminal's). With
    picked ``columns`` that leave out ``dataset``, each dataset is a heading over its own table."""
    known = available_columns(board)
    if columns:
        for c in columns:
            if c not in known:
                raise GenbenchError(f"--columns: unknown column {c!r}{did_you_mean(c, known)}")
        lay = _Layout(list(columns), sections="dataset" not in columns)
    else:
        empty = [m for m in board.metrics if not any(c.values.get(m) for c in board.configs)]
        lay = _Layout([c for c in known if c not in empty])
    if width is None and fmt == "simple":
        width = shutil.get_terminal_size((120, 24)).columns
    ids = {
        "dataset": Ids(c.dataset_id for c in board.configs),
        "sampler": Ids(c.sampler_id for c in board.configs),
    }

    def render(lay: _Layout) -> str:
        return _render_board(board, lay, ids, fmt, width)

    fits = _rendered_fits(render, width)
    if columns:
        _fit_picked(fits, lay, keep=("rank", "sampler", "dataset"))
    else:
        _fit_default(fits, board, lay)
    notes = _board_notes(board, lay)
    title = _board_title(board)
    if width:
        import textwrap

        title = textwrap.fill(title, width)
        notes = [textwrap.fill(n, width) for n in notes]
    return "\n".join([title, _summary_text(board, fmt, width), render(lay), *notes])


def _board_title(board: Board) -> str:
    arrow = "↑ higher" if board.higher_is_better else "↓ lower"
    return (
        f"leaderboard: suite {board.suite} ({board.n_cells} cells, {board.repetitions} repetition"
        f"{'s' if board.repetitions != 1 else ''}; ranked by {board.metric} ({arrow} is better), "
        "mean ± std over repetitions; rank: position by mean, CI: the ranks paired t-tests cannot exclude)"
    )


def _board_notes(board: Board, lay: _Layout) -> list[str]:
    lines = [s for g in board.groups for s in g.configs]
    notes = []
    if any(s.note == COPIES for s in lines):
        notes.append(COPYING_NOTE.replace("`", ""))
    if any(s.config.budget for s in lines):
        notes.append(BUDGET_NOTE)
    if not board.copying_checked:
        notes.append("memorization is not measured in this suite: copying of training points is not checked.")
    notes += [negative_note(m) for m in board.negative if m in lay.cols]
    if board.repetitions < 2:
        notes.append(repetition_warning(board))
    if lay.hidden:
        notes.append(f"hidden to fit the terminal: {', '.join(lay.hidden)} (--columns picks columns)")
    return notes


# ------------------------------------------------------------------ `genbench results`: one row per cell

#: The default ``genbench results`` columns before the metrics: what a cell is, whether it worked, its cost.
RESULT_COLUMNS = ("sampler", "rep", "status", "time")
_ID_COLUMNS = ("dataset", "sampler", "cell_id")


def _metric_order(rows: list[dict[str, Any]]) -> list[str]:
    """The rows' metrics in order of appearance, the copy check (``memorization``) moved up to second."""
    names: list[str] = []
    for r in rows:
        names += [m for m in r["metrics"] if m not in names]
    if "memorization" in names[1:]:
        names.remove("memorization")
        names.insert(1, "memorization")
    return names


def _row_key(r: dict[str, Any]) -> tuple:
    dataset, sampler = [*r["cell_id"].split("/"), "", ""][:2]
    return (r.get("suite") or "", natural_key(dataset), natural_key(sampler), r.get("rep") or 0)


class _Results:
    """The rows of ``genbench results`` (sorted by dataset, sampler and repetition), rendered and
    measured for a :class:`_Layout`. A column's width in a plain table does not depend on the other
    columns, so a layout is measured from cached column widths, without rendering it."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        from ..results.export import TABLE_COLUMNS

        self.value = TABLE_COLUMNS
        self.rows = sorted(rows, key=_row_key)
        self.ids = {c: Ids(str(TABLE_COLUMNS[c](r)) for r in self.rows) for c in ("dataset", "sampler")}
        suites = len({r.get("suite") for r in rows})
        self.groups: dict[str, list[dict[str, Any]]] = {}
        for r in self.rows:
            heading = r["cell_id"].split("/")[0]
            self.groups.setdefault(f"{r['suite']}: {heading}" if suites > 1 else heading, []).append(r)
        self._widths: dict[tuple, int] = {}

    def parts(self, lay: _Layout) -> list[tuple[str, list[dict[str, Any]]]]:
        return list(self.groups.items()) if lay.sections and self.rows else [("", self.rows)]

    def cols(self, lay: _Layout, part: list[dict[str, Any]]) -> list[str]:
        """The layout's columns; under a heading, without the metrics that have no value for its dataset."""
        if not lay.sections:
            return lay.cols
        return [c for c in lay.cols if c in self.value or any(r["metrics"].get(c) is not None for r in part)]

    def cell(self, r: dict[str, Any], col: str, level: int) -> Any:
        value = self.value[col](r) if col in self.value else r["metrics"].get(col)
        if not level or col not in _ID_COLUMNS:
            return value
        if col == "cell_id":
            parts = value.split("/")
            parts[:2] = [self.ids[c](p, level) for c, p in zip(("dataset", "sampler"), parts[:2], strict=False)]
            return "/".join(parts)
        return self.ids[col](value, level)

    def table(self, part: list[dict[str, Any]], cols: list[str], level: int) -> str:
        from tabulate import tabulate

        body = [[self.cell(r, c, level) for c in cols] for r in part]
        return tabulate(body, headers=cols, floatfmt=".3g", missingval="—", disable_numparse=False)

    def width(self, lay: _Layout) -> int:
        """The widest line of the layout's tables (headings aside: they are cut to fit)."""
        widest = 0
        for heading, part in self.parts(lay):
            cols = self.cols(lay, part)
            widest = max(widest, sum(self._width(heading, part, c, lay) for c in cols) + 2 * (len(cols) - 1))
        return widest

    def _width(self, heading: str, part: list[dict[str, Any]], col: str, lay: _Layout) -> int:
        key = (heading, col, lay.level if col in _ID_COLUMNS else 0)
        if key not in self._widths:
            self._widths[key] = max(map(len, self.table(part, [col], lay.level).splitlines()))
        return self._widths[key]

    def render(self, lay: _Layout, width: int | None) -> str:
        tables = [(h, self.table(part, self.cols(lay, part), lay.level)) for h, part in self.parts(lay)]
        return _sectioned(tables, "simple", width) if lay.sections and self.rows else tables[0][1]


def results_table(rows: list[dict[str, Any]], columns: list[str] | None = None, width: int | None = None) -> str:
    """The result rows as text, sorted by dataset, sampler and repetition, each dataset a heading over its
    own table (unless ``columns`` picks ``dataset`` or ``cell_id``), ``width`` columns wide at most
    (default: the terminal's): by default the metrics after the first and the copy check go first, then
    ids are shortened (keeping the values that tell them apart: :class:`Ids`), then the copy check and the time;
    picked columns are kept by shortening ids, then left out from the right. The last line says what was
    left out."""
    from ..results.export import TABLE_COLUMNS

    metrics = _metric_order(rows)
    known = [*TABLE_COLUMNS, *metrics]
    for c in columns or []:
        if c not in known:
            raise GenbenchError(f"--columns: unknown column {c!r}{did_you_mean(c, known)}")
    cols = list(columns) if columns else [*RESULT_COLUMNS, *metrics]
    lay = _Layout(list(cols), sections=not {"dataset", "cell_id"} & set(cols))
    table = _Results(rows)
    width = width if width is not None else shutil.get_terminal_size((120, 24)).columns

    def fits(lay: _Layout) -> bool:
        return not width or table.width(lay) <= width

    if columns:
        _fit_picked(fits, lay, keep=_ID_COLUMNS)
    else:
        _drop(fits, lay, [m for m in reversed(metrics[1:]) if m != "memorization"])
        _shorten(fits, lay)
        _drop(fits, lay, [c for c in ("memorization", "time") if c in lay.cols])
        _restore(fits, lay, cols)
    text = table.render(lay, width)
    if lay.hidden:
        import textwrap

        hidden = [c for c in cols if c in lay.hidden]
        note = f"(not shown to fit {width} columns: {', '.join(hidden)}; --columns picks, --format csv has all)"
        text += ("\n\n" if lay.sections else "\n") + textwrap.fill(note, width or 120, break_on_hyphens=False)
    return text


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
        "at floor": [f"{x.at_floor}/{n}" if board.floors else "—" for x in lines],
        "fit+sample s": [fmt_num(x.time_s) for x in lines],
    }
    names = [f"{x.sampler} {BUDGET}" if x.budget else x.sampler for x in lines]
    wanted = list(columns)
    head = (
        f"summary over {n} dataset configurations (mean rank: the mean of the per-dataset ranks of the samplers "
        "at their selected setting; top: no sampler separated and better; at floor: the mean's 95 % interval "
        "reaches the data floor):"
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
    return f"{head}\n{table}\n{_matrix_text(board, width)}"


def _matrix_text(board: Board, width: int | None) -> str:
    """The dataset × sampler rank matrix (:func:`~.frame.rank_matrix`): a row per dataset
    configuration, a column per sampler in summary order under a short name; the shortest dataset
    ids that still tell them apart and fit ``width``."""
    import textwrap

    order, rows = rank_matrix(board)
    if not rows or not order:
        return ""
    short = _unique_prefixes(set(order))
    heads = [n[: max(3, len(short[n]))] if len(n) > 6 else n for n in order]
    texts = [[c.text().replace(" ", "") if c else "" for c in cells] for _, cells in rows]
    widths = [max(len(h), *(len(t[j]) for t in texts)) for j, h in enumerate(heads)]
    ids = Ids([did for did, _ in rows])
    for level in range(MAX_LEVEL + 1):
        names = [ids(did, level) for did, _ in rows]
        first = max(len("dataset"), *map(len, names))
        lines = [" ".join(["dataset".ljust(first), *(h.rjust(w) for h, w in zip(heads, widths, strict=True))])]
        lines += [" ".join([nm.ljust(first), *(t.rjust(w) for t, w in zip(row, widths, strict=True))])
                  for nm, row in zip(names, texts, strict=True)]  # fmt: skip
        if not width or max(map(len, lines)) <= width:
            break
    legend = [f"{h}={n}" for h, n in zip(heads, order, strict=True) if h != n]
    note = (
        f"ranks per dataset ({TOP_MARK} top group, {FLOOR_MARK} at the data floor, {COPY_MARK} copies"
        + (f"; {', '.join(legend)}" if legend else "")
        + "):"
    )
    return "\n" + textwrap.fill(note, width or 120, break_on_hyphens=False) + "\n" + "\n".join(lines) + "\n"
