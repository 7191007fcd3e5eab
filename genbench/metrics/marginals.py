"""One-dimensional Wasserstein metrics: coordinate marginals (seed 000) and the circle metrics (seed 004)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..contracts import Metric, nan_with_reason
from ..params import param
from .sliced import wasserstein_1d


class MarginalW1(Metric):
    """W1 between the generated and reference marginals of each coordinate (seed 000, Fig. 6b).

    ``coordinate = "mean"`` (default) averages the d per-coordinate distances, ``"max"`` takes
    the worst, an integer picks one coordinate (``-1``: the last one, the hypersemisphere's
    non-uniform direction, as in seed 000 Fig. 6b). Exact 1-D W1 from sorted samples (the
    paper's 1-D "OT distance"). Cost O(d (n + m) log(n + m)).
    """

    name = "marginal_w1"
    higher_is_better = False

    coordinate: int | Literal["mean", "max"] = "mean"

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        d = generated.shape[1]
        if isinstance(self.coordinate, str):
            w1 = wasserstein_1d(generated, reference, p=1)
            return float(w1.mean() if self.coordinate == "mean" else w1.max())
        if not -d <= self.coordinate < d:
            return nan_with_reason(f"coordinate {self.coordinate} out of range for d = {d}")
        k = self.coordinate
        return float(wasserstein_1d(generated[:, [k]], reference[:, [k]], p=1)[0])


def w1_to_uniform(x: np.ndarray, a: float, b: float) -> float:
    """Exact W1 between the empirical law of ``x`` (1-D) and U(a, b).

    ``∫_0^1 |Q_x(t) − (a + (b − a) t)| dt`` summed in closed form over the n steps of the
    empirical quantile function. Cost O(n log n).
    """
    xs = np.sort(np.asarray(x, dtype=np.float64))
    n, w = len(xs), b - a
    t0 = np.arange(n) / n
    t1 = t0 + 1.0 / n
    # On [t0, t1] the integrand is |c − w t| with c = x − a: integral of a linear function's modulus.
    c = xs - a
    tc = np.clip(c / w, t0, t1)  # where the line crosses c (clipped to the step)

    def prim(t):  # ∫ (c − w t) dt
        return c * t - 0.5 * w * t**2

    return float((np.abs(prim(tc) - prim(t0)) + np.abs(prim(t1) - prim(tc))).sum())


def _polar(points: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Radius and angle in [0, 2π) about the nearest of ``centers``."""
    k = np.argmin(((points[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
    rel = points - centers[k]
    return np.hypot(rel[:, 0], rel[:, 1]), np.mod(np.arctan2(rel[:, 1], rel[:, 0]), 2 * np.pi)


def _centers(dataset, generated) -> np.ndarray | str:
    centers = getattr(dataset, "circle_centers", None)
    if centers is None:
        return "needs a circle-like dataset (one with circle_centers)"
    if generated.shape[1] != 2:
        return f"needs 2-D points, got d = {generated.shape[1]}"
    return np.asarray(centers, dtype=np.float64).reshape(-1, 2)


class CircleC1(Metric):
    """Circle metric C1 = W1(radii) + W1(angles) against a sample S (seed 004, Definition 4.1).

    Polar coordinates about the nearest circle centre of the dataset (``circle_centers``;
    circle, two_circles, arc). ``against = "reference"`` compares with fresh reference points
    (generalisation); ``"train"`` with the training set, the thesis's test of how closely the
    training points are reproduced. The thesis's footnote maps with ``arctan(y/x)``, which
    folds antipodal points; we use the full angle. Angles are cut antipodally to the circular
    mean of S (so the arc is not split). Cost O((n + m) log(n + m)).
    """

    name = "circle_c1"
    higher_is_better = False

    against: Literal["reference", "train"] = "reference"

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        centers = _centers(dataset, generated)
        if isinstance(centers, str):
            return nan_with_reason(f"circle_c1 {centers}")
        other = reference if self.against == "reference" else train
        if other is None or len(other) == 0:
            return nan_with_reason("circle_c1 against the training set needs the training set")
        g_r, g_t = _polar(generated, centers)
        s_r, s_t = _polar(np.asarray(other, dtype=np.float64), centers)
        cut = np.angle(np.exp(1j * s_t).mean()) + np.pi  # antipode of the circular mean
        g_t, s_t = np.mod(g_t - cut, 2 * np.pi), np.mod(s_t - cut, 2 * np.pi)
        w = wasserstein_1d(np.column_stack([g_r, g_t]), np.column_stack([s_r, s_t]), p=1)
        return float(w.sum())


class CircleC2(Metric):
    """Circle metric C2 = W1(radii, δ(R)) + W1(angles, U[0, 2π)) (seed 004, Definition 4.2).

    The distance to the true law of a circle dataset, no reference sample needed: radius about
    the nearest centre against the point mass at ``circle_radius``, angle in [0, 2π) against the
    uniform law (closed form). Applies to datasets uniform on their circles (``circle``,
    ``two_circles``). Cost O(n log n).
    """

    name = "circle_c2"
    higher_is_better = False

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        centers = _centers(dataset, generated)
        if isinstance(centers, str):
            return nan_with_reason(f"circle_c2 {centers}")
        if not getattr(dataset, "uniform_angle", False):
            return nan_with_reason("circle_c2 needs a dataset uniform on its circles (angle ~ U[0, 2π))")
        r, theta = _polar(generated, centers)
        return float(np.abs(r - float(dataset.circle_radius)).mean() + w1_to_uniform(theta, 0.0, 2 * np.pi))


class CircleGapMass(Metric):
    """Mass generated *along* the circle between the training points (seed 004 §3.2, Fig. 3.3: an SGM
    trained on 8 points of the circle infers the circle).

    The fraction of generated points that lie on the circle (radius within ``delta`` of
    ``circle_radius`` about the nearest centre) *and* in the gaps between the training angles
    (circular distance to every training angle more than a quarter of their mean spacing, 2π/4M).
    Uniform on the circle gives 1/2; a copier of the training points 0; mass off the circle, however
    spread, 0. So it separates "infers the circle" from "does not copy" (memorization) and from
    "puts mass near the circle" (off_support). Cost O(n M).
    """

    name = "circle_gap_mass"
    higher_is_better = True

    delta: float = param(0.05, gt=0, note="radial tolerance of 'on the circle'")

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        centers = _centers(dataset, generated)
        if isinstance(centers, str):
            return nan_with_reason(f"circle_gap_mass {centers}")
        if train is None or len(train) == 0:
            return nan_with_reason("circle_gap_mass needs the training set")
        r, theta = _polar(generated, centers)
        _, t_theta = _polar(np.asarray(train, dtype=np.float64), centers)
        on = np.abs(r - float(getattr(dataset, "circle_radius", 1.0))) <= self.delta
        margin = np.pi / (2 * len(t_theta))  # a quarter of the mean spacing 2π / M
        gap = np.abs(np.angle(np.exp(1j * (theta[:, None] - t_theta[None, :])))).min(axis=1) > margin
        return float(np.mean(on & gap))


class BetweenMass(Metric):
    """Mass generated *between* two circles (seed 004, Theorem 3.1 and §4.2.4: a push-forward of a
    connected latent has a connected support, so a GAN or VAE fit to two disjoint circles must put
    mass on a path joining them).

    The fraction of generated points in the corridor between the two circles of the dataset
    (``circle_centers``, exactly two, radius ``circle_radius``): along the axis joining the centres,
    strictly between the circles' facing edges with a margin ``delta`` (``|t| < s − r − δ``, t the
    coordinate from the midpoint, s the half-distance between the centres), and within one radius
    of that axis. Unlike ``off_support`` it does not count mass inside a circle or scattered
    outside both: only the mass that connects them. Data and a copier give 0. Cost O(n).
    """

    name = "between_mass"
    higher_is_better = False

    delta: float = param(0.05, gt=0, note="margin from each circle's facing edge")

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        centers = _centers(dataset, generated)
        if isinstance(centers, str):
            return nan_with_reason(f"between_mass {centers}")
        if len(centers) != 2:
            return nan_with_reason(f"between_mass needs exactly two circles, the dataset has {len(centers)}")
        radius = float(getattr(dataset, "circle_radius", 1.0))
        mid, axis = centers.mean(axis=0), centers[1] - centers[0]
        half = float(np.linalg.norm(axis)) / 2
        if half - radius - self.delta <= 0:
            return nan_with_reason("between_mass: the circles leave no corridor wider than delta")
        axis = axis / (2 * half)
        rel = np.asarray(generated, dtype=np.float64) - mid
        t = rel @ axis
        u = rel @ np.array([-axis[1], axis[0]])
        return float(np.mean((np.abs(t) < half - radius - self.delta) & (np.abs(u) <= radius)))


class RadialSpread(Metric):
    """Radial spread ratio ``std(r_generated) / std(r_reference)``, r the distance to the nearest
    circle centre (seed 000 §6.1, Figs. 1 and 4: the arc's radial histogram). ≈ 1 reproduces the
    radial law; > 1 is over-diffusive (isotropic noise, Fig. 1), ≪ 1 collapses onto the mean curve
    (the projected state (19b)). A ratio, with no better direction. Cost O((n + m) k)."""

    name = "radial_spread"
    higher_is_better = None

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        centers = _centers(dataset, generated)
        if isinstance(centers, str):
            return nan_with_reason(f"radial_spread {centers}")
        ref = _polar(np.asarray(reference, dtype=np.float64), centers)[0].std()
        if ref == 0:
            return nan_with_reason("radial_spread: the reference has no radial spread")
        return float(_polar(generated, centers)[0].std() / ref)
