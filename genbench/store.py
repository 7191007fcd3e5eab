"""The results store: SQLite in WAL mode, written only by the run's parent process.

One transaction per finished cell, so a run killed at any moment (even with SIGKILL) leaves
every finished cell on disk. A cell's newest row is ``current``; re-running a suite skips
cells whose current row is ``ok`` for the same code version and configuration.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import GenbenchError
from .grid import Cell

DEFAULT_STORE = "genbench.db"
STORE_ENV = "GENBENCH_STORE"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, suite TEXT, started_at TEXT, finished_at TEXT, status TEXT,
    n_cells INTEGER, code_version TEXT, versions TEXT, options TEXT
);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL, suite TEXT NOT NULL, cell_id TEXT NOT NULL, config_hash TEXT NOT NULL,
    dataset TEXT NOT NULL, dataset_params TEXT NOT NULL, dataset_config TEXT NOT NULL,
    sampler TEXT NOT NULL, sampler_params TEXT NOT NULL, sampler_config TEXT NOT NULL,
    rep INTEGER NOT NULL, seed INTEGER NOT NULL, n_samples INTEGER, n_reference INTEGER,
    status TEXT NOT NULL, message TEXT, traceback TEXT,
    fit_s REAL, sample_s REAL, metric_s REAL, wall_s REAL, peak_mem_mb REAL,
    metrics TEXT NOT NULL, metric_notes TEXT NOT NULL,
    code_version TEXT NOT NULL, versions TEXT NOT NULL, finished_at TEXT NOT NULL,
    current INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS results_current ON results (suite, cell_id, current);
"""

#: Columns of :meth:`Store.rows` / ``genbench results --format json`` (objects decoded).
COLUMNS = [
    "cell_id",
    "suite",
    "dataset",
    "dataset_params",
    "sampler",
    "sampler_params",
    "rep",
    "seed",
    "status",
    "message",
    "fit_s",
    "sample_s",
    "metric_s",
    "wall_s",
    "peak_mem_mb",
    "metrics",
    "metric_notes",
    "traceback",
    "code_version",
    "versions",
    "run_id",
    "finished_at",
]
_JSON_COLUMNS = {"dataset_params", "sampler_params", "metrics", "metric_notes", "versions"}


def default_store_path() -> Path:
    """``$GENBENCH_STORE`` if set, else ``genbench.db`` in the current directory."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _clean_float(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


class Store:
    """A results database. Safe to read while a run writes (WAL)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise GenbenchError(f"results store {self.path}: {exc}") from None
        self.conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
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
        self.conn.execute(
            "INSERT INTO runs VALUES (?, ?, ?, NULL, 'running', ?, ?, ?, ?)",
            (run_id, suite, _now(), n_cells, code_version, json.dumps(versions), json.dumps(options)),
        )

    def finish_run(self, run_id: str, status: str) -> None:
        self.conn.execute("UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?", (_now(), status, run_id))

    # -- results
    def add_result(
        self, run_id: str, cell: Cell, result: dict[str, Any], code_version: str, versions: dict[str, str]
    ) -> None:
        """Record a finished cell in one transaction; it becomes the cell's current row."""
        metrics = {k: _clean_float(v) for k, v in result.get("metrics", {}).items()}
        row = (
            run_id,
            cell.suite,
            cell.cell_id,
            cell.config_hash(),
            cell.dataset,
            json.dumps(cell.dataset_params, sort_keys=True),
            json.dumps(cell.dataset_config, sort_keys=True, default=str),
            cell.sampler,
            json.dumps(cell.sampler_params, sort_keys=True),
            json.dumps(cell.sampler_config, sort_keys=True, default=str),
            cell.rep,
            cell.seed,
            cell.n_samples,
            cell.n_reference,
            result["status"],
            result.get("message", ""),
            result.get("traceback", ""),
            _clean_float(result.get("fit_s")),
            _clean_float(result.get("sample_s")),
            _clean_float(result.get("metric_s")),
            _clean_float(result.get("wall_s")),
            _clean_float(result.get("peak_mem_mb")),
            json.dumps(metrics),
            json.dumps(result.get("metric_notes", {})),
            code_version,
            json.dumps(versions, sort_keys=True),
            _now(),
        )
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "UPDATE results SET current = 0 WHERE suite = ? AND cell_id = ? AND current = 1",
                (cell.suite, cell.cell_id),
            )
            self.conn.execute(f"INSERT INTO results VALUES (NULL, {', '.join('?' * len(row))}, 1)", row)

    def completed(self, suite: str, code_version: str) -> set[tuple[str, str]]:
        """``(cell_id, config_hash)`` of cells whose current row is final for this code version:
        ``ok``, or ``skipped`` (the dataset lacks what the sampler needs: re-running cannot help)."""
        cur = self.conn.execute(
            "SELECT cell_id, config_hash FROM results "
            "WHERE suite = ? AND current = 1 AND status IN ('ok', 'skipped') AND code_version = ?",
            (suite, code_version),
        )
        return {(r["cell_id"], r["config_hash"]) for r in cur}

    def rows(
        self, suite: str | None = None, *, history: bool = False, cell_ids: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Result rows as dicts (current rows only unless ``history``), oldest first."""
        sql = "SELECT * FROM results WHERE 1 = 1"
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
            d = {k: r[k] for k in COLUMNS}
            for k in _JSON_COLUMNS:
                d[k] = json.loads(d[k]) if d[k] else {}
            out.append(d)
        return out

    def suites(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT suite FROM results ORDER BY suite")]
