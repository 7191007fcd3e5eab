"""Plots as inline SVG, written by hand: no plotting dependency, nothing fetched, every label escaped.

:func:`plot` draws lines or markers on linear or log axes with a legend; that is all the
leaderboard needs (metric against a grid axis, runtime against M, accuracy against runtime,
loss curves, values over commits).
"""

from __future__ import annotations

import math
from collections.abc import Callable
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

#: One marker shape per sampler family, so that colours that look alike (under colour-vision
#: deficiency, too) are told apart by shape: bridges and diffusion maps, kernel and particle
#: samplers, score-based models, neural generative models.
SAMPLER_SHAPES = {
    "bridge": "circle",
    "localized_bridge": "circle",
    "dmps": "circle",
    "kde": "square",
    "svgd": "square",
    "ula": "square",
    "ou_sgm": "triangle",
    "gm_ndsm": "triangle",
    "gan": "diamond",
    "vae": "diamond",
    "flow": "diamond",
}
SHAPES = ("circle", "square", "triangle", "diamond")
#: Line colours for series that are not samplers (datasets in the training curves): greys, told apart by dashes.
NEUTRAL = ("#222222", "#666666", "#999999")
DASHES = ("", "6 3", "2 2", "8 3 2 3")
#: Estimated size of a point label (11 px bold sans-serif): width per character, height.
_CHAR_W, _LABEL_H = 7.0, 12.0


def sampler_color(name: str) -> str:
    """The fixed colour of a sampler on every page and in every figure."""
    if name in SAMPLER_COLORS:
        return SAMPLER_COLORS[name]
    import hashlib

    rest = [c for c in PALETTE if c not in SAMPLER_COLORS.values()] or list(PALETTE)
    return rest[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(rest)]


def sampler_shape(name: str) -> str:
    """The marker shape of a sampler's family (:data:`SAMPLER_SHAPES`); others by their name's hash."""
    if name in SAMPLER_SHAPES:
        return SAMPLER_SHAPES[name]
    import hashlib

    return SHAPES[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(SHAPES)]


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
    #: marker shape (:data:`SHAPES`)
    shape: str = "circle"
    #: per point: a label written beside it ("": none); ``annotate`` labels every point with ``label``
    point_labels: list[str] = field(default_factory=list)
    #: a dash pattern for the line (``dashed`` picks the default one)
    dash: str = ""
    #: per point: a spread drawn as a shaded band y ± spread along the points, instead of a line
    #: (e.g. the data floor ± its standard deviation)
    spread: list[float] = field(default_factory=list)


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
        s.shape,
        pick(s.point_labels),
        s.dash,
        pick(s.spread),
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


def tick_labels(ticks: list[float]) -> list[str]:
    """One notation per axis: plain decimals (``200, 500, 1000``; ``0.001, 0.01``) while every tick lies
    in [10⁻⁴, 10⁶), else powers of ten for every tick (``1e-05``)."""
    if all(t == 0 or 1e-4 <= abs(t) < 1e6 for t in ticks):
        return [f"{round(t, 12):.10g}" if t else "0" for t in ticks]
    return [f"{t:.2g}" for t in ticks]


def marker(shape: str, x: float, y: float, fill: str, color: str, tip: str = "", r: float = 3.4) -> str:
    """One marker of ``shape`` centred at (x, y), with a hover text."""
    title = f"<title>{escape(tip)}</title>" if tip else ""
    paint = f'fill="{fill}" stroke="{color}"'
    if shape == "square":
        a = r * 0.9
        return f'<rect x="{x - a:.1f}" y="{y - a:.1f}" width="{2 * a:.1f}" height="{2 * a:.1f}" {paint}>{title}</rect>'
    if shape in ("triangle", "diamond"):
        if shape == "triangle":
            pts = [(x, y - 1.25 * r), (x + 1.1 * r, y + 0.75 * r), (x - 1.1 * r, y + 0.75 * r)]
        else:
            pts = [(x, y - 1.3 * r), (x + 1.1 * r, y), (x, y + 1.3 * r), (x - 1.1 * r, y)]
        d = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        return f'<polygon points="{d}" {paint}>{title}</polygon>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {paint}>{title}</circle>'


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(
    items: list[tuple[float, float, str, str]], area: Box, avoid: list[Box] | None = None
) -> list[tuple[float, float, str, str, str, tuple[float, float] | None]]:
    """Where to write each point label ``(x, y, text, colour)`` so that no two overlap, none covers a
    marker in ``avoid`` and all stay in ``area``: the first free spot of a ring of candidates around
    the point, farther rings with a leader line; ``(tx, ty, anchor, text, colour, leader-from)``."""
    placed: list[Box] = list(avoid or [])
    out = []
    for x, y, text, color in sorted(items, key=lambda it: (it[1], it[0])):
        w = _CHAR_W * len(text) + 2
        spot = None
        for ring, dist in enumerate((6.0, 14.0, 26.0, 40.0, 58.0)):
            for dx, dy in ((1, -1), (1, 1), (-1, -1), (-1, 1), (0, -1.4), (0, 1.6), (1.4, 0), (-1.4, 0)):
                ox, oy = dx * dist, dy * dist
                anchor = "start" if dx > 0 else "end" if dx < 0 else "middle"
                x0 = x + ox if dx > 0 else x + ox - w if dx < 0 else x - w / 2
                base = y + oy + (_LABEL_H / 2 - 2 if dx and abs(dy) < 1 else 4 if dy > 0 else 0)
                box = (x0, base - _LABEL_H + 2, x0 + w, base + 3)
                inside = area[0] <= box[0] and box[2] <= area[2] and area[1] <= box[1] and box[3] <= area[3]
                if inside and not any(_overlaps(box, b) for b in placed):
                    tx = x + ox
                    spot = (tx, base, anchor, box, (x, y) if ring >= 2 else None)
                    break
            if spot:
                break
        if spot is None:  # nowhere free: beside the point, as before
            tx, base, anchor = x + 5, y - 4, "start"
            spot = (tx, base, anchor, (tx, base - _LABEL_H + 2, tx + w, base + 3), None)
        tx, base, anchor, box, leader = spot
        placed.append(box)
        out.append((tx, base, anchor, text, color, leader))
    return out


def _band(s: Series, color: str, px, py, ylog: bool) -> str:
    """A series with a spread: the shaded region between y − spread and y + spread along its points."""
    pts = sorted(zip(s.points, s.spread, strict=False))
    floor_y = 1e-300 if ylog else -math.inf
    upper = [(px(x), py(y + d)) for (x, y), d in pts]
    lower = [(px(x), py(max(y - d, floor_y))) for (x, y), d in reversed(pts)]
    d = " ".join(f"{a:.1f},{b:.1f}" for a, b in upper + lower)
    tip = "; ".join(f"{s.label}: {_fmt(y)} ± {_fmt(sd)}" for (_, y), sd in pts[:3])
    title = f"<title>{escape(tip)}</title>"
    return f'<polygon points="{d}" fill="{color}" fill-opacity="0.3" stroke="none">{title}</polygon>'


def _legend(entries: list[tuple[str, str, Series | None]], lx: float, top: float, height: float) -> list[str]:
    """The legend: a line swatch for a line, a marker for markers only, a patch for a band (``None``)."""
    out = []
    for row, (label, color, s) in enumerate(entries):
        ly = top + 10 + 16 * row
        if ly >= height - 10:
            break
        if s is None:
            out.append(f'<rect x="{lx}" y="{ly - 5}" width="16" height="10" fill="{color}" fill-opacity="0.35"/>')
        elif s.lines or not s.markers:
            dash = s.dash or ("5 3" if s.dashed else "")
            stroke = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<line x1="{lx}" x2="{lx + 16}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2"{stroke}/>'
            )
            if s.markers:
                out.append(marker(s.shape, lx + 8, ly, color, color))
        else:
            out.append(marker(s.shape, lx + 8, ly, color, color))
        out.append(f'<text x="{lx + 20}" y="{ly + 4}" class="leg">{escape(label)}</text>')
    return out


def _series_marks(
    s: Series,
    color: str,
    px: Callable[[float], float],
    py: Callable[[float], float],
    to_label: list[tuple[float, float, str, str]],
    markers: list[Box],
) -> list[str]:
    """The line and markers of one series that is not a band; the points it labels are added to
    ``to_label`` and its markers' boxes to ``markers``."""
    out = []
    hollow = s.hollow or [False] * len(s.points)
    names = s.point_labels or ([s.label] * len(s.points) if s.annotate else [""] * len(s.points))
    pts = list(zip(s.points, hollow, names, strict=False))
    if s.lines:
        pts.sort()
    dash = s.dash or ("5 3" if s.dashed else "")
    if s.lines and len(pts) > 1:
        d = " ".join(f"{px(x):.1f},{py(y):.1f}" for (x, y), _, _ in pts)
        stroke = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="1.6"{stroke}/>')
    tips = dict(zip(s.points, s.tips, strict=False)) if s.tips else {}
    if s.markers:
        for (x, y), is_hollow, name in pts:
            tip = tips.get((x, y)) or f"{s.label}: ({_fmt(x)}, {_fmt(y)})"
            X, Y = px(x), py(y)
            out.append(marker(s.shape, X, Y, "white" if is_hollow else color, color, tip))
            markers.append((X - 4, Y - 4, X + 4, Y + 4))
            if name:
                to_label.append((X, Y, name, color))
    return out


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
    """An ``<svg>`` element; points that cannot be drawn (NaN, ≤ 0 on a log axis) are left out. Point
    labels are placed so that none overlaps another; a series with a ``spread`` is a shaded band,
    drawn under the others."""
    series = [_drawable(s, xlog, ylog) for s in series]
    series = sorted((s for s in series if s.points), key=lambda s: not s.spread)  # bands first, underneath
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
    ys += [y + k * d for s in series for (_, y), d in zip(s.points, s.spread, strict=False) for k in (-1, 1)]
    ys = [y for y in ys if _finite(y, ylog)]
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
    if xticks:
        labels = xticks
    else:
        ticks = _ticks(inv_f(fx0), inv_f(fx1), xlog)
        labels = dict(zip(ticks, tick_labels(ticks), strict=True))
    for t, text in labels.items():
        X = px(t)
        out.append(f'<line x1="{X:.1f}" x2="{X:.1f}" y1="{top}" y2="{top + ph}" class="grid"/>')
        out.append(f'<text x="{X:.1f}" y="{top + ph + 14}" class="tick" text-anchor="middle">{escape(text)}</text>')
    yticks = _ticks(inv_g(gy0), inv_g(gy1), ylog)
    for t, text in zip(yticks, tick_labels(yticks), strict=True):
        Y = py(t)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{Y:.1f}" y2="{Y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 4}" y="{Y + 4:.1f}" class="tick" text-anchor="end">{text}</text>')
    out.append(
        f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">{escape(xlabel)}'
        f"{' (log)' if xlog else ''}</text>"
    )
    out.append(
        f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" text-anchor="middle">{escape(ylabel)}'
        f"{' (log)' if ylog else ''}</text>"
    )
    to_label: list[tuple[float, float, str, str]] = []
    markers: list[Box] = []
    legend: list[tuple[str, str, Series | None]] = []
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        if s.spread:
            out.append(_band(s, color, px, py, ylog))
            if s.legend:
                legend.append((s.label, color, None))
            continue
        out += _series_marks(s, color, px, py, to_label, markers)
        if s.legend:
            legend.append((s.label, color, s))
    area = (left + 1, top + 1, left + pw - 1, top + ph - 1)
    for tx, ty, anchor, text, color, leader in place_labels(to_label, area, markers):
        if leader:
            out.append(
                f'<line x1="{leader[0]:.1f}" y1="{leader[1]:.1f}" x2="{tx:.1f}" y2="{ty - 4:.1f}" stroke="{color}" '
                'stroke-width="0.7" stroke-opacity="0.6"/>'
            )
        out.append(
            f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" fill="{color}" class="pl">{escape(text)}</text>'
        )
    out += _legend(legend, left + pw + 10, top, height)
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
