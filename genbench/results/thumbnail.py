"""A cell's thumbnail: a small picture of what the sampler generated, stored with its row.

At most :data:`THUMBNAIL_POINTS` generated points and as many training points, their first
three coordinates (all of them when d ≤ 3), quantised to one byte per coordinate on a box that
holds both sets (so an outlier is drawn where it is, not clipped), base64 in a JSON object:
about 2.7 kB per cell. One byte is 1/255 of the box: finer than a pixel of the gallery's plots.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

#: Points kept of each set.
THUMBNAIL_POINTS = 500
#: Coordinates kept (the gallery draws the first two, or a fixed projection of three).
THUMBNAIL_DIMS = 3


def _pack(points: np.ndarray, lo: np.ndarray, span: np.ndarray) -> str:
    q = np.rint((points - lo) / span * 255.0)
    return base64.b64encode(np.clip(q, 0, 255).astype(np.uint8).tobytes()).decode("ascii")


def encode_thumbnail(generated: np.ndarray, train: np.ndarray, n: int = THUMBNAIL_POINTS) -> dict[str, Any]:
    """The thumbnail of a cell: the first ``n`` generated and training points (first three coordinates)."""
    k = min(THUMBNAIL_DIMS, generated.shape[1])
    gen = np.asarray(generated[:n, :k], dtype=np.float64)
    tr = np.asarray(train[:n, :k], dtype=np.float64)
    both = np.concatenate([gen, tr])
    both = both[np.isfinite(both).all(axis=1)]
    lo = both.min(axis=0) if len(both) else np.zeros(k)
    hi = both.max(axis=0) if len(both) else np.ones(k)
    span = np.where(hi > lo, hi - lo, 1.0)
    gen = gen[np.isfinite(gen).all(axis=1)]
    return {
        "d": int(generated.shape[1]),
        "dims": k,
        "lo": [float(v) for v in lo],
        "hi": [float(v) for v in lo + span],
        "generated": _pack(gen, lo, span),
        "train": _pack(tr, lo, span),
    }


def decode_thumbnail(thumb: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(generated, train) points of a stored thumbnail, in data units; :class:`ValueError` if malformed."""
    try:
        k = int(thumb["dims"])
        lo, hi = np.asarray(thumb["lo"], dtype=float), np.asarray(thumb["hi"], dtype=float)

        def unpack(text: str) -> np.ndarray:
            raw = np.frombuffer(base64.b64decode(text, validate=True), dtype=np.uint8).reshape(-1, k)
            points: np.ndarray = lo + raw.astype(np.float64) / 255.0 * (hi - lo)
            return points

        return unpack(thumb["generated"]), unpack(thumb["train"])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ValueError(f"malformed thumbnail: {exc}") from None
