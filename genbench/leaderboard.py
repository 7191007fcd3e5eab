"""The leaderboard: a frame from stored rows (one line per dataset × sampler configuration)
and its terminal / markdown / CSV tables. (The rendered leaderboard — HTML, plots, rank
confidence intervals — grows here in its own issue.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import GenbenchError
from .results import open_store, results_rows

_ARROWS = {True: "↑", False: "↓", None: "·"}


def _directions(names: list[str], plugin_dirs=()) -> dict[str, bool | None]:
    from .plugins import get_registry

    try:
        reg = get_registry(plugin_dirs)
    except GenbenchError:
        return {}
    out = {}
    for n in names:
        if n in reg.components["metric"]:
            out[n] = reg.components["metric"][n].obj.higher_is_better
    return out


def leaderboard_frame(rows: list[dict[str, Any]]):
    """A pandas DataFrame: one line per (dataset config, sampler config) with the columns of
    :data:`genbench.cell.AGGREGATE_FIELDS` and each metric's ``m_<name>_mean`` / ``m_<name>_std``
    over repetitions (the export naming of :mod:`genbench.cell`); and the metric names."""
    import pandas as pd

    from .grid import component_id

    records = []
    for r in rows:
        rec = {
            "dataset_id": component_id(r["dataset"], r["dataset_params"]),
            "sampler_id": component_id(r["sampler"], r["sampler_params"]),
            "ok": r["status"] == "ok",
            "time_s": (r["fit_s"] or 0) + (r["sample_s"] or 0) if r["status"] == "ok" else None,
        }
        # Failed cells keep their metric columns (as NaN), so an all-failed suite still shows them.
        ok = r["status"] == "ok"
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


def _mean_std(mean: float, std: float) -> str:
    if mean != mean:  # NaN: no repetition gave a value
        return "—"
    return f"{mean:.4g}" if std != std else f"{mean:.4g} ± {std:.2g}"


def leaderboard_table(store: str | Path | None, suite: str | None, *, fmt: str = "table", plugin_dirs=()) -> str:
    """Rank samplers per dataset by the suite's first metric that has a direction."""
    from tabulate import tabulate

    if suite is None:
        with open_store(store) as db:
            suite = db.last_suite()
            if suite is None:
                raise GenbenchError(f"the store {db.path} holds no results yet")
    rows = results_rows(store, suite)
    df, metrics = leaderboard_frame(rows)
    if fmt == "csv":
        return df.to_csv(index=False)
    higher = _directions(metrics, plugin_dirs)
    ranked = [m for m in metrics if higher.get(m, False) is not None]
    if ranked:
        key = f"m_{ranked[0]}_mean"
        df = df.sort_values(
            ["dataset_id", key],
            ascending=[True, higher.get(ranked[0], False) is not True],
            kind="stable",
            na_position="last",
        )
        df["rank"] = (df.groupby("dataset_id").cumcount() + 1).astype(object)
        df.loc[df[key].isna(), "rank"] = "—"  # no value (every repetition failed): no rank
    headers = (
        ["dataset", "rank", "sampler", "ok"]
        + [f"{m} {_ARROWS[higher.get(m, False)]}" for m in metrics]
        + ["fit+sample s"]
    )
    table = []
    for _, r in df.iterrows():
        cells = [_mean_std(r[f"m_{m}_mean"], r[f"m_{m}_std"]) for m in metrics]
        time_s = f"{r['fit_sample_s_mean']:.3g}" if r["fit_sample_s_mean"] == r["fit_sample_s_mean"] else "—"
        table.append(
            [
                r["dataset_id"],
                r.get("rank", ""),
                r["sampler_id"],
                f"{int(r['n_ok'])}/{int(r['n_cells'])}",
                *cells,
                time_s,
            ]
        )
    by = f"ranked by {ranked[0]}; " if ranked else ""
    title = f"leaderboard: suite {suite} ({len(rows)} cells; {by}mean ± std over repetitions)\n"
    return title + tabulate(table, headers=headers, tablefmt="github" if fmt == "markdown" else "simple")
