"""The leaderboard's figures, as inline SVG: sensitivity to the tuned parameter, metric against M
and d, runtime against M (log–log, with the fitted slope), accuracy against runtime (Pareto
front), training curves from ``diagnostics``, and asv's accuracy and runtime over commits."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

from .frame import Board, Config, Group
from .svg import DASHES, NEUTRAL, Series, log_slope_interval, pareto_front, plot, sampler_color, sampler_shape

Figure = tuple[str, str]  # (caption, svg)


def colors(board: Board) -> dict[str, str]:
    """One colour per sampler, the same in every figure and on every page (:func:`.svg.sampler_color`)."""
    return {n: sampler_color(n) for n in {c.sampler for c in board.configs}}


def _series(board: Board, sampler: str, points: list[tuple[float, float]], **kw: Any) -> Series:
    """A sampler's series: its colour and its family's marker shape, the same in every figure."""
    return Series(kw.pop("label", sampler), points, color=colors(board)[sampler], shape=sampler_shape(sampler), **kw)


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _ylabel(board: Board) -> str:
    return f"{board.metric} ({'higher' if board.higher_is_better else 'lower'} is better)"


def _uselog(values: list[float]) -> bool:
    pos = [v for v in values if v == v]
    return bool(pos) and min(pos) > 0 and max(pos) / min(pos) >= 10


def sensitivity_figures(board: Board) -> list[Figure]:
    """Metric against each sampler's tuned numeric parameter (ε, bandwidth, …), per dataset configuration
    and parameter (one x-axis per parameter)."""
    out = []
    for g in board.groups:
        per_key: dict[str, list[Series]] = {}
        for s in g.samplers:
            if len(s.tuned) != 1:
                continue
            key = s.tuned[0]
            grid = [c for c in board.configs if c.dataset_id == g.dataset_id and c.sampler == s.config.sampler]
            raw = [(_number(c.sampler_params.get(key)), c.mean(board.metric), c.copies) for c in grid]
            pts = [(x, y, h) for x, y, h in raw if x is not None and y == y]
            if len(pts) >= 2:
                per_key.setdefault(key, []).append(
                    _series(board, s.config.sampler, [(x, y) for x, y, _ in pts], hollow=[h for *_, h in pts])
                )
        for key, series in per_key.items():
            xs = [x for s in series for x, _ in s.points]
            floor = _floor_series(board, [(g, min(xs)), (g, max(xs))])
            out.append(
                (
                    f"{g.dataset_id}: {board.metric} against {key} (hollow: a setting that copies its training set)"
                    + ("; grey band: the data floor ± its spread" if floor else ""),
                    plot(series + floor, title=g.dataset_id, xlabel=key, ylabel=_ylabel(board), xlog=_uselog(xs)),
                )
            )
    return out


def _best(configs: list[Config], metric: str, higher: bool) -> Config | None:
    usable = [c for c in configs if not c.copies and c.values.get(metric)]
    sign = -1.0 if higher else 1.0
    return min(usable, key=lambda c: sign * c.mean(metric)) if usable else None


def _axis_groups(board: Board, axis: str) -> dict[tuple, dict[str, list[tuple[float, Config]]]]:
    """(dataset, other dataset params) → sampler → [(axis value, best config at that value)]."""
    out: dict[tuple, dict[str, list[tuple[float, Config]]]] = {}
    for g in board.groups:
        x = _number(g.dataset_params.get(axis))
        if x is None:
            continue
        rest = tuple(sorted((k, repr(v)) for k, v in g.dataset_params.items() if k != axis))
        grid = [c for c in board.configs if c.dataset_id == g.dataset_id]
        for sampler, cs in itertools.groupby(sorted(grid, key=lambda c: c.sampler), key=lambda c: c.sampler):
            best = _best(list(cs), board.metric, board.higher_is_better)
            if best is not None:
                out.setdefault((g.dataset, rest), {}).setdefault(sampler, []).append((x, best))
    return {k: v for k, v in out.items() if len({x for pts in v.values() for x, _ in pts}) >= 2}


def _floor_series(board: Board, where: list[tuple[Group, float]]) -> list[Series]:
    """The data's noise floor as a grey band, mean ± the spread of its draws (see :mod:`.floor`), at
    ``(group, x)`` points; ``[]`` where the board has no floor."""
    pts, sds = [], []
    for g, x in where:
        floor = board.floors.get(g.dataset_id, {}).get(board.metric)
        if floor is not None:
            sd = board.floor_sd.get(g.dataset_id, {}).get(board.metric, 0.0)
            pts.append((x, floor))
            sds.append(sd if sd == sd else 0.0)
    if not pts:
        return []
    order = sorted(range(len(pts)), key=lambda i: pts[i])
    return [
        Series(
            "data floor ± sd", [pts[i] for i in order], markers=False, color="#9aa5b1", spread=[sds[i] for i in order]
        )
    ]


def _floor_groups(board: Board, key: tuple, axis: str) -> list[tuple[Group, float]]:
    """The dataset configurations a figure over ``axis`` spans, with their axis value."""
    dataset, rest = key
    out = []
    for g in board.groups:
        x = _number(g.dataset_params.get(axis))
        other = tuple(sorted((k, repr(v)) for k, v in g.dataset_params.items() if k != axis))
        if g.dataset == dataset and other == rest and x is not None:
            out.append((g, x))
    return out


def _title(key: tuple) -> str:
    dataset, rest = key
    return dataset + (f"[{','.join(f'{k}={v}' for k, v in rest)}]" if rest else "")


def axis_figures(board: Board, axis: str, label: str) -> list[Figure]:
    """Metric against a dataset axis (``n_train`` = M, ``dim`` = d), each sampler at its selected setting."""
    out = []
    for key, per in _axis_groups(board, axis).items():
        series = [_series(board, s, [(x, c.mean(board.metric)) for x, c in pts]) for s, pts in per.items()]
        xs = [x for s in series for x, _ in s.points]
        floor = _floor_series(board, _floor_groups(board, key, axis))
        series += floor
        out.append(
            (
                f"{_title(key)}: {board.metric} against {label}, each sampler at its selected setting"
                + ("; grey band: the data floor ± its spread" if floor else ""),
                plot(series, title=_title(key), xlabel=label, ylabel=_ylabel(board), xlog=_uselog(xs)),
            )
        )
    return out


def runtime_figures(board: Board) -> list[Figure]:
    """Fit + sample seconds against M on log–log axes; the legend gives each line's fitted slope."""
    out = []
    for key, per in _axis_groups(board, "n_train").items():
        series = []
        for s, pts in per.items():
            xy = [(x, c.time_s()) for x, c in pts]
            fit = log_slope_interval(xy)
            label = f"{s} (slope {fit[0]:.2f}, {fit[1]:.2f} to {fit[2]:.2f})" if fit else s
            series.append(_series(board, s, xy, label=label))
        out.append(
            (
                f"{_title(key)}: runtime against M (log–log); with ≥ 4 sizes the legend gives the fitted slope "
                "(the empirical complexity exponent) and its 95 % interval",
                plot(
                    series,
                    title=_title(key),
                    xlabel="M (training points)",
                    ylabel="fit + sample s",
                    xlog=True,
                    ylog=True,
                ),
            )
        )
    return out


def pareto_figures(board: Board) -> list[Figure]:
    """Accuracy against runtime per dataset configuration, every non-copying setting, with the Pareto front."""
    out = []
    for g in board.groups:
        grid = [
            c for c in board.configs if c.dataset_id == g.dataset_id and not c.copies and c.values.get(board.metric)
        ]
        if len(grid) < 2:
            continue
        pts_by = {}
        for sampler, group in itertools.groupby(sorted(grid, key=lambda c: c.sampler), key=lambda c: c.sampler):
            cs = list(group)
            pts_by[sampler] = (cs, [(c.time_s(), c.mean(board.metric)) for c in cs])
        all_pts = [p for _, pts in pts_by.values() for p in pts if p[0] == p[0] and p[0] > 0]
        front = pareto_front(all_pts, board.higher_is_better)
        on_front = set(front)
        series = []
        for sampler, (cs, pts) in pts_by.items():
            tips = [f"{c.sampler_id}: {_fmt3(y)} in {_fmt3(x)} s" for c, (x, y) in zip(cs, pts, strict=True)]
            names = [sampler if p in on_front else "" for p in pts]
            series.append(_series(board, sampler, pts, lines=False, tips=tips, point_labels=names))
        series.append(Series("Pareto front", front, dashed=True, markers=False, color="#444444"))
        xs = [x for x, _ in all_pts]
        floor = _floor_series(board, [(g, min(xs)), (g, max(xs))]) if xs else []
        out.append(
            (
                f"{g.dataset_id}: {board.metric} against fit + sample time, every setting; dashed: the Pareto front, "
                "its samplers named" + ("; grey band: the data floor ± its spread" if floor else ""),
                plot(series + floor, title=g.dataset_id, xlabel="fit + sample s", ylabel=_ylabel(board), xlog=True),
            )
        )
    return out


def summary_figure(board: Board, lines) -> list[Figure]:
    """Every dataset at once: each sampler's mean rank (:func:`.frame.summarize`) against its median fit +
    sample time, labelled by sampler, with the Pareto front (no sampler both faster and better ranked)."""
    pts = [(ln, (ln.time_s, ln.mean_rank)) for ln in lines if ln.ranked and ln.time_s == ln.time_s and ln.time_s > 0]
    if len(pts) < 2:
        return []
    series = [
        Series(
            ln.sampler,
            [p],
            lines=False,
            color=sampler_color(ln.sampler),
            shape=sampler_shape(ln.sampler),
            annotate=True,
            legend=False,
            tips=[f"{ln.sampler}: mean rank {ln.rank_text()} ({ln.interval_text()}), median {_fmt3(p[0])} s"],
        )
        for ln, p in pts
    ]
    front = pareto_front([p for _, p in pts], higher_is_better=False)
    series.append(Series("Pareto front", front, dashed=True, markers=False, color="#444444"))
    return [
        (
            f"Every dataset: mean rank by {board.metric} (lower is better) against median fit + sample seconds; "
            "dashed: the Pareto front — no sampler is both faster and better ranked than one on it",
            plot(
                series,
                title="accuracy against runtime, all datasets",
                xlabel="median fit + sample s",
                ylabel="mean rank (1 = best)",
                xlog=True,
                width=640,
                height=340,
            ),
        )
    ]


def _fmt3(v: float) -> str:
    return f"{v:.3g}"


def training_figures(board: Board, limit: int = 12) -> list[Figure]:
    """Loss curves from the samplers' ``diagnostics`` (``loss``: ``[[step, loss], …]``), one figure per sampler."""
    per: dict[str, list[Series]] = {}
    for c in board.configs:
        for rep, diag in c.diagnostics[:1]:  # one repetition per configuration keeps the plot readable
            loss = diag.get("loss") if isinstance(diag, dict) else None
            if not isinstance(loss, list) or len(loss) < 2:
                continue
            pts = [(float(p[0]), float(p[1])) for p in loss if isinstance(p, (list, tuple)) and len(p) == 2]
            stopped = f", stopped: {diag['stopped']}" if diag.get("stopped") else ""
            series = per.setdefault(c.sampler, [])
            k = len(series)  # datasets in greys told apart by dashes: the sampler colours mean samplers
            series.append(
                Series(
                    f"{c.dataset_id} {c.sampler_id} rep {rep}{stopped}",
                    pts,
                    markers=False,
                    color=NEUTRAL[k % len(NEUTRAL)],
                    dash=DASHES[(k // len(NEUTRAL)) % len(DASHES)],
                )
            )
    out = []
    for sampler, series in per.items():
        ys = [y for s in series for _, y in s.points]
        out.append(
            (
                f"{sampler}: training loss against step ({min(len(series), limit)} of {len(series)} runs)",
                plot(series[:limit], title=f"{sampler} training loss", xlabel="step", ylabel="loss", ylog=_uselog(ys)),
            )
        )
    return out


def _param_names(root: Path) -> dict[str, list[str]]:
    """asv's ``benchmarks.json``: benchmark name → its parameter names (empty when absent)."""
    try:
        data = json.loads((root / "benchmarks.json").read_text())
    except (OSError, ValueError):
        return {}
    return {k: list(v.get("param_names") or []) for k, v in data.items() if isinstance(v, dict)}


def asv_history(results_dir: str | Path) -> dict[str, Any]:
    """asv's stored results: ``{"commits": [(hash, date ms)], "series": {benchmark → {params → [(i, value)]}}}``
    with commits in date order and each series labelled ``name=value, …``; empty when there are none."""
    root = Path(results_dir)
    files = [p for p in root.glob("*/*.json") if p.name != "machine.json"] if root.is_dir() else []
    names = _param_names(root)
    records = []
    for p in files:
        try:
            d = json.loads(p.read_text())
            records.append((d["date"], d["commit_hash"], d["result_columns"], d["results"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    records.sort(key=lambda r: r[0])
    commits: list[tuple[str, int]] = []
    series: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for date, sha, columns, results in records:
        if sha not in [c for c, _ in commits]:
            commits.append((sha, date))
        i = [c for c, _ in commits].index(sha)
        for name, row in results.items():
            rec = dict(zip(columns, row, strict=False))
            values, params = rec.get("result"), rec.get("params") or []
            if not isinstance(values, list):
                continue
            combos = list(itertools.product(*params)) if params else [()]
            keys = names.get(name) or [f"param{j + 1}" for j in range(len(params))]
            for combo, v in zip(combos, values, strict=False):
                if isinstance(v, (int, float)) and math.isfinite(v):
                    parts = [f"{k}={str(x).strip(chr(39))}" for k, x in zip(keys, combo, strict=False)]
                    label = ", ".join(parts) or name.rsplit(".", 1)[-1]
                    series.setdefault(name, {}).setdefault(label, []).append((i, float(v)))
    return {"commits": commits, "series": series}


def _asv_unit(kind: str) -> tuple[str, float]:
    """The y label of an asv benchmark and the factor its values are shown with: seconds, MB, or the metric."""
    prefix, _, rest = kind.partition("_")
    return {"time": ("seconds", 1.0), "peakmem": ("peak memory, MB", 1e-6)}.get(prefix, (rest or kind, 1.0))


#: Fewer commits than this: no history plot (one or two points say nothing about a trend).
MIN_COMMITS = 3


def commit_figures(results_dir: str | Path | None) -> list[Figure]:
    """One figure per asv benchmark (``track_*`` accuracy, ``time_*`` seconds, ``peakmem_*`` MB) over
    commits, each commit labelled by its short hash and date; none below :data:`MIN_COMMITS` commits."""
    if results_dir is None:
        return []
    import datetime as dt

    hist = asv_history(results_dir)
    commits = hist["commits"]
    if len(commits) < MIN_COMMITS:
        return []
    step = max(1, math.ceil(len(commits) / 8))
    ticks = {
        float(i): f"{sha[:7]} {dt.datetime.fromtimestamp(date / 1000, dt.timezone.utc):%m-%d}"
        for i, (sha, date) in enumerate(commits)
        if i % step == 0 or i == len(commits) - 1
    }
    out = []
    for name, per in sorted(hist["series"].items()):
        kind = name.rsplit(".", 1)[-1]
        unit, factor = _asv_unit(kind)
        series = [Series(label, [(x, y * factor) for x, y in pts]) for label, pts in sorted(per.items())]
        ys = [y for s in series for _, y in s.points]
        first, last = commits[0][0][:8], commits[-1][0][:8]
        out.append(
            (
                f"{name} over {len(commits)} commits ({first} … {last}, oldest first)",
                plot(
                    series[:10], title=kind, xlabel="commit (hash, date)", ylabel=unit, ylog=_uselog(ys), xticks=ticks
                ),
            )
        )
    return out


def rate_figures(board: Board, rates: list) -> list[Figure]:
    """The ranking metric against M and d on log–log axes: each sampler's means and its fitted power
    law (dashed, over the fitted range; :mod:`.rates`), with the data floor."""
    from .rates import AXES, _families, _line

    out = []
    for axis, name in AXES.items():
        for (dataset, rest), family in _families(board, axis).items():
            label = dataset + (f"[{','.join(f'{k}={v}' for k, v in rest)}]" if rest else "")
            series: list[Series] = []
            for r in rates:
                if r.family != label or r.axis != name or r.quantity != board.metric:
                    continue
                pts = [(x, s.config.mean(board.metric)) for x, g in family if (s := _line(g, r.sampler)) is not None]
                pts = [(x, y) for x, y in pts if y == y and y > 0]
                if len(pts) < 2:
                    continue
                series.append(_series(board, r.sampler, pts, lines=False, label=f"{r.sampler} ({r.slope:+.2f})"))
                lx = [math.log(x) for x, _ in pts]
                ly = [math.log(y) for _, y in pts]
                icpt = sum(ly) / len(ly) - r.slope * sum(lx) / len(lx)
                fitted = [(x, math.exp(icpt) * x**r.slope) for x in (pts[0][0], pts[-1][0])]
                series.append(_series(board, r.sampler, fitted, markers=False, dashed=True, legend=False))
            if not series:
                continue
            series += _floor_series(board, [(g, x) for x, g in family])
            out.append(
                (
                    f"{label}: {board.metric} against {name} (log–log), each sampler's means and its fitted "
                    "power law (dashed; the exponent in the legend); grey band: the data floor ± its spread",
                    plot(series, title=label, xlabel=name, ylabel=_ylabel(board), xlog=True, ylog=True),
                )
            )
    return out
