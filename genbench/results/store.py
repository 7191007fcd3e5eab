"""The results store: SQLite in WAL mode, written only by the run's parent process.

One transaction per finished cell, so a run killed at any moment (even with SIGKILL) leaves
every finished cell on disk. A cell's newest row is ``current``; re-running a suite skips
cells whose current row is ``ok`` for the same code version and configuration.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..config import STORE_TIMEOUT_ENV, default_store_path, store_timeout_s
from ..errors import GenbenchError, StoreWriteError
from .schema import ROW_FIELDS, Cell, CellResult, json_fields

SCHEMA_VERSION = 2

#: Columns of :meth:`Store.rows`, ``genbench results --format json`` and ``run_suite``'s frame:
#: the result model's row (:data:`genbench.results.schema.ROW_FIELDS`).
COLUMNS = list(ROW_FIELDS)
_JSON_COLUMNS = set(json_fields())


def _sql_type(sql: str) -> str:
    return "TEXT" if sql == "JSON" else sql


#: The results table: bookkeeping columns around the row model's.
_RESULTS_TABLE = {
    "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
    **{k: _sql_type(sql) for k, (sql, _) in ROW_FIELDS.items()},
    "config_hash": "TEXT NOT NULL",
    "current": "INTEGER NOT NULL DEFAULT 1",
}
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, suite TEXT, started_at TEXT, finished_at TEXT, status TEXT,
    n_cells INTEGER, code_version TEXT, versions TEXT, options TEXT
);
CREATE TABLE IF NOT EXISTS results ({", ".join(f"{k} {v}" for k, v in _RESULTS_TABLE.items())});
CREATE INDEX IF NOT EXISTS results_current ON results (suite, cell_id, current);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _json(key: str, value: Any) -> str:
    """A JSON column's text: metrics keep the suite's order (the leaderboard ranks by the first)."""
    return json.dumps(value, sort_keys=key not in ("metrics", "metric_notes"), default=str)


def _cause(exc: BaseException) -> str:
    """What the machine said, in words a user can act on."""
    text = str(exc) or type(exc).__name__
    hints = {
        "disk I/O error": "disk I/O error: the disk may be full or failing",
        "database or disk is full": "the disk is full",
        "readonly database": "the store was made read-only",
        "database is locked": f"another process held the store's lock past the {store_timeout_s():g} s timeout"
        f" ({STORE_TIMEOUT_ENV})",
    }
    for key, hint in hints.items():
        if key in text:
            return hint
    return text


def _clean_float(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


class Store:
    """A results database. Safe to read while a run writes (WAL)."""

    def __init__(self, path: str | Path | None = None, *, readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        hint = "choose another with --store or GENBENCH_STORE"
        if readonly:  # read what is there: no schema, no migration, no write
            try:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, timeout=store_timeout_s())
                self.conn.row_factory = sqlite3.Row
            except sqlite3.DatabaseError as exc:
                raise GenbenchError(f"results store {self.path}: {exc}") from None
            return
        if self.path.suffix == ".gz":
            raise GenbenchError(
                f"results store {self.path}: a compressed store is read-only (leaderboard, report, results); "
                f"decompress it (gunzip -k) to add results; {hint}"
            )
        directory = self.path.parent if str(self.path.parent) else Path(".")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"results store {self.path}: cannot create directory {directory} ({exc.strerror}); {hint}"
            raise GenbenchError(msg) from None
        if not os.access(directory, os.W_OK | os.X_OK):
            raise GenbenchError(f"results store {self.path}: directory {directory} is not writable; {hint}")
        try:
            self.conn = sqlite3.connect(self.path, timeout=store_timeout_s(), isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.executescript(_SCHEMA)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            cannot_write = any(w in str(exc) for w in ("unable to open", "readonly", "read-only", "disk I/O"))
            raise GenbenchError(f"results store {self.path}: {exc}{'; ' + hint if cannot_write else ''}") from None

    @staticmethod
    def check_writable(path: str | Path | None = None) -> None:
        """Open (creating if needed) the store at ``path`` once: a one-line :class:`GenbenchError`
        before a run starts, rather than after its first cell."""
        Store(path).close()

    def _migrate(self) -> None:
        """Add the columns a store written by an older genbench lacks (values stay NULL)."""
        have = {r["name"] for r in self.conn.execute("PRAGMA table_info(results)")}
        for key, (sql, _) in ROW_FIELDS.items():
            if key not in have:
                self.conn.execute(f"ALTER TABLE results ADD COLUMN {key} {_sql_type(sql).replace(' NOT NULL', '')}")
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs
    def start_run(
        self,
        run_id: str,
        suite: str,
        n_cells: int,
        code_version: str,
        versions: dict[str, str],
        options: dict[str, Any],
    ) -> None:
        with self._writing("starting the run"):
            self.conn.execute(
                "INSERT INTO runs VALUES (?, ?, ?, NULL, 'running', ?, ?, ?, ?)",
                (run_id, suite, _now(), n_cells, code_version, json.dumps(versions), json.dumps(options)),
            )

    def finish_run(self, run_id: str, status: str) -> None:
        with self._writing("marking the run finished"):
            self.conn.execute("UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?", (_now(), status, run_id))

    def _writing(self, what: str) -> contextlib.AbstractContextManager[None]:
        """A context in which a failed write (disk full, I/O error, read-only or deleted file, a lock held
        past the timeout) raises :class:`StoreWriteError` naming this store and ``what`` failed."""

        @contextlib.contextmanager
        def guard() -> Iterator[None]:
            try:
                yield
            except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as exc:
                raise StoreWriteError(str(self.path), what, _cause(exc)) from exc

        return guard()

    def count_finished(self, suite: str) -> int | None:
        """Cells of ``suite`` whose current row is final (``ok`` or ``skipped``); ``None`` if the store
        cannot be read; 0 when its file was deleted, whatever the open connection still sees)."""
        if not self.path.exists():
            return 0
        try:
            row = self.conn.execute(
                "SELECT COUNT(*) FROM results WHERE suite = ? AND current = 1 AND status IN ('ok', 'skipped')",
                (suite,),
            ).fetchone()
        except (sqlite3.Error, OSError):
            return None
        return int(row[0])

    def run_options(self, suite: str) -> dict[str, Any]:
        """The options of the latest run of ``suite`` (``{}`` if none was recorded)."""
        row = self.conn.execute(
            "SELECT options FROM runs WHERE suite = ? ORDER BY started_at DESC LIMIT 1", (suite,)
        ).fetchone()
        try:
            return json.loads(row["options"]) if row and row["options"] else {}
        except ValueError:
            return {}

    # -- results
    def add_result(
        self, run_id: str, cell: Cell, result: CellResult, code_version: str, versions: dict[str, str]
    ) -> None:
        """Record a finished cell in one transaction; it becomes the cell's current row."""
        row = {
            **{k: getattr(cell, k) for k in ("cell_id", "suite", "dataset", "sampler", "rep", "seed")},
            **{k: getattr(cell, k) for k in ("n_samples", "n_reference")},
            "dataset_params": cell.dataset_params,
            "dataset_config": cell.dataset_config,
            "sampler_params": cell.sampler_params,
            "sampler_config": cell.sampler_config,
            **result.to_dict(),
            "metrics": {k: _clean_float(v) for k, v in result.metrics.items()},
            "code_version": code_version,
            "versions": versions,
            "run_id": run_id,
            "finished_at": _now(),
        }
        for key in ("fit_s", "sample_s", "metric_s", "wall_s", "peak_mem_mb"):
            row[key] = _clean_float(row[key])
        values = {k: _json(k, row[k]) if k in _JSON_COLUMNS else row[k] for k in COLUMNS}
        values["config_hash"] = cell.config_hash()
        names = ", ".join(values)
        if not self.path.exists():  # deleted mid-run: SQLite would write on into the unlinked file
            raise StoreWriteError(str(self.path), f"recording {cell.cell_id}", "the store file was deleted")
        with self._writing(f"recording {cell.cell_id}"), self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "UPDATE results SET current = 0 WHERE suite = ? AND cell_id = ? AND current = 1",
                (cell.suite, cell.cell_id),
            )
            self.conn.execute(
                f"INSERT INTO results ({names}) VALUES ({', '.join('?' * len(values))})", list(values.values())
            )

    def completed(self, suite: str, code_version: str) -> dict[tuple[str, str], str]:
        """``(cell_id, config_hash) → status`` of cells whose current row is final for this code
        version: ``ok``, or ``skipped`` (the caller decides whether the reason still holds — a
        package installed since then makes a skipped cell runnable)."""
        cur = self.conn.execute(
            "SELECT cell_id, config_hash, status FROM results "
            "WHERE suite = ? AND current = 1 AND status IN ('ok', 'skipped') AND code_version = ?",
            (suite, code_version),
        )
        return {(r["cell_id"], r["config_hash"]): r["status"] for r in cur}

    def rows(
        self,
        suite: str | None = None,
        *,
        history: bool = False,
        cell_ids: Iterable[str] | None = None,
        columns: Iterable[str] = COLUMNS,
    ) -> list[dict[str, Any]]:
        """Result rows as dicts of ``columns`` (current rows only unless ``history``), oldest first."""
        columns = list(columns)
        sql = f"SELECT {', '.join(columns)} FROM results WHERE 1 = 1"
        args: list[Any] = []
        if not history:
            sql += " AND current = 1"
        if suite is not None:
            sql += " AND suite = ?"
            args.append(suite)
        sql += " ORDER BY id"
        wanted = set(cell_ids) if cell_ids is not None else None
        out = []
        for r in self.conn.execute(sql, args):
            if wanted is not None and r["cell_id"] not in wanted:
                continue
            d = {k: r[k] for k in columns}
            for k in _JSON_COLUMNS.intersection(columns):
                d[k] = json.loads(d[k]) if d[k] else {}
            out.append(d)
        return out

    def suites(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT suite FROM results ORDER BY suite")]

    def last_suite(self) -> str | None:
        """The suite of the most recently written row (``None`` for an empty store)."""
        last = self.conn.execute("SELECT suite FROM results ORDER BY id DESC LIMIT 1").fetchone()
        return None if last is None else last[0]

    def cell_log(self, cell_id: str, suite: str | None = None) -> list[dict[str, Any]]:
        """The current rows of ``cell_id`` (one per suite unless ``suite``) with their captured output."""
        sql = "SELECT suite, cell_id, status, log_tail, log_bytes FROM results WHERE current = 1 AND cell_id = ?"
        args: list[Any] = [cell_id]
        if suite is not None:
            sql += " AND suite = ?"
            args.append(suite)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY id", args)]
