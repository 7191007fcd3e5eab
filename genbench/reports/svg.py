"""Plots as inline SVG, written by hand: no plotting dependency, nothing fetched, every label escaped.

:func:`plot` draws lines or markers on linear or log axes with a legend; that is all the
leaderboard needs (metric against a grid axis, runtime against M, accuracy against runtime,
loss curves, values over commits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

#: Colour-blind-safe palette (Okabe–Ito, then Tol's muted colours; no yellow or light grey, which
#: vanish on white and beside the training points).
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#7F3C8D",
    "#8C564B", "#B8860B", "#17BECF", "#882255", "#44AA99", "#332288",
)  # fmt: skip

#: One colour per built-in sampler, the same on every page; other samplers get one by their name's hash.
SAMPLER_COLORS = {
    "bridge": "#0072B2",
    "localized_bridge": "#56B4E9",
    "kde": "#E69F00",
    "dmps": "#009E73",
    "ula": "#D55E00",
    "svgd": "#CC79A7",
    "ou_sgm": "#7F3C8D",
    "gm_ndsm": "#8C564B",
    "gan": "#000000",
    "vae": "#B8860B",
    "flow": "#17BECF",
}

#: The training points under a sample picture.
TRAIN_COLOR = "#c4c4c4"


def sampler_color(name: str) -> str:
    """The fixed colour of a sampler on every page and in every figure."""
    if name in SAMPLER_COLORS:
        return SAMPLER_COLORS[name]
    import hashlib

    rest = [c for c in PALETTE if c not in SAMPLER_COLORS.values()] or list(PALETTE)
    return rest[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(rest)]


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
    #: per point: what hovering shows (default: the label and the coordinates)
    tips: list[str] = field(default_factory=list)
    #: write the label beside each point (a labelled scatter, e.g. one point per sampler)
    annotate: bool = False
    #: leave the series out of the legend
    legend: bool = True


def _drawable(s: Series, xlog: bool, ylog: bool) -> Series:
    """``s`` without the points that cannot be drawn (NaN, inf, ≤ 0 on a log axis), per-point lists kept aligned."""
    keep = [_finite(x, xlog) and _finite(y, ylog) for x, y in s.points]

    def pick(values: list) -> list:
        return [v for v, k in zip(values, keep, strict=False) if k] if values else []

    return Series(
        s.label,
        [p for p, k in zip(s.points, keep, strict=True) if k],
        s.lines,
        s.markers,
        s.dashed,
        pick(s.hollow),
        s.color,
        pick(s.tips),
        s.annotate,
        s.legend,
    )


def _finite(x: float, log: bool) -> bool:
    return x == x and not math.isinf(x) and (x > 0 if log else True)


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        ticks = [10.0**e for e in range(a, b + 1)]
        if b - a <= 3:  # a few decades: 1, 2, 5 of each, so every axis has ≥ 2 labelled ticks
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
    xticks: dict[float, str] | None = None,
) -> str:
    """An ``<svg>`` element; points that cannot be drawn (NaN, ≤ 0 on a log axis) are left out."""
    series = [_drawable(s, xlog, ylog) for s in series]
    series = [s for s in series if s.points]
    longest = max((len(s.label) for s in series if s.legend), default=0)
    left, top, bottom = 62, 28, 44
    right = 36 + 6 * longest if longest else 20  # the legend is never cut: the plot widens instead
    width = max(width, left + right + 300)
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
    inv_f = (lambda v: 10.0**v) if xlog else float
    inv_g = (lambda v: 10.0**v) if ylog else float
    labels = xticks or {t: _fmt(t) for t in _ticks(inv_f(fx0), inv_f(fx1), xlog)}
    for t, text in labels.items():
        X = px(t)
        out.append(f'<line x1="{X:.1f}" x2="{X:.1f}" y1="{top}" y2="{top + ph}" class="grid"/>')
        out.append(f'<text x="{X:.1f}" y="{top + ph + 14}" class="tick" text-anchor="middle">{escape(text)}</text>')
    for t in _ticks(inv_g(gy0), inv_g(gy1), ylog):
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
    legend_row = 0
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
        tips = dict(zip(s.points, s.tips, strict=False)) if s.tips else {}
        if s.markers:
            for (x, y), hollow in pts:
                fill = "white" if hollow else color
                tip = tips.get((x, y)) or f"{s.label}: ({_fmt(x)}, {_fmt(y)})"
                out.append(
                    f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.2" fill="{fill}" stroke="{color}">'
                    f"<title>{escape(tip)}</title></circle>"
                )
                if s.annotate:
                    out.append(
                        f'<text x="{px(x) + 5:.1f}" y="{py(y) - 4:.1f}" fill="{color}" class="pl">'
                        f"{escape(s.label)}</text>"
                    )
        if not s.legend:
            continue
        ly = top + 10 + 16 * legend_row
        legend_row += 1
        if ly < height - 10:
            lx = left + pw + 10
            dash = ' stroke-dasharray="5 3"' if s.dashed else ""
            out.append(f'<line x1="{lx}" x2="{lx + 16}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/>')
            out.append(f'<text x="{lx + 20}" y="{ly + 4}" class="leg">{escape(s.label)}</text>')
    out.append("</svg>")
    return "".join(out)


def log_slope_interval(points: list[tuple[float, float]], min_sizes: int = 4) -> tuple[float, float, float] | None:
    """The log–log slope with its 95 % interval (ordinary least squares, Student t), or ``None`` with
    fewer than ``min_sizes`` distinct x: a slope through 2 or 3 timings is mostly timer noise."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len({x for x, _ in pts}) < min_sizes:
        return None
    from scipy import stats

    fit = stats.linregress([x for x, _ in pts], [y for _, y in pts])
    half = float(stats.t.ppf(0.975, len(pts) - 2)) * float(fit.stderr)
    return float(fit.slope), float(fit.slope) - half, float(fit.slope) + half


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
