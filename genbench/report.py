"""Turning stored results into tables: result rows, the leaderboard, component listings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .errors import GenbenchError

_ARROWS = {True: "↑", False: "↓", None: "·"}
_TABLE_COLUMNS = ["cell_id", "status", "fit_s", "sample_s", "metric_s", "peak_mem_mb"]


def results_rows(store: str | Path | None, suite: str | None, *, history: bool = False) -> list[dict[str, Any]]:
    """Stored rows for ``suite`` (all suites if ``None``); :class:`GenbenchError` if there are none."""
    from .store import Store, default_store_path

    path = Path(store) if store else default_store_path()
    if not path.exists():
        raise GenbenchError(f"no results store at {path} (run `genbench run --suite smoke` first, or pass --store)")
    with Store(path) as db:
        if suite is not None and suite not in db.suites():
            known = ", ".join(db.suites()) or "none"
            raise GenbenchError(f"no results for suite {suite!r} in {path} (suites stored: {known})")
        return db.rows(suite, history=history)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if not isinstance(v, dict)}
    for prefix, key in (("d_", "dataset_params"), ("p_", "sampler_params"), ("m_", "metrics")):
        for k, v in row[key].items():
            out[prefix + k] = v
    out.pop("traceback", None)
    return out


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """Flat CSV: parameters as ``d_*`` / ``p_*`` columns, metrics as ``m_*`` (benchopt style)."""
    flat = [_flat(r) for r in rows]
    fields: list[str] = []
    for r in flat:
        fields += [k for k in r if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    writer.writerows(flat)
    return buf.getvalue()


def rows_to_table(rows: list[dict[str, Any]]) -> str:
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
    """A pandas DataFrame: one line per (dataset config, sampler config), metrics mean ± std."""
    import pandas as pd

    from .grid import component_id

    records = []
    for r in rows:
        rec = {
            "dataset": component_id(r["dataset"], r["dataset_params"]),
            "sampler": component_id(r["sampler"], r["sampler_params"]),
            "ok": r["status"] == "ok",
            "time_s": (r["fit_s"] or 0) + (r["sample_s"] or 0) if r["status"] == "ok" else None,
        }
        # Failed cells keep their metric columns (as NaN), so an all-failed suite still shows them.
        ok = r["status"] == "ok"
        rec.update({f"m:{k}": (v if ok and v is not None else float("nan")) for k, v in r["metrics"].items()})
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    metric_cols = [c for c in df.columns if c.startswith("m:")]
    grouped = df.groupby(["dataset", "sampler"], sort=False)
    out = grouped.agg(cells=("ok", "size"), ok=("ok", "sum"), time_s=("time_s", "mean"))
    for c in metric_cols:
        out[c + ":mean"] = grouped[c].mean()
        out[c + ":std"] = grouped[c].std()
    return out.reset_index(), [c[2:] for c in metric_cols]


def _mean_std(mean: float, std: float) -> str:
    if mean != mean:  # NaN: no repetition gave a value
        return "—"
    return f"{mean:.4g}" if std != std else f"{mean:.4g} ± {std:.2g}"


def leaderboard_table(store: str | Path | None, suite: str | None, *, fmt: str = "table", plugin_dirs=()) -> str:
    """Rank samplers per dataset by the suite's first metric that has a direction."""
    from tabulate import tabulate

    from .store import Store, default_store_path

    path = Path(store) if store else default_store_path()
    if suite is None:
        if not path.exists():
            raise GenbenchError(f"no results store at {path} (run `genbench run --suite smoke` first)")
        with Store(path) as db:
            last = db.conn.execute("SELECT suite FROM results ORDER BY id DESC LIMIT 1").fetchone()
        if last is None:
            raise GenbenchError(f"the store {path} holds no results yet")
        suite = last[0]
    rows = results_rows(path, suite)
    df, metrics = leaderboard_frame(rows)
    if fmt == "csv":
        return df.to_csv(index=False)
    higher = _directions(metrics, plugin_dirs)
    ranked = [m for m in metrics if higher.get(m, False) is not None]
    if ranked:
        key = f"m:{ranked[0]}:mean"
        df = df.sort_values(
            ["dataset", key],
            ascending=[True, higher.get(ranked[0], False) is not True],
            kind="stable",
            na_position="last",
        )
        df["rank"] = (df.groupby("dataset").cumcount() + 1).astype(object)
        df.loc[df[key].isna(), "rank"] = "—"  # no value (every repetition failed): no rank
    headers = (
        ["dataset", "rank", "sampler", "ok"]
        + [f"{m} {_ARROWS[higher.get(m, False)]}" for m in metrics]
        + ["fit+sample s"]
    )
    table = []
    for _, r in df.iterrows():
        cells = [_mean_std(r[f"m:{m}:mean"], r[f"m:{m}:std"]) for m in metrics]
        time_s = f"{r['time_s']:.3g}" if r["time_s"] == r["time_s"] else "—"
        table.append(
            [
                r["dataset"],
                r.get("rank", ""),
                r["sampler"],
                f"{int(r['ok'])}/{int(r['cells'])}",
                *cells,
                time_s,
            ]
        )
    by = f"ranked by {ranked[0]}; " if ranked else ""
    title = f"leaderboard: suite {suite} ({len(rows)} cells; {by}mean ± std over repetitions)\n"
    return title + tabulate(table, headers=headers, tablefmt="github" if fmt == "markdown" else "simple")


def describe_components(kind: str, plugin_dirs=()) -> list[dict[str, Any]]:
    """Registered components of ``kind`` with parameters, source and (for metrics) direction."""
    from .plugins import get_registry

    reg = get_registry(plugin_dirs)
    out = []
    for name in reg.names(kind):
        entry = reg.components[kind][name]
        item: dict[str, Any] = {"name": name, "source": entry.source}
        if kind == "suite":
            item["path"] = str(entry.obj)
            try:
                from .suite import tomllib

                item["description"] = tomllib.loads(Path(entry.obj).read_text()).get("description", "")
            except Exception:
                item["description"] = ""
        else:
            item["params"] = json.loads(json.dumps(entry.obj.param_defaults(), default=str))
            doc = (entry.obj.__doc__ or "").strip().splitlines()
            item["summary"] = doc[0] if doc else ""
            if kind == "metric":
                item["higher_is_better"] = entry.obj.higher_is_better
            if kind == "sampler":
                item["requires"] = sorted(entry.obj.requires)
        out.append(item)
    return out
