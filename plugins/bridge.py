"""Schrödinger-bridge sampler (seed 000: Gottwald, Li, Marzouk, Reich, "Stable generative
modeling using Schrödinger bridges"), every variant the paper compares, as one sampler."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from genbench_plugins._chains import ChainSampler, conditioning_arrays
from scipy.special import logsumexp

import genbench
from genbench.numerics.kde import bandwidth
from genbench.numerics.sinkhorn import (
    gaussian_log_kernel,
    kde_log_density_sq,
    log_weights,
    sinkhorn_symmetric,
    sq_distances,
    variable_bandwidth,
)
from genbench.numerics.sinkhorn_large import choose_method, kde_log_density_blocks, sinkhorn_gaussian
from genbench.params import param


class Bridge(ChainSampler):
    """Langevin sampler whose drift is the Schrödinger-bridge conditional mean ``m(x) = X p(x)``.

    Fit (seed 000 eqs. (5)–(6)): Sinkhorn weights ``v_`` with ``D(v) T D(v) 1 = 1/M`` for
    ``t_ij = exp(−|x_i − x_j|² / (2ε(ρ_i + ρ_j)))`` (``ρ = 1``: ``exp(−|x_i − x_j|²/(4ε))``).
    Sample: ``p(x) = D(v) t(x) / vᵀt(x)`` (eq. 8), ``m(x) = X p(x)`` (eq. 10) and

    * ``noise="isotropic"``: ``X⁺ = m(X) + sqrt(2ε) K(X)^½ ξ`` (eq. 13), ``K = ρ I``;
    * ``noise="data_aware"``: ``X⁺ = m(X) + C(X)^½ ξ`` (eq. 16), ``C`` the p-weighted covariance
      (eq. 14), drawn as ``Σ_i sqrt(p_i)(x_i − m) η_i`` (same law, O(Md), no d×d root);
    * ``split_step=True`` (the paper's choice, eqs. 18/19): noise first, ``X_{n+½} = X_n + noise(X_n)``,
      then ``X_{n+1} = m(X_{n+½})``. ``output="noisy"`` records ``X_{n+½}`` (19a), which seed 000's
      histograms show; ``"projected"`` records ``X_{n+1}`` (19b), in the convex hull of the data
      (Lemma 3.1) but radially collapsed on a curved manifold;
    * ``dtau`` (Δτ < ε, eqs. 11/15): ``X⁺ = X + (Δτ/ε)(m(X) − X) + sqrt(2Δτ) K^½ ξ`` (isotropic) or
      ``+ sqrt(Δτ/ε) C^½ ξ`` (data-aware). With ``split_step`` the same noise comes first and the
      relaxation ``X + (Δτ/ε)(m(X) − X)`` second (our reading of Fig. 4, which uses Δτ with (18));
    * ``beta < 0``: variable bandwidth ``K(x) = ρ(x) I``, ``ρ = (π/Z)^β`` with π a Scott-bandwidth
      Gaussian KDE and ``Z`` its mean over the data (eqs. 20–22). Off the data ρ(x) is clipped to
      the training range of ρ, the boundedness Lemma 3.2 assumes.

    Chains (``genbench_plugins._chains``): ``chains`` parallel chains start at ``start``
    (``"data"``: distinct random training points; ``"mean"``; or a point), run ``steps`` steps, drop
    ``burn_in`` and keep every ``thin``-th state. Seed 000 §6.2's single long chain is
    ``chains=1, steps=50_000, burn_in=30_000, thin=20, start=[1, 0, …]`` (the paper says "every
    20th of the last 2,000", which gives 100 samples, not its 1,000; we read "last 20,000").

    Defaults ``chains=200, burn_in=200, thin=20, start="data"`` were chosen by measuring mixing
    (``tests/slow/test_bridge_papers.py``): the integrated autocorrelation time τ of the angle on
    the arc (M = 2,000, ε = 0.009) is 63 split steps, of the first coordinate 24 on ``gmm``
    (ε = 0.01) and 26 on gaussian_tridiag d = 3 (ε = 0.05); burn-in is ≥ 3τ, so the output no
    longer remembers its start, and ``memorization`` of the defaults is 1.03 (arc), 0.99 (gmm),
    0.93 (tridiag d = 3). With data-aware noise ``memorization`` is ≈ 1 from the first step
    (the noisy output is never a training point) — τ, not memorization, sets the burn-in.
    A chain cannot leave a training point whose weights collapse onto itself (ε small against
    the nearest-neighbour spacing, e.g. d = 9, M = 500, ε = 0.025: memorization 0.0004): no
    burn-in helps there, and ``memorization`` flags it.

    ``backend="auto"`` runs the chains with jax (``genbench_plugins._bridge_jax``, float32, one
    ``jit`` per configuration, a GPU when jax has one) when jax is installed — 2.3–4× faster than
    the numpy float64 path on our 2-core CPU (1,000 chains, d = 9, ms/step jax / numpy: M = 1k
    10.2 / 41.1, 2k 31.8 / 83.7, 5k 90 / 231, 10k 192 / 445; ``benchmarks/bench_bridge.py``) —
    and numpy otherwise.

    ``sinkhorn`` picks how eq. (6) is solved (``genbench.numerics.sinkhorn_large``): ``"auto"``
    keeps the dense M × M float64 kernel while it fits in 1 GiB (M ≤ 11,585: the numbers of every
    suite below that size are unchanged; with a GPU only below M = 4,000) and beyond that never
    forms it: jax streaming on a GPU (M = 120,000 in 2.5 s on an H200, v equal to ~1e-14), NUFFT
    for d ≤ 3 (M = 120,000 ``lorenz63_closure``, ε = 0.001, in 13–20 s and 150–450 MB on our
    2-core CPU), a k-d-tree sparse kernel where the
    kernel is local, else jax/numpy streaming. Every path's exact-kernel marginal error on 1,000
    rows is reported in ``diagnostics_``; the chains use the exact ``n × M`` weights either way.

    ``sample_conditional(z_star, n, rng=…)`` implements section 5: the conditioning coordinates
    are reset to ``z*`` before every step. Cost per step: one (data-aware split: two) ``n × M``
    kernel evaluations, plus ``n × M`` normals for data-aware noise.
    """

    name = "bridge"
    #: seed 000's scheme: the split step of eqs. (18)/(19) (either noise, eqs. 13 and 16; Δτ = ε or the
    #: smaller Δτ of eqs. 11/15)
    paper_method: ClassVar[dict] = {"split_step": True}

    noise: Literal["isotropic", "data_aware"] = "data_aware"
    split_step: bool = True
    dtau: float | None = param(None, gt=0)
    beta: float = param(0.0, le=0, note="seed 000, eq. 21")

    def check_params(self) -> None:
        super().check_params()
        if self.dtau is not None and self.dtau > self.eps:
            raise ValueError(f"dtau must lie in (0, eps={self.eps}], got {self.dtau!r}")
        if self.beta != 0 and self.sinkhorn in ("nufft", "sparse"):
            raise ValueError(f"sinkhorn={self.sinkhorn!r} needs a constant bandwidth (beta = 0), not {self.beta!r}")

    # --- fit ------------------------------------------------------------------------------

    def _fit_kernel(self, X: np.ndarray) -> tuple[str, int, float]:
        """Seed 000 eq. (6): Sinkhorn weights on the centred data, dense or without an M × M array."""
        self.Xc_ = X - self.mean_  # centred: accurate |a|² + |b|² − 2a·b
        method = self.sinkhorn
        if method == "auto":
            method = choose_method(self.Xc_, self.eps, variable=self.beta != 0)
        if method == "dense":
            res = self._fit_dense()
        else:  # seed 000 eq. (6) without an M × M array (genbench.numerics.sinkhorn_large)
            rho = None
            self.log_rho_ = None
            if self.beta != 0:
                self.h2_ = bandwidth(self.Xc_, "scott") ** 2
                log_pi = kde_log_density_blocks(self.Xc_, self.h2_)
                self.log_Z_ = float(logsumexp(log_pi) - np.log(len(log_pi)))
                self.log_rho_ = self.beta * (log_pi - self.log_Z_)  # eqs. (21)–(22)
                rho = np.exp(self.log_rho_)
            res = sinkhorn_gaussian(self.Xc_, self.eps, rho=rho, method=method, tol=self.tol)
        self.v_, self.log_v_ = res.v, res.log_v
        # ρ = 1: log v_j + log t_j(y) = y·x_j/(2ε) + (log v_j − |x_j|²/(4ε)) − |y|²/(4ε); the last
        # term is constant in j and cancels in p(y) (seed 001, Remark 2, eqs. (20)–(21)).
        self.W_ = self.Xc_.T / (2.0 * self.eps)
        self.bias_ = self.log_v_ - np.einsum("ij,ij->i", self.Xc_, self.Xc_) / (4.0 * self.eps)
        self.sinkhorn_iterations_, self.sinkhorn_method_ = res.iterations, method
        label = getattr(res, "method", method) if method != "dense" else "dense"
        return label, res.iterations, getattr(res, "check_error", res.error)

    def _chain_data(self) -> np.ndarray:
        return self.Xc_

    def _fit_dense(self):
        """Seed 000 eqs. (5)–(6) on the M × M kernel in memory (8 M² bytes)."""
        D = sq_distances(self.Xc_)
        if self.beta != 0:
            self.h2_ = bandwidth(self.Xc_, "scott") ** 2  # the shared Scott rule
            self.log_rho_, self.log_Z_ = variable_bandwidth(D, self.beta, self.h2_)
            rho = np.exp(self.log_rho_)
            log_T = gaussian_log_kernel(D, self.eps, rho, rho)  # seed 000, eqs. (5), (22)
        else:
            self.log_rho_ = None
            log_T = gaussian_log_kernel(D, self.eps)  # seed 000, eq. (5) with K = I
        return sinkhorn_symmetric(log_T, tol=self.tol, overwrite=True)

    # --- kernel pieces --------------------------------------------------------------------

    def _log_rho_at(self, D: np.ndarray) -> np.ndarray:
        """``log ρ(x) = β log(π(x)/Z)`` from squared distances to the data, clipped to the data's range."""
        lr = self.beta * (kde_log_density_sq(D, self.h2_) - self.log_Z_)
        return np.clip(lr, self.log_rho_.min(), self.log_rho_.max())

    def weights(self, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``p(y)`` for centred states ``Y`` (n, d), seed 000 eq. (8), and ``ρ(y)`` (or None)."""
        if self.log_rho_ is None:
            L = Y @ self.W_
            L += self.bias_
            return log_weights(L, out=L), None
        D = sq_distances(Y, self.Xc_)
        rho_y = np.exp(self._log_rho_at(D))
        gaussian_log_kernel(D, self.eps, rho_y, np.exp(self.log_rho_))  # eq. (7) with K = ρ I
        D += self.log_v_
        return log_weights(D, out=D), rho_y

    def _data_aware_noise(self, p: np.ndarray, m: np.ndarray, rng) -> np.ndarray:
        """``C(x)^½ ξ`` drawn as ``Σ_i sqrt(p_i)(x_i − m) η_i`` (seed 000 eq. 14; same Gaussian law)."""
        s = rng.standard_normal(p.shape)
        s *= np.sqrt(p)
        return s @ self.Xc_ - m * s.sum(axis=1, keepdims=True)

    def _noise(self, Y: np.ndarray, rng, p=None, rho=None) -> np.ndarray:
        """The noise term at ``Y`` (weights ``p``/``ρ`` at ``Y`` reused when given), scaled by Δτ."""
        dtau = self.eps if self.dtau is None else self.dtau
        if self.noise == "data_aware":
            if p is None:
                p, _ = self.weights(Y)
            return np.sqrt(dtau / self.eps) * self._data_aware_noise(p, p @ self.Xc_, rng)  # (15)/(16)
        xi = rng.standard_normal(Y.shape)
        if self.log_rho_ is not None:  # K(x)^½ = sqrt(ρ(x)), eq. (20)
            if rho is None:
                rho = np.exp(self._log_rho_at(sq_distances(Y, self.Xc_)))
            xi *= np.sqrt(rho)[:, None]
        return np.sqrt(2.0 * dtau) * xi  # (11)/(13)

    def _step(self, Y: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """One step from the centred state ``Y``; returns (next state, state to record)."""
        r = 1.0 if self.dtau is None else self.dtau / self.eps
        if self.split_step:  # seed 000, eqs. (18)/(19)
            half = Y + self._noise(Y, rng)  # (18a)/(19a)
            p, _ = self.weights(half)
            m = p @ self.Xc_
            nxt = m if self.dtau is None else half + r * (m - half)  # (18b)/(19b)
            return nxt, (half if self.output == "noisy" else nxt)
        p, rho = self.weights(Y)  # eqs. (11)/(13), (15)/(16): one kernel evaluation
        m = p @ self.Xc_
        nxt = (m if self.dtau is None else Y + r * (m - Y)) + self._noise(Y, rng, p=p, rho=rho)
        return nxt, nxt

    # --- sampling -------------------------------------------------------------------------

    def _jax_run(self, x0, plan, n, rng, cond=None, zc=None):
        from genbench_plugins._bridge_jax import bridge_step, run_chains_jax

        dtau = self.eps if self.dtau is None else self.dtau
        var_bw = self.log_rho_ is not None
        A = {"X": self.Xc_, "r": dtau / self.eps}
        A["c_noise"] = np.sqrt(dtau / self.eps) if self.noise == "data_aware" else np.sqrt(2.0 * dtau)
        if var_bw:
            lr = self.log_rho_
            A.update(log_v=self.log_v_, rho=np.exp(lr), h2=self.h2_, beta=self.beta, log_Z=self.log_Z_,
                     lr_lo=lr.min(), lr_hi=lr.max(), eps=self.eps)  # fmt: skip
        else:
            A.update(W=self.W_, bias=self.bias_)
        if cond is not None:
            mask, z = conditioning_arrays(zc, cond, self.X_.shape[1])
            A.update(cond_mask=mask, z=z)
        step = bridge_step(self.noise, bool(self.split_step), self.output, self.dtau is not None, var_bw,
                           cond is not None)  # fmt: skip
        return run_chains_jax(step, A, x0, plan, n, rng)


@genbench.hookimpl
def genbench_samplers():
    return [Bridge]
