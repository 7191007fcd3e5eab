"""Datasets concentrated near curves and surfaces."""

from __future__ import annotations

import numpy as np

import genbench


class Arc(genbench.Dataset):
    """Noisy arc of the unit circle (seed 000, section 6.1).

    Polar coordinates ``r = 1 + 0.06 ξ_r``, ``θ = π/4 + 0.6 ξ_θ`` with ξ ~ N(0, 1); the paper
    uses M = 2,000 training points. ``log_prob`` and ``score`` are exact for the law of
    ``(r cos θ, r sin θ)`` with θ wrapped to the circle (terms k = −3…3 of the wrapped normal;
    the mass at r < 0, ~1e-62, is ignored).
    """

    name = "arc"
    r_mean, r_std, theta_mean, theta_std = 1.0, 0.06, np.pi / 4, 0.6

    def __init__(self, n_train: int = 2000) -> None:
        self.n_train = n_train

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


@genbench.hookimpl
def genbench_datasets():
    return [Arc]
