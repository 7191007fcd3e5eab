"""Localized Schrödinger-bridge sampler (seed 001: Gottwald & Reich, "Localized Schrödinger
bridge sampler"): one low-dimensional bridge per coordinate, on its neighbourhood Λ(α)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from genbench_plugins._chains import ChainSampler, conditioning_arrays

import genbench
from genbench.numerics.sinkhorn import gaussian_log_kernel, sinkhorn_symmetric, sq_distances
from genbench.numerics.sinkhorn_large import DENSE_BYTES, sinkhorn_gaussian
from genbench.params import param

#: Largest number of float64 entries one batched kernel block may hold (64 MiB).
_BLOCK = 1 << 23


def neighbourhoods_window(d: int, radius: int) -> list[list[int]]:
    """Periodic windows ``Λ(α) = {α − r, …, α + r} mod d`` (seed 001 §3.1; ``d_α = 2r + 1``),
    clipped to ``{0, …, d−1}`` when ``2r + 1 > d`` (no coordinate twice)."""
    return [sorted({(a + k) % d for k in range(-radius, radius + 1)}) for a in range(d)]


def neighbourhoods_eq57(d: int, s: int = 1) -> list[list[int]]:
    """Seed 001 eq. (57), for a path of K + 1 states of size s (d = (K+1)s, 0-based): the first
    state's coordinates see that state only, ``Λ(α) = {0, …, s−1}``; a coordinate of state
    l + 1 sees states l and l + 1, ``Λ(α) = {sl, …, s(l+2) − 1}``. Not periodic: with s = 1,
    ``Λ(0) = {0}`` and ``Λ(α) = {α − 1, α}`` (the bistable paths of §4)."""
    if s < 1 or d % s:
        raise ValueError(f"eq. (57) neighbourhoods need d = {d} to be a multiple of the state size s = {s}")
    return [list(range(s * max(a // s - 1, 0), s * (a // s + 1))) for a in range(d)]


def neighbourhoods_closure(d: int) -> list[list[int]]:
    """Seed 001 §5.1 for x = (z_0…z_{K−1}, ψ_0…ψ_{K−1}), d = 2K: z_α and ψ_α both see
    ``Λ(α) = {z_{α−1}, z_α, z_{α+1}, ψ_{α−1}, ψ_α, ψ_{α+1}}``, periodic in k (the printed set lists
    α twice: a slip for this reading, d_α = 6)."""
    if d % 2 or d < 6:
        raise ValueError(f"closure neighbourhoods need d = 2K with K ≥ 3, got d = {d}")
    K = d // 2
    hood = [sorted({(a + k) % K for k in (-1, 0, 1)} | {K + (a + k) % K for k in (-1, 0, 1)}) for a in range(K)]
    return hood + hood


_PRESETS = {"eq57": neighbourhoods_eq57, "closure": neighbourhoods_closure}


class LocalizedBridge(ChainSampler):
    """Localized split-step bridge sampler, seed 001 eqs. (14), (36)–(42).

    For each coordinate α: restricted data ``X_[α]`` (coordinates ``Λ(α)``), its own kernel
    ``(T_α)_jk = exp(−|x_[α]^j − x_[α]^k|²/(4ε))`` (eq. 36) and Sinkhorn weights ``v_α``
    (``v_`` has shape ``(d, M)``), out-of-sample weights ``w_α(x_[α])`` (eqs. 37–38) and the
    α-th component ``m_α = X_α w_α(x_[α])`` (eq. 40). One step (eqs. 14a, 42):
    ``X_{n+½} = X_n + sqrt(2ε) ξ``, then ``X_{n+1,α} = m_α(X_{n+½,[α]})`` for every α at once.

    ``neighbourhoods``: an explicit list of index lists (``Λ(α)`` for α = 0…d−1); ``"eq57"``,
    the non-periodic ``Λ(α) = {α − 1, α}`` of eq. (57) for paths (§4, :func:`neighbourhoods_eq57`
    with s = 1); else the periodic window of ``radius`` (eq. 33: r = 1, d_α = 3; §3.1.1: r = 2,
    d_α = 5), which on a path wraps its last state onto its first; ``"closure"``, seed 001 §5.1's
    sets for the Lorenz-96 closure pairs (:func:`neighbourhoods_closure`).
    ``output="projected"`` (default) records ``X_{n+1}`` as seed 001's scheme (14)/(42) does;
    ``"noisy"`` records ``X_{n+½}``. ``scale``: ``"none"``; ``"std"`` divides every coordinate by
    its standard deviation; a list of d block labels divides each block by its pooled std
    (seed 001 §5.1 scales z by σ_z and ψ by σ_ψ). The sampler then runs in the scaled
    coordinates (kernel and noise alike: ``K = diag(σ²)`` in seed 000 eq. (4)). A departure:
    seed 001 §5.1 scales only the inner products of (36)/(38) and keeps the noise unscaled.
    ``sample_conditional(z_star, n, rng=…)`` is seed 001 §5's conditional sampler (the Lorenz-96
    closure): the z-coordinates are reset to ``z*`` at every step, in the scaled coordinates; the
    chain layout is the sampler's (seed 001 §5 runs ``n_c = 100`` decorrelation steps per closure
    time step).

    ``sinkhorn``: how each α's Sinkhorn problem is solved. ``"auto"`` keeps the batched dense
    kernels while one M × M float64 kernel fits in 1 GiB (M ≤ 11,585) and otherwise solves each α
    on its own d_α coordinates without an M × M array (``genbench.numerics.sinkhorn_large``:
    NUFFT for d_α ≤ 3, else jax streaming, on a GPU when jax has one).

    Vectorised over chains and over α: the ``(d, n, M)`` kernel is evaluated in blocks of
    coordinates holding at most 2²³ entries (numpy) or at once (jax); all α share one padded
    index array. Fit: one batched Sinkhorn over a block of α (``v_`` is ``(d, M)``).

    Chains as in ``bridge``. Measured on gaussian_tridiag (M = 500, ε = 0.025, r = 2): from
    training-point starts ``memorization`` is 0.27 after 1 step, 0.78 after 10 and flat after
    30 (d = 9; d = 101: 0.17, 0.63, 0.87); τ of a coordinate is 29 steps at d = 9 and d = 101,
    so the defaults ``chains=200, burn_in=200, thin=20`` apply here too. The default output is
    the projected state, as seed 001 records it; it gives Σ_i,i+1/Σ_ii = 0.28 (d = 9) and
    0.27 (d = 101) against the exact 0.268, the noisy output 0.24 and 0.23.

    ``backend="auto"`` runs the chains with jax as ``bridge`` does: at d = 101, M = 500, 100
    chains, 10.7 ms/step against 66 ms/step for numpy (2-core CPU, ``benchmarks/bench_bridge.py``).
    """

    name = "localized_bridge"
    #: seed 001's scheme (14)/(42): the projected step is the recorded state
    paper_method: ClassVar[dict] = {"output": "projected"}

    eps: float = 0.025  # the family's range (positive) still holds
    radius: int = param(2, ge=0)
    neighbourhoods: Literal["eq57", "closure"] | list[list[int]] | None = None
    output: Literal["noisy", "projected"] = "projected"
    scale: Literal["none", "std"] | list[int] = "none"

    # --- fit ------------------------------------------------------------------------------

    def _index(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Padded ``(d, d_max)`` neighbourhood indices and their mask."""
        if self.neighbourhoods is None:
            hoods = neighbourhoods_window(d, self.radius)
        elif isinstance(self.neighbourhoods, str):  # a preset (the annotation's choices)
            hoods = _PRESETS[self.neighbourhoods](d)
        else:
            hoods = self.neighbourhoods
        if len(hoods) != d:
            raise ValueError(f"neighbourhoods lists {len(hoods)} sets for {d} coordinates")
        hoods = [sorted(set(int(i) for i in h)) for h in hoods]
        for a, h in enumerate(hoods):
            if not h or min(h) < 0 or max(h) >= d:
                raise ValueError(f"neighbourhood {a} = {h} must be non-empty indices in 0..{d - 1}")
        width = max(len(h) for h in hoods)
        idx = np.zeros((d, width), dtype=np.intp)
        mask = np.zeros((d, width))
        for a, h in enumerate(hoods):
            idx[a, : len(h)] = h
            mask[a, : len(h)] = 1.0
        return idx, mask

    def _scales(self, X: np.ndarray) -> np.ndarray:
        d = X.shape[1]
        if isinstance(self.scale, str):
            if self.scale == "none":
                return np.ones(d)
            sd = X.std(axis=0)
        else:
            labels = np.asarray(self.scale)
            if labels.shape != (d,):
                raise ValueError(f"scale lists {labels.size} block labels for {d} coordinates")
            sd = np.empty(d)
            for lab in np.unique(labels):
                sd[labels == lab] = np.sqrt(np.mean(X[:, labels == lab].var(axis=0)))
        return np.where(sd > 0, sd, 1.0)

    def _local(self, Y: np.ndarray, alphas: slice) -> np.ndarray:
        """Restricted states ``Y_[α]`` for a block of α, zero-padded: shape ``(B, n, d_max)``."""
        return np.transpose(Y[:, self.idx_[alphas]], (1, 0, 2)) * self.mask_[alphas][:, None, :]

    def _blocks(self, n: int):
        d = self.idx_.shape[0]
        size = max(1, _BLOCK // max(1, n * len(self.Xs_)))
        return [slice(a, min(a + size, d)) for a in range(0, d, size)]

    def _fit_kernel(self, X: np.ndarray) -> tuple[str, int, float]:
        """One Sinkhorn problem per coordinate α on its neighbourhood (seed 001, eq. 36)."""
        M, d = X.shape
        self.scale_ = self._scales(X)
        self.Xs_ = (X - self.mean_) / self.scale_  # centred, scaled coordinates
        self.idx_, self.mask_ = self._index(d)
        self.v_ = np.empty((d, M))
        self.log_v_ = np.empty((d, M))
        self.sinkhorn_iterations_ = 0
        if self.sinkhorn == "dense" or (self.sinkhorn == "auto" and 8 * M * M <= DENSE_BYTES):
            methods = {"dense"}
            for blk in self._blocks(M):  # one Sinkhorn per α, a block of α at a time (seed 001, eq. 36)
                loc = self._local(self.Xs_, blk)
                log_T = gaussian_log_kernel(sq_distances(loc), self.eps)
                res = sinkhorn_symmetric(log_T, tol=self.tol, overwrite=True)
                self.v_[blk], self.log_v_[blk] = res.v, res.log_v
                self.sinkhorn_iterations_ = max(self.sinkhorn_iterations_, res.iterations)
            check = 0.0
        else:  # no M × M array: one large-M Sinkhorn per α on its d_α coordinates
            methods, check = set(), 0.0
            for a in range(d):
                local = self.Xs_[:, self.idx_[a, self.mask_[a] > 0]]
                res = sinkhorn_gaussian(local, self.eps, method=self.sinkhorn, tol=self.tol, seed=a)
                self.v_[a], self.log_v_[a] = res.v, res.log_v
                self.sinkhorn_iterations_ = max(self.sinkhorn_iterations_, res.iterations)
                methods.add(res.method)
                check = max(check, res.check_error)
        self.sinkhorn_method_ = ",".join(sorted(methods))
        # Out-of-sample logits as a dot product (seed 001, Remark 2): log v_j + log t_j(y) =
        # y·x_j/(2ε) + (log v_j − |x_j|²/(4ε)) − |y|²/(4ε); the last term is the same for every j
        # and cancels in the softmax. W_ (d, d_max, M) and bias_ (d, M) serve numpy and jax alike.
        loc = self._local(self.Xs_, slice(None))  # (d, M, d_max), zero-padded
        self.W_ = np.transpose(loc, (0, 2, 1)) / (2.0 * self.eps)
        self.bias_ = self.log_v_ - np.einsum("dmk,dmk->dm", loc, loc) / (4.0 * self.eps)
        return self.sinkhorn_method_, self.sinkhorn_iterations_, check

    def _chain_data(self) -> np.ndarray:
        return self.Xs_

    def _to_chain(self, x: np.ndarray, cols: Any = slice(None)) -> np.ndarray:
        """Centred and scaled, as the kernel sees the data."""
        return (x - self.mean_[cols]) / self.scale_[cols]

    def _from_chain(self, y: np.ndarray) -> np.ndarray:
        return y * self.scale_ + self.mean_

    # --- sampling -------------------------------------------------------------------------

    def m_loc(self, Y: np.ndarray) -> np.ndarray:
        """``m_α(y_[α]) = X_α w_α(y_[α])`` for all α (seed 001, eqs. 37–40), scaled coordinates."""
        out = np.empty_like(Y)
        for blk in self._blocks(len(Y)):
            logits = self._local(Y, blk) @ self.W_[blk]  # log v_α + log t_α (eq. 37) up to a row constant
            logits += self.bias_[blk][:, None, :]
            logits -= logits.max(axis=-1, keepdims=True)
            np.exp(logits, out=logits)
            values = self.Xs_[:, blk].T  # X_α, eq. (41): (B, M)
            num = np.einsum("bnm,bm->bn", logits, values)
            out[:, blk] = (num / logits.sum(axis=-1)).T
        return out

    def _step(self, Y, rng):
        half = Y + np.sqrt(2.0 * self.eps) * rng.standard_normal(Y.shape)  # eq. (14a)
        nxt = self.m_loc(half)  # eq. (42)
        return nxt, (half if self.output == "noisy" else nxt)

    def _jax_run(self, x0, plan, n, rng, cond=None, zc=None):
        from genbench_plugins._bridge_jax import localized_step, run_chains_jax

        A = {
            "idx": self.idx_,
            "mask": self.mask_,
            "W": self.W_,
            "bias": self.bias_,
            "V": self.Xs_.T,
            "c_noise": np.sqrt(2.0 * self.eps),
        }
        if cond is not None:
            mask, z = conditioning_arrays(zc, cond, self.X_.shape[1])
            A.update(cond_mask=mask, z=z)
        return run_chains_jax(localized_step(self.output, cond is not None), A, x0, plan, n, rng)


@genbench.hookimpl
def genbench_samplers():
    return [LocalizedBridge]
