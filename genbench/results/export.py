"""Stored result rows and their exports (JSON, flat CSV, a table), in the result model's naming.

The columns are :data:`genbench.results.schema.ROW_FIELDS`; the flat export names are documented in
:mod:`genbench.results.schema` and docs/results.md (``d_*``, ``p_*``, ``m_*``, ``note_*``, ``v_*``).
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GenbenchError, did_you_mean
from .schema import flat_row

if TYPE_CHECKING:
    from .store import Store


def open_store(store: str | Path | None) -> Store:
    """The existing store at ``store`` (default: ``$GENBENCH_STORE`` or ``./genbench.db``);
    :class:`GenbenchError` if there is none. A gzip-compressed store (``*.gz``, such as the committed
    ``leaderboard/store.db.gz``) is read from a decompressed temporary copy, read-only; an exported
    ``results.csv`` is read back as a read-only store (:mod:`genbench.results.csvstore`)."""
    from ..config import default_store_path
    from .store import Store

    path = Path(store) if store else default_store_path()
    if not path.exists():
        raise GenbenchError(f"no results store at {path} (run `genbench run --suite smoke` first, or pass --store)")
    if path.suffix == ".gz":
        return Store(_decompressed(path), readonly=True)
    if path.suffix == ".csv":
        from .csvstore import CsvStore

        return CsvStore(path)
    return Store(path)


@functools.lru_cache(maxsize=8)
def _decompressed(path: Path) -> Path:
    """A temporary decompressed copy of a ``.gz`` store, removed when the process exits."""
    import atexit
    import gzip
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="genbench-store-"))
    atexit.register(shutil.rmtree, folder, True)
    target = folder / path.name.removesuffix(".gz")
    try:
        with gzip.open(path, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    except (OSError, EOFError) as exc:
        raise GenbenchError(f"results store {path}: not a readable gzip file ({exc})") from None
    return target


def results_rows(store: str | Path | None, suite: str | None, *, history: bool = False) -> list[dict[str, Any]]:
    """Stored rows for ``suite`` (all suites if ``None``); :class:`GenbenchError` if there are none."""
    with open_store(store) as db:
        if suite is not None and suite not in db.suites():
            known = ", ".join(db.suites()) or "none"
            raise GenbenchError(f"no results for suite {suite!r} in {db.path} (suites stored: {known})")
        return db.rows(suite, history=history)


def cell_log(store: str | Path | None, cell_id: str, suite: str | None = None) -> list[dict[str, Any]]:
    """The captured output of a cell's current row(s); :class:`GenbenchError` if the cell is unknown."""
    with open_store(store) as db:
        rows = db.cell_log(cell_id, suite)
    if not rows:
        where = f" in suite {suite!r}" if suite else ""
        raise GenbenchError(f"no cell {cell_id!r}{where} in the store (ids are listed by `genbench results`)")
    return rows


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """Flat CSV, one line per row (see :func:`genbench.results.schema.flat_row` for the column names)."""
    flat = [flat_row(r) for r in rows]
    fields: list[str] = []
    for r in flat:
        fields += [k for k in r if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    writer.writerows(flat)
    return buf.getvalue()


#: ``genbench results`` columns beside the metric names: how each is read from a row.
TABLE_COLUMNS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "cell_id": lambda r: r["cell_id"],
    "dataset": lambda r: r["cell_id"].split("/")[0],
    "sampler": lambda r: r["cell_id"].split("/")[1],
    "rep": lambda r: r["rep"],
    "status": lambda r: r["status"] if r["status"] == "ok" else f"{r['status']}: {(r['message'] or '')[:40]}",
    "fit_s": lambda r: r["fit_s"],
    "sample_s": lambda r: r["sample_s"],
    "metric_s": lambda r: r["metric_s"],
    "time": lambda r: (r["fit_s"] or 0) + (r["sample_s"] or 0) if r["fit_s"] is not None else None,
    "peak_mem_mb": lambda r: r["peak_mem_mb"],
    "device": lambda r: r["device"],
}
#: The default set: what a cell is, whether it worked, what it cost; then the metrics, as many as fit.
DEFAULT_TABLE_COLUMNS = ("dataset", "sampler", "rep", "status", "time")


def rows_to_table(rows: list[dict[str, Any]], columns: list[str] | None = None, width: int | None = None) -> str:
    """A plain-text table of the rows: ``columns`` (names of :data:`TABLE_COLUMNS` or metrics), by default
    :data:`DEFAULT_TABLE_COLUMNS` and every metric, metrics dropped from the right and long dataset and
    sampler ids shortened until it fits ``width`` (default: the terminal's); the last line says what
    was left out."""
    import shutil

    from tabulate import tabulate

    metric_names: list[str] = []
    for r in rows:
        metric_names += [m for m in r["metrics"] if m not in metric_names]
    known = [*TABLE_COLUMNS, *metric_names]
    if columns:
        for c in columns:
            if c not in known:
                raise GenbenchError(f"--columns: unknown column {c!r}{did_you_mean(c, known)}")
        cols = list(columns)
    else:
        cols = [*DEFAULT_TABLE_COLUMNS, *metric_names]
    width = width if width is not None else shutil.get_terminal_size((120, 24)).columns

    def value(r: dict[str, Any], c: str) -> Any:
        return TABLE_COLUMNS[c](r) if c in TABLE_COLUMNS else r["metrics"].get(c)

    def render(cols: list[str], limit: int = 0) -> str:
        body = []
        for r in rows:
            line = [value(r, c) for c in cols]
            if limit:
                line = [v[: limit - 1] + "…" if c in ("dataset", "sampler", "cell_id") and isinstance(v, str)
                        and len(v) > limit else v for c, v in zip(cols, line, strict=True)]  # fmt: skip
            body.append(line)
        return tabulate(body, headers=cols, floatfmt=".3g", missingval="—", disable_numparse=False)

    def fits(text: str) -> bool:
        return not width or max(map(len, text.splitlines()), default=0) <= width

    text = render(cols)
    hidden: list[str] = []
    if not columns:
        while not fits(text) and cols[-1] in metric_names and len(cols) > len(DEFAULT_TABLE_COLUMNS) + 1:
            hidden.insert(0, cols.pop())
            text = render(cols)
        limit = 32
        while not fits(text) and limit > 12:
            limit -= 4
            text = render(cols, limit)
    if hidden:
        import textwrap

        note = f"(not shown to fit {width} columns: {', '.join(hidden)}; --columns picks, --format csv has all)"
        text += "\n" + textwrap.fill(note, width or 120, break_on_hyphens=False)
    return text
