"""Plots as inline SVG, written by hand: no plotting dependency, nothing fetched, every label escaped.

:func:`plot` draws lines or markers on linear or log axes with a legend; that is all the
leaderboard needs (metric against a grid axis, runtime against M, accuracy against runtime,
loss curves, values over commits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

#: Colour-blind-safe palette (Okabe–Ito, then greys).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999", "#7F3C8D")


@dataclass
class Series:
    """One line (or set of markers) of a plot."""

    label: str
    points: list[tuple[float, float]]
    lines: bool = True
    markers: bool = True
    dashed: bool = False
    hollow: list[bool] = field(default_factory=list)  # per point: drawn hollow (e.g. a copying setting)
    color: str | None = None


def _finite(x: float, log: bool) -> bool:
    return x == x and not math.isinf(x) and (x > 0 if log else True)


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        ticks = [10.0**e for e in range(a, b + 1)]
        if b - a <= 2:
            ticks = sorted({m * 10.0**e for e in range(a, b + 1) for m in (1, 2, 5)})
        return [t for t in ticks if lo / 1.0001 <= t <= hi * 1.0001] or [lo, hi]
    if hi == lo:
        return [lo]
    raw = (hi - lo) / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    out = []
    t = start
    while t <= hi + step * 1e-9:
        out.append(round(t, 12))
        t += step
    return out


def _fmt(t: float) -> str:
    return f"{t:.3g}"


def plot(
    series: list[Series],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    xlog: bool = False,
    ylog: bool = False,
    width: int = 560,
    height: int = 300,
) -> str:
    """An ``<svg>`` element; points that cannot be drawn (NaN, ≤ 0 on a log axis) are left out."""
    series = [
        Series(s.label, [(x, y) for x, y in s.points if _finite(x, xlog) and _finite(y, ylog)], s.lines, s.markers,
               s.dashed, [h for (x, y), h in zip(s.points, s.hollow or [False] * len(s.points), strict=False)
                          if _finite(x, xlog) and _finite(y, ylog)], s.color)
        for s in series
    ]  # fmt: skip
    series = [s for s in series if s.points]
    left, right, top, bottom = 62, 170, 28, 44
    pw, ph = width - left - right, height - top - bottom
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<text x="{left}" y="16" class="t">{escape(title)}</text>',
    ]
    if not series:
        out.append(f'<text x="{left}" y="{top + ph / 2}">no values to plot</text></svg>')
        return "".join(out)
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x0 == x1:
        x0, x1 = (x0 / 2, x1 * 2) if xlog else (x0 - 1, x1 + 1)
    if y0 == y1:
        y0, y1 = (y0 / 2, y1 * 2) if ylog else (y0 - abs(y0) * 0.1 - 1e-12, y1 + abs(y1) * 0.1 + 1e-12)
    f = math.log10 if xlog else float
    g = math.log10 if ylog else float
    fx0, fx1, gy0, gy1 = f(x0), f(x1), g(y0), g(y1)
    padx, pady = (fx1 - fx0) * 0.04, (gy1 - gy0) * 0.06
    fx0, fx1, gy0, gy1 = fx0 - padx, fx1 + padx, gy0 - pady, gy1 + pady

    def px(x: float) -> float:
        return left + (f(x) - fx0) / (fx1 - fx0) * pw

    def py(y: float) -> float:
        return top + ph - (g(y) - gy0) / (gy1 - gy0) * ph

    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="frame"/>')
    for t in _ticks(x0, x1, xlog):
        X = px(t)
        out.append(f'<line x1="{X:.1f}" x2="{X:.1f}" y1="{top}" y2="{top + ph}" class="grid"/>')
        out.append(f'<text x="{X:.1f}" y="{top + ph + 14}" class="tick" text-anchor="middle">{_fmt(t)}</text>')
    for t in _ticks(y0, y1, ylog):
        Y = py(t)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{Y:.1f}" y2="{Y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 4}" y="{Y + 4:.1f}" class="tick" text-anchor="end">{_fmt(t)}</text>')
    out.append(
        f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">{escape(xlabel)}'
        f"{' (log)' if xlog else ''}</text>"
    )
    out.append(
        f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" text-anchor="middle">{escape(ylabel)}'
        f"{' (log)' if ylog else ''}</text>"
    )
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        pts = (
            sorted(zip(s.points, s.hollow or [False] * len(s.points), strict=False))
            if s.lines
            else list(zip(s.points, s.hollow or [False] * len(s.points), strict=False))
        )
        if s.lines and len(pts) > 1:
            d = " ".join(f"{px(x):.1f},{py(y):.1f}" for (x, y), _ in pts)
            dash = ' stroke-dasharray="5 3"' if s.dashed else ""
            out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="1.6"{dash}/>')
        if s.markers:
            for (x, y), hollow in pts:
                fill = "white" if hollow else color
                out.append(
                    f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{fill}" stroke="{color}">'
                    f"<title>{escape(s.label)}: ({_fmt(x)}, {_fmt(y)})</title></circle>"
                )
        ly = top + 10 + 16 * i
        if ly < height - 10:
            lx = left + pw + 10
            out.append(f'<line x1="{lx}" x2="{lx + 16}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2"/>')
            label = s.label if len(s.label) <= 24 else s.label[:23] + "…"
            out.append(f'<text x="{lx + 20}" y="{ly + 4}" class="leg">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def log_slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log y against log x (the empirical complexity exponent), or ``None``."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def pareto_front(points: list[tuple[float, float]], higher_is_better: bool) -> list[tuple[float, float]]:
    """Points (runtime, value) no other point beats on both: faster and at least as accurate."""
    sign = -1.0 if higher_is_better else 1.0
    front: list[tuple[float, float]] = []
    best = math.inf
    for x, y in sorted(points, key=lambda p: (p[0], sign * p[1])):
        if sign * y < best:
            front.append((x, y))
            best = sign * y
    return front
