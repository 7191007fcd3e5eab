"""Stored result rows and their exports (JSON, flat CSV, a table), in the result model's naming.

The columns are :data:`genbench.results.schema.ROW_FIELDS`; the flat export names are documented in
:mod:`genbench.results.schema` and the README (``d_*``, ``p_*``, ``m_*``, ``note_*``, ``v_*``).
"""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path
from typing import Any

from ..errors import GenbenchError
from .schema import flat_row

_TABLE_COLUMNS = ["cell_id", "status", "fit_s", "sample_s", "metric_s", "peak_mem_mb", "device"]


def open_store(store: str | Path | None):
    """The existing store at ``store`` (default: ``$GENBENCH_STORE`` or ``./genbench.db``);
    :class:`GenbenchError` if there is none. A gzip-compressed store (``*.gz``, such as the committed
    ``leaderboard/store.db.gz``) is read from a decompressed temporary copy, read-only."""
    from .store import Store, default_store_path

    path = Path(store) if store else default_store_path()
    if not path.exists():
        raise GenbenchError(f"no results store at {path} (run `genbench run --suite smoke` first, or pass --store)")
    if path.suffix == ".gz":
        return Store(_decompressed(path), readonly=True)
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


def rows_to_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table: the main columns and every metric."""
    from tabulate import tabulate

    metric_names: list[str] = []
    for r in rows:
        metric_names += [m for m in r["metrics"] if m not in metric_names]
    table = []
    for r in rows:
        line = [r[c] for c in _TABLE_COLUMNS] + [r["metrics"].get(m) for m in metric_names]
        line[1] = r["status"] if r["status"] == "ok" else f"{r['status']}: {r['message'][:60]}"
        table.append(line)
    return tabulate(table, headers=_TABLE_COLUMNS + metric_names, floatfmt=".4g", missingval="—")
