"""The gallery: what each sampler generated, drawn over its training points (small multiples).

Per dataset configuration of dimension ≤ 3, one picture per sampler at its selected setting (the
setting its ranked line shows), from the thumbnail its cell stored (first repetition that has
one): generated points in the sampler's colour over the training points in grey. 2-D data is
drawn as is (equal axes); 3-D data in one fixed oblique projection (azimuth −60°, elevation 30°),
the same for every sampler. The frame is the training points' box plus a margin; a generated
point outside it is drawn on the frame's edge and counted in the caption. Stores written before
thumbnails existed give no gallery.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from ..results.thumbnail import decode_thumbnail
from .frame import Board, Group, Standing
from .svg import TRAIN_COLOR, sampler_color

#: Side of one picture, pixels.
SIZE = 132
_PAD = 4


def _projection(k: int) -> np.ndarray:
    """(k, 2): the drawing's axes in data coordinates (the first two, or the fixed 3-D view)."""
    if k < 3:
        return np.eye(k, 2) if k == 2 else np.array([[1.0, 0.0]])
    az, el = math.radians(-60.0), math.radians(30.0)
    right = np.array([math.cos(az), math.sin(az), 0.0])
    up = np.array([-math.sin(el) * math.sin(az), math.sin(el) * math.cos(az), math.cos(el)])
    return np.stack([right, up], axis=1)


def _path(points: np.ndarray) -> str:
    """Points as one SVG path of zero-length strokes (round caps draw them as dots)."""
    return "".join(f"M{x:.0f} {y:.0f}h0" for x, y in points)


def _thumb(s: Standing):
    for _, thumb in sorted(s.config.thumbnails, key=lambda t: t[0]):
        if thumb.get("d", 99) > 3:  # a picture of a few coordinates of high-dimensional data misleads
            continue
        try:
            return decode_thumbnail(thumb)
        except ValueError:
            continue
    return None


def _group_gallery(board: Board, g: Group, index: int) -> str:
    pictures = [(s, t) for s in g.samplers if (t := _thumb(s)) is not None]
    if not pictures:
        return ""
    k = pictures[0][1][0].shape[1]
    if k > 3 or any(t[0].shape[1] != k for _, t in pictures):
        return ""
    proj = _projection(k)
    train2 = pictures[0][1][1] @ proj
    lo, hi = train2.min(axis=0), train2.max(axis=0)
    span = float(max(hi - lo)) * 1.15 or 1.0
    center = (lo + hi) / 2
    inner = SIZE - 2 * _PAD

    def to_px(p: np.ndarray) -> tuple[np.ndarray, int]:
        u = (p - center) / span + 0.5  # equal axes, the training box centred
        outside = int(np.sum(np.any((u < 0) | (u > 1), axis=1)))
        u = np.clip(u, 0.0, 1.0)
        return np.column_stack([_PAD + u[:, 0] * inner, SIZE - _PAD - u[:, 1] * (inner if k > 1 else 0.5)]), outside

    train_id = f"gtrain{index}"
    train_px, _ = to_px(train2)
    out = [
        f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs><path id="{train_id}" '
        f'd="{_path(train_px)}" stroke="{TRAIN_COLOR}" stroke-width="2.2" stroke-linecap="round"/></defs></svg>'
    ]
    for s, (gen, _) in pictures:
        px, outside = to_px(gen @ proj)
        color = sampler_color(s.config.sampler)
        label = s.rank_label or "—"
        setting = s.best_setting()
        caption = f"{s.config.sampler} · {label}" + (f" · {setting}" if setting != "—" else "")
        extra = f"; {outside} outside the frame" if outside else ""
        title = f"{s.config.sampler_id}: {len(gen)} generated points over {len(train_px)} training points{extra}"
        out.append(
            f'<figure class="thumb"><svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
            f'viewBox="0 0 {SIZE} {SIZE}" role="img"><title>{escape(title)}</title>'
            f'<rect x="0.5" y="0.5" width="{SIZE - 1}" height="{SIZE - 1}" fill="#fff" stroke="#ddd"/>'
            f'<use href="#{train_id}"/><path d="{_path(px)}" stroke="{color}" stroke-width="2" '
            f'stroke-linecap="round" stroke-opacity="0.8"/></svg>'
            f"<figcaption>{escape(caption)}{escape(extra)}</figcaption></figure>"
        )
    view = "first two coordinates" if k == 2 else ("a fixed 3-D projection" if k == 3 else "the coordinate")
    return (
        f"<h3>{escape(g.dataset_id)}</h3><p class=note>{escape(view)}; grey: training points</p>"
        f'<div class="gallery">{"".join(out)}</div>'
    )


def gallery_html(board: Board) -> str:
    """The ``id="samples"`` section, or ``""`` when no configuration of dimension ≤ 3 stored thumbnails."""
    parts = [_group_gallery(board, g, i) for i, g in enumerate(board.groups)]
    parts = [p for p in parts if p]
    if not parts:
        return ""
    return (
        '<section id="samples"><h2>Samples</h2><p>What each sampler generated at its selected setting (first '
        "repetition, first 500 points) over the training points, per dataset of dimension ≤ 3.</p>"
        + "".join(parts)
        + "</section>"
    )
