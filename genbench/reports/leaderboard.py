"""The leaderboard: one data step (:func:`build_board`, stored rows → ranked :class:`Board`) and
its renderers — the terminal table (:mod:`.terminal`), ``README.md`` (:mod:`.markdown`),
``index.html`` with inline SVG plots (:mod:`.html`, :mod:`.figures`) and ``results.csv`` (the
result model's flat rows). Ranks come with rank intervals from paired t-tests (:mod:`genbench.stats`); a setting
that copies its training set is marked and never ranked (:mod:`.frame`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import GenbenchError
from ..fileio import atomic_write_text
from .frame import Board, build_board, metric_directions, suite_primary_metric

__all__ = ["Board", "build_board", "leaderboard_frame", "leaderboard_table", "load_board", "write_leaderboard"]


def leaderboard_frame(rows: list[dict[str, Any]]):
    """A pandas DataFrame: one line per (dataset config, sampler config) with the columns of
    :data:`genbench.results.schema.AGGREGATE_FIELDS` and each metric's ``m_<name>_mean`` / ``m_<name>_std``
    over repetitions (the export naming of :mod:`genbench.results.schema`); and the metric names."""
    import pandas as pd

    from ..results.schema import component_id

    records = []
    for r in rows:
        ok = r["status"] == "ok"
        rec = {
            "dataset_id": component_id(r["dataset"], r["dataset_params"]),
            "sampler_id": component_id(r["sampler"], r["sampler_params"]),
            "ok": ok,
            "time_s": (r["fit_s"] or 0) + (r["sample_s"] or 0) if ok else None,
        }
        # Failed cells keep their metric columns (as NaN), so an all-failed suite still shows them.
        rec.update({f"m_{k}": (v if ok and v is not None else float("nan")) for k, v in r["metrics"].items()})
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    metric_cols = [c for c in df.columns if c.startswith("m_")]
    grouped = df.groupby(["dataset_id", "sampler_id"], sort=False)
    out = grouped.agg(n_cells=("ok", "size"), n_ok=("ok", "sum"), fit_sample_s_mean=("time_s", "mean"))
    for c in metric_cols:
        out[c + "_mean"] = grouped[c].mean()
        out[c + "_std"] = grouped[c].std()
    return out.reset_index(), [c.removeprefix("m_") for c in metric_cols]


def _rows(store: str | Path | None, suite: str | None) -> tuple[str, list[dict[str, Any]]]:
    from ..results.export import open_store, results_rows

    if suite is None:
        with open_store(store) as db:
            suite = db.last_suite()
            if suite is None:
                raise GenbenchError(f"the store {db.path} holds no results yet")
    return suite, results_rows(store, suite)


def _run_metrics(store: str | Path | None, suite: str) -> list | None:
    """The metrics (with parameters) the suite's last run recorded, if it did."""
    from ..results.export import open_store

    with open_store(store) as db:
        return db.run_options(suite.split("+", 1)[0]).get("metrics") or db.run_options(suite).get("metrics")


def load_board(
    store: str | Path | None, suite: str | None, *, metric: str | None = None, plugin_dirs=(), floors: bool = True
) -> Board:
    """The ranked board of ``suite`` (default: the last one run) from the store, with the data's noise
    floor per dataset configuration unless ``floors`` is false (see :mod:`.floor`)."""
    suite, rows = _rows(store, suite)
    metrics = list(dict.fromkeys(m for r in rows for m in (r["metrics"] or {})))
    board = build_board(
        rows,
        suite,
        metric=metric,
        directions=metric_directions(metrics, plugin_dirs),
        primary_metric=suite_primary_metric(suite, plugin_dirs),
        budget_defaults=budget_defaults({r["sampler"] for r in rows}, plugin_dirs),
        param_defaults=param_defaults({r["sampler"] for r in rows}, plugin_dirs),
    )
    if floors:
        from .floor import floor_draws, floor_means, floor_spreads

        draws = floor_draws(board, plugin_dirs, metrics=_run_metrics(store, suite))
        board.floors, board.floor_sd = floor_means(draws), floor_spreads(draws)
    return board


def _sampler_classes(samplers: set[str], plugin_dirs=()) -> dict[str, Any]:
    """The registered class of each of ``samplers`` (unregistered ones left out; none without a registry)."""
    from ..plugins import get_registry

    try:
        reg = get_registry(plugin_dirs)
    except GenbenchError:
        return {}
    entries = {name: reg.components["sampler"].get(name) for name in samplers}
    return {name: e.obj for name, e in entries.items() if e is not None}


def param_defaults(samplers: set[str], plugin_dirs=()) -> dict[str, dict[str, Any]]:
    """Each registered sampler's declared parameter defaults (unregistered samplers: left out)."""
    return {name: dict(cls.param_defaults()) for name, cls in _sampler_classes(samplers, plugin_dirs).items()}


def budget_defaults(samplers: set[str], plugin_dirs=()) -> dict[str, dict[str, Any]]:
    """Each registered sampler's ``budget_params`` with their defaults (unregistered: none)."""
    out = {}
    for name, cls in _sampler_classes(samplers, plugin_dirs).items():
        if cls.budget_params:
            defaults = cls.param_defaults()
            out[name] = {k: defaults[k] for k in cls.budget_params if k in defaults}
    return out


def leaderboard_table(
    store: str | Path | None,
    suite: str | None,
    *,
    fmt: str = "table",
    metric: str | None = None,
    columns: list[str] | None = None,
    width: int | None = None,
    plugin_dirs=(),
) -> str:
    """The leaderboard as text: ``table`` (fitted to the terminal), ``markdown`` or ``csv`` (aggregates)."""
    if fmt == "csv":
        _, rows = _rows(store, suite)
        return leaderboard_frame(rows)[0].to_csv(index=False)
    from .terminal import terminal_table

    board = load_board(store, suite, metric=metric, plugin_dirs=plugin_dirs)
    if fmt == "markdown":
        return terminal_table(board, columns=columns, width=0, fmt="github")
    return terminal_table(board, columns=columns, width=width)


def _shown_path(path: str | Path) -> str:
    """A path as a page may show it: relative to the working directory, else its name (never a
    machine's absolute path)."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.name


def write_leaderboard(
    out: str | Path,
    store: str | Path | None,
    suite: str | None,
    *,
    metric: str | None = None,
    asv_results: str | Path | None = None,
    command: str = "",
    plugin_dirs=(),
) -> list[Path]:
    """Write ``README.md``, ``index.html`` and ``results.csv`` into ``out``; returns their paths."""
    from ..results.export import rows_to_csv
    from .html import render_html
    from .markdown import render_markdown

    board = load_board(store, suite, metric=metric, plugin_dirs=plugin_dirs)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenbenchError(f"--out {out}: cannot create the directory ({exc.strerror})") from None
    if not command:
        command = (
            f"genbench leaderboard --suite {board.suite}"
            + (f" --store {_shown_path(store)}" if store else "")
            + (f" --metric {metric}" if metric else "")
            + f" --out {_shown_path(out)}"
        )
    finished = max((r.get("finished_at") or "" for r in board.rows), default="")
    generated = f"cells finished up to {finished[:16]} UTC" if finished else ""
    from .paper import render_report, report_html, stored_suite_report

    report = stored_suite_report(board.suite, store, plugin_dirs)  # a suite with a [paper] table
    files = {
        "README.md": render_markdown(board, command=command, generated=generated)
        + ("\n" + render_report(report, "markdown") if report else ""),
        "index.html": render_html(
            board,
            command=command,
            asv_results=asv_results,
            generated=generated,
            paper=report_html(report) if report else "",
        ),
        "results.csv": rows_to_csv(board.rows),
    }
    paths = []
    for name, text in files.items():
        path = out / name
        atomic_write_text(path, text)
        paths.append(path)
    return paths
