"""Datasets concentrated near curves and surfaces (seed 000 §6.1–6.2, seed 004 §4.2 and §5.5).

Datasets that lie on a set of measure zero (circles, swiss rolls, the disc) have no density in
the ambient space, so they offer ``support_distance`` (exact Euclidean distance to the set) but
no ``log_prob`` or ``score``. Circle-like datasets expose ``circle_centers`` and
``circle_radius`` for the circle metrics C1/C2 (seed 004, Definitions 4.1–4.2).
"""

from __future__ import annotations

import functools
from typing import ClassVar, Literal

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import gammaln

import genbench
from genbench.params import param


class Arc(genbench.Dataset):
    """Noisy arc of the unit circle (seed 000, section 6.1).

    Polar coordinates ``r = 1 + 0.06 ξ_r``, ``θ = π/4 + 0.6 ξ_θ`` with ξ ~ N(0, 1); the paper
    uses M = 2,000 training points. ``log_prob`` and ``score`` are exact for the law of
    ``(r cos θ, r sin θ)`` with θ wrapped to the circle (terms k = −3…3 of the wrapped normal;
    the mass at r < 0, ~1e-62, is ignored). The support is all of R², so no ``support_distance``.
    """

    name = "arc"
    r_mean, r_std, theta_mean, theta_std = 1.0, 0.06, np.pi / 4, 0.6
    circle_centers: ClassVar[tuple[tuple[float, float], ...]] = ((0.0, 0.0),)
    circle_radius = 1.0
    uniform_angle = False

    n_train: int = 2000

    def sample(self, n, *, rng):
        r = self.r_mean + self.r_std * rng.standard_normal(n)
        theta = self.theta_mean + self.theta_std * rng.standard_normal(n)
        return np.column_stack([r * np.cos(theta), r * np.sin(theta)])

    def _polar(self, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        r = np.hypot(x[:, 0], x[:, 1])
        theta = np.arctan2(x[:, 1], x[:, 0])
        k = np.arange(-3, 4)
        dev = theta[:, None] + 2 * np.pi * k[None, :] - self.theta_mean  # wrapped-normal terms
        logw = -0.5 * (dev / self.theta_std) ** 2
        return x, r, theta, dev, logw

    def log_prob(self, x):
        _, r, _, _, logw = self._polar(x)
        log_theta = np.logaddexp.reduce(logw, axis=1) - np.log(np.sqrt(2 * np.pi) * self.theta_std)
        log_r = -0.5 * ((r - self.r_mean) / self.r_std) ** 2 - np.log(np.sqrt(2 * np.pi) * self.r_std)
        return log_r + log_theta - np.log(r)  # Jacobian of polar coordinates: dx = r dr dθ

    def score(self, x):
        x, r, _, dev, logw = self._polar(x)
        w = np.exp(logw - logw.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        d_theta = -(w * dev).sum(axis=1) / self.theta_std**2
        d_r = -(r - self.r_mean) / self.r_std**2 - 1.0 / r
        grad_r = x / r[:, None]
        grad_theta = np.column_stack([-x[:, 1], x[:, 0]]) / (r**2)[:, None]
        return d_r[:, None] * grad_r + d_theta[:, None] * grad_theta


class Hypersemisphere(genbench.Dataset):
    """Non-uniform points near the unit sphere S^{d−1} (seed 000, section 6.2, Fig. 5).

    ``z ~ N(0, I_d)``, last coordinate × ``stretch`` (α = 5), normalised to unit length, then
    perturbed radially by U(0, ``radial_noise``) (0.01), so ``1 ≤ |x| ≤ 1.01``. The paper calls
    it a semi-sphere but states no sign restriction; ``half = True`` reflects the last
    coordinate to ``x_d ≥ 0``. The direction follows the angular central Gaussian law with
    ``Λ = diag(1, …, 1, α²)``: ``p(u) = Γ(d/2) / (2π^{d/2}) |Λ|^{−1/2} (uᵀΛ⁻¹u)^{−d/2}``, so
    ``log_prob`` is exact (−inf off the shell). No ``score``: the density jumps at the shell.
    """

    name = "hypersemisphere"

    n_train: int = 1000
    dim: int = param(3, ge=2)
    stretch: float = param(5.0, gt=0)
    radial_noise: float = param(0.01, gt=0)
    half: bool = False

    def sample(self, n, *, rng):
        z = rng.standard_normal((n, self.dim))
        z[:, -1] *= self.stretch
        u = z / np.linalg.norm(z, axis=1, keepdims=True)
        if self.half:
            u[:, -1] = np.abs(u[:, -1])
        return u * (1.0 + self.radial_noise * rng.random(n))[:, None]

    def log_prob(self, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        d, a = self.dim, float(self.stretch)
        r = np.linalg.norm(x, axis=1)
        u = x / np.where(r > 0, r, 1.0)[:, None]
        q = (u[:, :-1] ** 2).sum(axis=1) + (u[:, -1] / a) ** 2  # uᵀΛ⁻¹u
        log_u = gammaln(d / 2) - np.log(2.0) - (d / 2) * np.log(np.pi) - np.log(a) - (d / 2) * np.log(q)
        if self.half:
            log_u = log_u + np.log(2.0)
        out = log_u - np.log(self.radial_noise) - (d - 1) * np.log(np.where(r > 0, r, 1.0))
        inside = (r >= 1.0) & (r <= 1.0 + self.radial_noise)
        if self.half:
            inside &= x[:, -1] >= 0
        return np.where(inside, out, -np.inf)

    def support_distance(self, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        lo, hi = 1.0, 1.0 + self.radial_noise
        r = np.linalg.norm(x, axis=1)
        dist = np.maximum(0.0, np.maximum(lo - r, r - hi))
        if self.half:  # below the equator the nearest point lies on the rim x_d = 0
            rp = np.linalg.norm(x[:, :-1], axis=1)
            rim = np.hypot(x[:, -1], np.maximum(0.0, np.maximum(lo - rp, rp - hi)))
            dist = np.where(x[:, -1] >= 0, dist, rim)
        return dist


class Circle(genbench.Dataset):
    """Uniform law on the circle of radius ``radius`` (seed 004, section 4.2.2, Fig. 4.1).

    The thesis trains on 8 points of the unit circle to test generalisation along the support
    (here they are drawn at random, not on the thesis's regular grid), and uses radius 10 in
    one experiment (§5.2). ``support_distance`` is ``| |x| − radius |``.
    """

    name = "circle"
    uniform_angle = True

    n_train: int = 8
    radius: float = param(1.0, gt=0)

    @property
    def circle_centers(self) -> tuple[tuple[float, float], ...]:
        return ((0.0, 0.0),)

    @property
    def circle_radius(self) -> float:
        return float(self.radius)

    def sample(self, n, *, rng):
        theta = rng.uniform(0.0, 2 * np.pi, n)
        return self.radius * np.column_stack([np.cos(theta), np.sin(theta)])

    def support_distance(self, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return np.abs(np.hypot(x[:, 0], x[:, 1]) - self.radius)


class TwoCircles(genbench.Dataset):
    """Union of two unit circles centred at ``(±separation, 0)``, equal mass (seed 004, §4.2.4).

    The thesis's disconnected support (centres (±2, 0)), on which GAN/VAE put mass between the
    circles. ``component`` says which circle a point belongs to (for ``mode_balance``).
    """

    name = "two_circles"
    uniform_angle = True
    circle_radius = 1.0

    n_train: int = 16
    separation: float = param(2.0, gt=1, note="disjoint circles")

    @property
    def circle_centers(self) -> tuple[tuple[float, float], ...]:
        return ((-float(self.separation), 0.0), (float(self.separation), 0.0))

    @property
    def weights(self) -> np.ndarray:
        return np.array([0.5, 0.5])

    def sample(self, n, *, rng):
        theta = rng.uniform(0.0, 2 * np.pi, n)
        side = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        return np.column_stack([np.cos(theta) + side * self.separation, np.sin(theta)])

    def component(self, x) -> np.ndarray:
        """0 for the left circle, 1 for the right one (the nearer centre)."""
        return (np.atleast_2d(np.asarray(x, dtype=np.float64))[:, 0] >= 0).astype(np.int64)

    def support_distance(self, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        near = np.where(x[:, 0] >= 0, self.separation, -self.separation)
        return np.abs(np.hypot(x[:, 0] - near, x[:, 1]) - 1.0)


# ----------------------------------------------------------------------------- swiss rolls

_T0, _T1, _HEIGHT = 1.5 * np.pi, 4.5 * np.pi, 21.0  # scikit-learn's make_swiss_roll


@functools.lru_cache(maxsize=8)
def _spiral_tree(intervals: tuple[tuple[float, float], ...]) -> tuple[cKDTree, np.ndarray, np.ndarray]:
    """k-d tree over a dense grid of the spiral ``(t cos t, t sin t)``, t in the given intervals."""
    ts, ids = [], []
    for i, (a, b) in enumerate(intervals):
        ts.append(np.linspace(a, b, 20001))
        ids.append(np.full(20001, i))
    t = np.concatenate(ts)
    return cKDTree(np.column_stack([t * np.cos(t), t * np.sin(t)])), t, np.concatenate(ids)


def spiral_distance(p: np.ndarray, intervals: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Exact distance from 2-D points to the spiral ``(t cos t, t sin t)``, t in ``intervals``.

    Nearest point of a dense grid (k-d tree), then Newton steps on ``|p − c(t)|²`` clipped to
    the grid cell and to the interval. Cost O(n log G).
    """
    tree, grid, ids = _spiral_tree(intervals)
    _, k = tree.query(p)
    t = grid[k].copy()
    lo = np.array([a for a, _ in intervals])[ids[k]]
    hi = np.array([b for _, b in intervals])[ids[k]]
    h = max((b - a) for a, b in intervals) / 20000
    t_lo, t_hi = np.maximum(lo, t - h), np.minimum(hi, t + h)
    for _ in range(6):
        c, s = np.cos(t), np.sin(t)
        diff = p - np.column_stack([t * c, t * s])
        d1 = np.column_stack([c - t * s, s + t * c])
        d2 = np.column_stack([-2 * s - t * c, 2 * c - t * s])
        g = -2 * (diff * d1).sum(axis=1)
        hess = 2 * ((d1 * d1).sum(axis=1) - (diff * d2).sum(axis=1))
        step = np.where(hess > 0, g / np.where(hess > 0, hess, 1.0), 0.0)
        t = np.clip(t - step, t_lo, t_hi)
    near = np.column_stack([t * np.cos(t), t * np.sin(t)])
    return np.minimum(np.linalg.norm(p - near, axis=1), np.linalg.norm(p - tree.data[k], axis=1))


class SwissRoll(genbench.Dataset):
    """scikit-learn's swiss roll (seed 004, §4.2.3, Fig. 4.2): ``t = 1.5π(1 + 2u)``, u ~ U(0, 1).

    ``dim = 3`` (the thesis's: noise in R³, "higher dimensionality"): ``(t cos t, 21 v, t sin t)``
    with v ~ U(0, 1); ``dim = 2``: ``(t cos t, t sin t)``. Uniform in the parameter t, not in arc
    length (as scikit-learn). ``noise`` adds N(0, noise² I); ``scale`` multiplies every
    coordinate. ``support_distance`` is the exact distance to the noiseless roll.
    """

    name = "swiss_roll"
    gap: ClassVar[tuple[float, float] | None] = None

    n_train: int = 1500
    dim: Literal[2, 3] = 3
    noise: float = param(0.0, ge=0)
    scale: float = param(1.0, gt=0)

    def _intervals(self) -> tuple[tuple[float, float], ...]:
        if self.gap is None:
            return ((_T0, _T1),)
        a, b = (_T0 + (_T1 - _T0) * g for g in self.gap)
        return ((_T0, a), (b, _T1))

    def _draw_u(self, n, rng):
        return rng.random(n)

    def sample(self, n, *, rng):
        t = _T0 + (_T1 - _T0) * self._draw_u(n, rng)
        cols = [t * np.cos(t), t * np.sin(t)]
        if self.dim == 3:
            cols.insert(1, _HEIGHT * rng.random(n))
        x = np.column_stack(cols)
        if self.noise > 0:
            x += self.noise * rng.standard_normal(x.shape)
        return self.scale * x

    def support_distance(self, x):
        x = np.atleast_2d(np.asarray(x, dtype=np.float64)) / self.scale
        if self.dim == 2:
            return self.scale * spiral_distance(x, self._intervals())
        curve = spiral_distance(x[:, [0, 2]], self._intervals())
        height = np.maximum(0.0, np.maximum(-x[:, 1], x[:, 1] - _HEIGHT))
        return self.scale * np.hypot(curve, height)  # distance to a product set (curve × interval)


class GappedSwissRoll(SwissRoll):
    """Swiss roll with a gap in its parameter (seed 004, Fig. 4.2 bottom left and Fig. 5.18).

    ``u`` is uniform on ``[0, 1] \\ [gap_start, gap_end)``, so the support is a subset of the
    swiss roll's (the thesis's "hole in the support"; where it lies is not stated: default the
    middle fifth of the roll).
    """

    name = "gapped_swiss_roll"

    gap_start: float = param(0.4, gt=0, lt=1)
    gap_end: float = param(0.6, gt=0, lt=1)

    @property
    def gap(self) -> tuple[float, float]:  # type: ignore[override]
        return (float(self.gap_start), float(self.gap_end))

    def check_params(self) -> None:
        super().check_params()
        if not self.gap_start < self.gap_end:
            raise ValueError(f"gap_start must be less than gap_end, got {self.gap_start!r}, {self.gap_end!r}")

    def _draw_u(self, n, rng):
        w = rng.random(n) * (1.0 - (self.gap_end - self.gap_start))
        return np.where(w < self.gap_start, w, w + (self.gap_end - self.gap_start))


class Disc3D(genbench.Dataset):
    """Uniform law on a disc of radius ``radius`` embedded in R³ (seed 004, §5.5.2, Fig. 5.18).

    The disc lies in the plane x₃ = 0 rotated by ``tilt`` radians about the x₁ axis (the thesis
    does not give the orientation; ``tilt = 0`` leaves the third coordinate identically 0).
    ``support_distance`` is exact: ``sqrt(normal² + max(0, in-plane radius − radius)²)``.
    """

    name = "disc3d"

    n_train: int = 500
    radius: float = param(1.0, gt=0)
    tilt: float = 0.0

    def _rotation(self) -> np.ndarray:
        c, s = np.cos(self.tilt), np.sin(self.tilt)
        return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])

    def sample(self, n, *, rng):
        rho = self.radius * np.sqrt(rng.random(n))
        phi = rng.uniform(0.0, 2 * np.pi, n)
        flat = np.column_stack([rho * np.cos(phi), rho * np.sin(phi), np.zeros(n)])
        return flat @ self._rotation().T

    def support_distance(self, x):
        y = np.atleast_2d(np.asarray(x, dtype=np.float64)) @ self._rotation()  # back to the flat frame
        return np.hypot(y[:, 2], np.maximum(0.0, np.hypot(y[:, 0], y[:, 1]) - self.radius))


@genbench.hookimpl
def genbench_datasets():
    return [Arc, Hypersemisphere, Circle, TwoCircles, SwissRoll, GappedSwissRoll, Disc3D]
