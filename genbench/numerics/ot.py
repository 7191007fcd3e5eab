"""Entropic OT between a small and a large point set: Newton–CG on the semi-dual, blockwise.

The problem of seed 000 §6.2 (the ``sinkhorn`` metric): for points ``x`` (n) and ``y`` (m),
uniform weights ``a = 1/n``, ``b = 1/m`` and the Euclidean cost ``C_ij = |x_i − y_j|``,

    P* = argmin_P ⟨P, C⟩ − reg·h(P),   P 1 = a,  Pᵀ1 = b,   h(P) = −Σ P_ij log P_ij   (seed 000, §6.2, d_λ)

with ``P_ij = a_i b_j exp((f_i + g_j − C_ij)/reg)``. For given ``f`` the best ``g`` is the soft
c-transform ``g_j = −reg log Σ_i a_i exp((f_i − C_ij)/reg)`` (the column marginal is then exact),
which leaves the concave *semi-dual* in the n duals of the smaller set,

    F(f) = ⟨a, f⟩ + ⟨b, g(f)⟩,   ∇F = a − P1,   −reg ∇²F = M = diag(P1) − P diag(1/b) Pᵀ.

Sinkhorn–Knopp is the fixed point ``f ← f + reg (log a − log P1)`` — preconditioned gradient
ascent with ``diag(P1)`` (Peyré & Cuturi, *Computational Optimal Transport*, §4.2); at reg = 0.05
on the paper's 1,000 × 50,000, d = 9 problem it needs ~950 iterations for a fully converged plan.
Here Newton steps ``Δf = reg M⁻¹ ∇F`` are solved by conjugate gradients preconditioned with the
same ``diag(P1)`` (Hessian-free, as in Brauer, Clason, Lorenz & Wirth 2017, *A Sinkhorn–Newton
method for entropic optimal transport*: one ``M z`` costs one pass over the kernel, like one
Sinkhorn iteration). ``M`` is singular, ``M 1 = 0`` (the gauge ``f → f + c``): CG runs on the
mean-zero vectors (:func:`_pcg`). That projection is what keeps float32 Newton converging when the
two sets are far apart; without it a poor sampler's problem stalled at a marginal error ~1e-5 and
fell back to float64 (136-177 passes instead of 28-39). 4-6 Newton steps, 28-39 passes, on all
four problems of ``benchmarks/bench_ot.py`` (good and poor samplers alike). Measured there and not
taken: ε-scaling with warm starts (reg ×4, ×2, ×1: 40-52 passes and three kernel builds, 2.5-3×
slower; ×2, ×1: 33-48 passes, 1.3-1.5× slower), L-BFGS on the same semi-dual (42 gradient passes
to 1e-6 on the poor sampler; stalls above 1e-6 on ``sphere_x3``), plain Sinkhorn on the same
kernel (65 and 241 iterations).

The kernel is stabilised before it is exponentiated — the scalings absorbed into the kernel
(Schmitzer 2019, *Stabilized sparse scaling algorithms for entropy regularized transport
problems*; Peyré & Cuturi §4.4): ``K_ij = exp((c_j + r_i − C_ij)/reg)`` with ``c_j = min_i C_ij``
(every column holds a 1) and, where a row's largest entry would be below ``e^-7.5`` (a point of
``x`` far from every ``y``), a row shift ``r_i`` read from every k-th reference point (an upper
bound on ``min_j (C_ij − c_j)``, less 7.5 reg) so that each row's largest entry lies in
``e^±7.5``: no row or column underflows, for any reg and any distance, and K is built in one pass.
It is stored once, transposed (m × n, one contiguous slab per block of ≥ 512 reference points), in
float32 — a relative rounding of 6e-8 per entry, as if the cost moved by ``reg·6e-8`` — with
entries below 1e-25 raised to it (products stay normal floats: subnormals slow BLAS down 10-100×;
a float64 kernel's floor is 1e-250). The last pass bounds the plan's mass on floored entries: a plan
that needs them (mass pulled across more than ~58 reg beyond the stabilisation, e.g. a cluster of
reference points next to one far generated point, holding more than its mass) is not converged in
float32 and goes on in float64.
Threads split the blocks, BLAS runs on one thread each. Scalings that drift beyond ``e^±15`` are
folded into the kernel by rebuilding those rows from the distances. float32 products leave the
marginals noisy at ~1e-7 relative: below ``tol = 1e-7``, or when the iteration stalls above
``tol`` (a nearly one-to-one plan), the kernel is rebuilt in float64. When it would exceed
``max_kernel_mb`` the blocks are recomputed at every pass instead (slower, memory O(n·block)). The
last pass accumulates in float64: exact column marginals, the reported row-marginal error, and
``⟨P, C⟩`` against the float64 cost. On a CUDA device (torch) the same solver runs with one
float64 kernel on the GPU.

Time at 1,000 × 50,000 on 2 cores: ~0.15 s to build the kernel (distances and exp: FLOPs), ~10 ms
a pass (reading 200 MB of kernel: memory bandwidth), ~0.1 s for the float64 last pass — 0.55-0.7 s
in all, whether the sampler is good or poor.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.special import logsumexp

__all__ = ["OTResult", "entropic_ot", "entropic_self_ot"]

# Kernel entries are floored here (e^-57.6): α_i K_ij and K_ij β_j stay normal float32 numbers.
_K_FLOOR = 1e-25
# The floor of a float64 kernel (e^-575.6): the same margin to float64's smallest normal number.
_K_FLOOR64 = 1e-250
# The plan's mass on floored entries (an upper bound, from the last pass) may be at most this
# fraction of tol: beyond it the floor, not the cost, decided where mass went (float64 takes over).
_FLOOR_MASS = 1e-3
# Re-stabilise (fold the scalings into the kernel) when a scaling α_i/a_i leaves e^±_DRIFT.
_DRIFT = 15.0
# The longest Newton step, in units of reg (a factor e^_STEP on a scaling).
_STEP = 5.0
# Below this tolerance the kernel is stored in float64: float32 matrix-vector products leave the
# marginals noisy at ~5e-8 relative (1,000 × 50,000).
_FLOAT32_TOL = 1e-7
# Stop after this many Newton steps in a row that do not lower the marginal error (noise floor).
_STALL = 3


@dataclass(frozen=True)
class OTResult:
    """Solution of :func:`entropic_ot` for ``x`` (n points) against ``y`` (m points).

    ``cost`` is ``⟨P, C⟩`` (POT's ``sinkhorn2``), ``entropic`` is ``⟨P, C⟩ − reg·h(P)`` (seed 000's
    d_λ), ``marginal_error`` ``‖P1 − a‖₂/‖a‖₂`` of the marginal the semi-dual does not enforce
    exactly (checked in float64; the other one is exact), ``passes`` the passes over the kernel
    (each costs about one Sinkhorn iteration), ``newton_steps`` the Newton steps among them,
    ``floor_mass`` a bound on the plan's mass on floored kernel entries (``converged`` requires it
    ≤ 1e-3·tol).
    ``f`` (n) and ``g`` (m) are the dual potentials in units of distance.
    """

    cost: float
    entropic: float
    marginal_error: float
    converged: bool
    passes: int
    newton_steps: int
    f: np.ndarray
    g: np.ndarray
    device: str = "cpu"
    floor_mass: float = 0.0


def distances(x: np.ndarray, y: np.ndarray, x2: np.ndarray, y2: np.ndarray) -> np.ndarray:
    """``|y_j − x_i|`` as a (len(y), len(x)) float64 block, by one GEMM (``x``, ``y`` centred)."""
    C = y @ (-2.0 * x.T)
    C += y2[:, None]
    C += x2[None, :]
    np.maximum(C, 0.0, out=C)
    return np.sqrt(C, out=C)


class _NumpyKernel:
    """The transposed kernel ``Kᵀ`` (m × n) in blocks of reference points, on the CPU.

    Blocks have at least 512 rows: numpy releases the GIL in a matrix-vector product only above
    ~500 rows, so smaller blocks serialise the threads (a pass took 21 ms instead of 9-10 ms at
    1,000 × 50,000 on 2 cores with 262-row blocks).
    """

    device = "cpu"

    def __init__(self, x, y, reg, block, store, pool=None, threads=1, dtype=np.float32) -> None:
        self.dtype = dtype
        self.floor = _K_FLOOR if np.dtype(dtype).itemsize == 4 else _K_FLOOR64
        shift = y.mean(axis=0)
        x, y = x - shift, y - shift
        self.reg, self.n, self.m = reg, len(x), len(y)
        # |y_j − x_i|² = [y_j, |y_j|², 1]·[−2x_i, 1, |x_i|²]: one GEMM per block, no broadcast adds
        ones = np.ones((len(x), 1))
        self.xa = np.ascontiguousarray(np.hstack([-2.0 * x, ones, (x**2).sum(1)[:, None]]).T)
        self.ya = np.hstack([y, (y**2).sum(1)[:, None], np.ones((len(y), 1))])
        self.blocks = [slice(j, min(j + block, self.m)) for j in range(0, self.m, block)]
        self.pool, self.groups = pool, [self.blocks[k::threads] for k in range(threads)]
        self.colmin = np.empty(self.m)
        # Kᵀ when stored (None: rebuilt block by block in each pass); _TorchKernel keeps a torch tensor.
        self.K: Any = np.empty((self.m, self.n), dtype) if store else None
        # Row shifts from every k-th reference point (4 % of a pass): ``bound_i ≥ r_i``, the row's
        # true shift (its distance to the reference set beyond the columns' minima). Shifting by
        # ``bound − 7.5 reg`` leaves each row's largest entry within e^±7.5 as long as the bound is
        # within 15 reg of ``r_i`` (at most 8 reg on the problems of benchmarks/bench_ot.py), so far
        # rows are shifted in the same pass that builds K instead of a second build.
        sample = self.cost(slice(None, None, max(1, self.m // 2048)))
        sample -= sample.min(axis=1)[:, None]
        self.rowshift = np.maximum(sample.min(axis=0) - 0.5 * _DRIFT * reg, 0.0)
        shifted = bool(self.rowshift.any())

        def first(blocks):  # the column shift, each row's largest exponent (units of reg), and (stored) K
            rowmax = np.full(self.n, -np.inf, dtype)
            for sl in blocks:
                C = self.cost(sl)
                cmin = C.min(axis=1)
                self.colmin[sl] = cmin
                np.subtract(cmin[:, None], C, out=C)
                if shifted:
                    C += self.rowshift[None, :]
                E = self.K[sl] if self.K is not None else np.empty(C.shape, dtype)
                np.multiply(C, 1.0 / reg, out=E, casting="same_kind")
                np.maximum(rowmax, E.max(axis=0), out=rowmax)
                if self.K is not None:
                    self.exp(E)
            return rowmax

        rowmax = np.max(self.map(first, reduce=list), axis=0).astype(np.float64)
        if self.K is None:  # streamed: the exact row shifts cost nothing more
            self.restabilise(-reg * rowmax)
        elif np.abs(rowmax).max() > 0.5 * _DRIFT:  # rows whose largest entry is beyond e^±7.5: rebuild those
            self.restabilise(np.where(np.abs(rowmax) > 0.5 * _DRIFT, -reg * rowmax, 0.0))

    def map(self, fn, reduce=sum):
        """``reduce`` of ``fn(blocks)`` over the threads' groups of blocks (numpy releases the GIL)."""
        if self.pool is None:
            return reduce([fn(self.blocks)])
        return reduce(self.pool.map(fn, self.groups))

    def cost(self, sl: slice, rows=slice(None)) -> np.ndarray:
        """``C_ji = |y_j − x_i|`` for the block's reference points (and ``rows`` of x), float64."""
        C = self.ya[sl] @ self.xa[:, rows]
        np.maximum(C, 0.0, out=C)
        return np.sqrt(C, out=C)

    def restabilise(self, df: np.ndarray) -> None:
        """Fold ``df`` (distance units) into the row shift and rebuild the stored kernel's rows with
        ``df ≠ 0`` from the distances (exact: a floored entry is recomputed, never scaled up)."""
        self.rowshift = self.rowshift + df
        if self.K is None:
            return
        changed = np.flatnonzero(df)
        rows: slice | np.ndarray = slice(None) if 2 * len(changed) > self.n else changed

        def build(blocks):
            for sl in blocks:
                if isinstance(rows, slice):
                    self.make(sl, out=self.K[sl])
                elif len(rows):
                    self.K[sl][:, rows] = self.make(sl, rows=rows)

        self.map(build, reduce=list)

    def make(self, sl: slice, out: np.ndarray | None = None, rows=slice(None)) -> np.ndarray:
        """The block ``exp((c_j + r_i − C_ji)/reg)`` in the kernel's dtype, floored (into ``out``)."""
        C = self.cost(sl, rows)
        np.subtract(self.colmin[sl, None], C, out=C)
        C += self.rowshift[None, rows]
        out = np.empty(C.shape, self.dtype) if out is None else out
        np.multiply(C, 1.0 / self.reg, out=out, casting="same_kind")
        return self.exp(out)

    def exp(self, E: np.ndarray) -> np.ndarray:
        """``exp(E)`` in place, floored at ``self.floor`` and capped at e^80 (``E`` holds exponents;
        a row above e^7.5 is rebuilt with its own shift before it is used)."""
        np.clip(E, np.log(self.floor), 80.0, out=E)
        return np.exp(E, out=E)

    def block(self, sl: slice) -> np.ndarray:
        return self.K[sl] if self.K is not None else self.make(sl)

    def gradient(self, alpha: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
        """``r = K β`` with ``β = b / Kᵀα`` (the c-transform) and ``⟨b, log Kᵀα⟩``; caches ``s = Kᵀα``."""
        a32 = alpha.astype(self.dtype)
        self.s = np.empty(self.m)

        def work(blocks):
            r = np.zeros(self.n)
            for sl in blocks:
                Kb = self.block(sl)
                s = Kb @ a32
                self.s[sl] = s
                r += Kb.T @ (b[sl] / s).astype(self.dtype)
            return r

        r = self.map(work)
        return r, float(b @ np.log(self.s))

    def hessian_part(self, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``K diag(b/s²) Kᵀ w``: the part of ``M z`` (with ``w = α z``) that needs the kernel."""
        w32 = w.astype(self.dtype)

        def work(blocks):
            out = np.zeros(self.n)
            for sl in blocks:
                Kb = self.block(sl)
                out += Kb.T @ (b[sl] * (Kb @ w32) / self.s[sl] ** 2).astype(self.dtype)
            return out

        return self.map(work)

    def final(self, alpha: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Float64 pass: ``s = Kᵀα``, ``r = K β``, ``⟨P, C⟩`` against the float64 cost, and a bound
        on the plan's mass on floored entries, ``Σ α_i min(K_ij, 2·floor) β_j``."""
        s = np.empty(self.m)
        a_low, cap = alpha.astype(self.dtype), self.dtype(2.0 * self.floor)

        def work(blocks):
            r, cost, floored = np.zeros(self.n), 0.0, 0.0
            for sl in blocks:
                Kb = self.block(sl)
                K64 = Kb if Kb.dtype == np.float64 else Kb.astype(np.float64)
                s[sl] = K64 @ alpha
                beta = b[sl] / s[sl]
                r += K64.T @ beta
                C = self.cost(sl)
                C *= Kb
                cost += beta @ (C @ alpha)
                floored += beta @ (np.minimum(Kb, cap) @ a_low)
            return np.append(r, [cost, floored])

        out = self.map(work)
        return out[:-2], s, float(out[-2]), float(out[-1])


class _TorchKernel(_NumpyKernel):
    """The same kernel as one float64 tensor on a torch device (a GPU: no blocks needed)."""

    def __init__(self, x, y, reg: float, device) -> None:
        import torch

        self.torch, self.dev, self.device = torch, device, str(device)
        shift = y.mean(axis=0)
        self.xt = torch.as_tensor(x - shift, device=device)
        self.yt = torch.as_tensor(y - shift, device=device)
        self.reg, self.n, self.m = reg, len(x), len(y)
        C = torch.cdist(self.yt, self.xt)  # (m, n)
        cmin = C.min(dim=1).values
        C = C - cmin[:, None]
        rowshift = C.min(dim=0).values
        self.colmin, self.rowshift = cmin.cpu().numpy(), rowshift.cpu().numpy()
        C -= rowshift[None, :]
        self.K = torch.exp(C.mul_(-1.0 / reg).clamp_(min=float(np.log(_K_FLOOR64))))

    def restabilise(self, df: np.ndarray) -> None:
        self.rowshift = self.rowshift + df
        self.K *= self.torch.exp(self.torch.as_tensor(df / self.reg, device=self.dev))[None, :]

    def gradient(self, alpha, b):
        t = self.torch
        self.bt = t.as_tensor(b, device=self.dev)
        self.s = self.K @ t.as_tensor(alpha, device=self.dev)
        return (self.K.T @ (self.bt / self.s)).cpu().numpy(), float(self.bt @ t.log(self.s))

    def hessian_part(self, w, b):
        Kw = self.K @ self.torch.as_tensor(w, device=self.dev)
        return (self.K.T @ (self.bt * Kw / self.s**2)).cpu().numpy()

    def final(self, alpha, b):
        t = self.torch
        al = t.as_tensor(alpha, device=self.dev)
        s = self.K @ al
        beta = self.bt / s
        r = self.K.T @ beta
        cost = (beta * ((self.K * t.cdist(self.yt, self.xt)) @ al)).sum()
        return r.cpu().numpy(), s.cpu().numpy(), float(cost), 0.0  # float64, floor e^-575: no floored mass


def _pcg(apply, rhs, precond, rtol: float, maxiter: int) -> tuple[np.ndarray, int]:
    """Preconditioned conjugate gradients for ``apply(z) = rhs`` from 0, on the mean-zero vectors.

    The semi-dual's Hessian is singular: ``M 1 = 0`` (``f → f + c`` changes no plan). ``rhs``
    and ``apply``'s values are taken with their mean removed, and so is every preconditioned
    residual: CG then runs on the complement of the null space, where ``M`` is positive definite
    (Kaasschieter 1988, preconditioned CG for singular consistent systems). Without this the
    float32 rounding of ``P1`` gives the gradient a component along ``1`` (1 % of its norm at a
    marginal error of 1e-5 on a poor sampler's problem) that no Newton step can remove: CG met
    spurious negative curvature and the iteration stalled at ~1e-5, where float32 products are
    accurate to 1e-7.
    """
    z = np.zeros_like(rhs)
    res = rhs - rhs.mean()
    p = precond * res
    p -= p.mean()
    rho = res @ p
    stop = rtol * np.linalg.norm(rhs)
    for k in range(1, maxiter + 1):
        q = apply(p)
        curv = p @ q
        if not curv > 0:
            return z, k
        z += (rho / curv) * p
        res -= (rho / curv) * q
        if np.linalg.norm(res) <= stop:
            return z, k
        pr = precond * res
        pr -= pr.mean()
        rho, rho_old = res @ pr, rho
        p = pr + (rho / rho_old) * p
    return z, maxiter


def _solve(kernel, a, b, reg: float, tol: float, max_passes: int, f0: np.ndarray | None = None) -> OTResult:
    """Newton–CG on the semi-dual in ``φ = log α``, ``α_i = a_i exp((f_i − r_i)/reg)``, from ``f0``."""
    norm_a = np.linalg.norm(a)
    phi = np.log(a) if f0 is None else np.log(a) + (f0 - kernel.rowshift) / reg
    passes = steps = 0

    def evaluate(phi):
        nonlocal passes
        passes += 1
        alpha = np.exp(phi)
        r, b_log_s = kernel.gradient(alpha, b)
        return alpha, alpha * r, reg * (a @ phi - b_log_s)  # F(f) up to a constant

    alpha, P1, F = evaluate(phi)
    for _ in range(2 if f0 is None else 0):  # two Sinkhorn steps: a cheap start for Newton
        phi = phi + np.log(a) - np.log(P1)
        alpha, P1, F = evaluate(phi)
    err = np.linalg.norm(a - P1) / norm_a
    best, stalled = (err, phi), 0
    while err > tol and passes < max_passes and np.isfinite(err) and stalled < _STALL:
        steps += 1
        grad = a - P1

        def apply(z, alpha=alpha, P1=P1):
            nonlocal passes
            passes += 1
            scale = max(np.max(np.abs(z)), 1e-300)  # α z/scale stays a normal float32 number
            q = P1 * z - (alpha * scale) * kernel.hessian_part(alpha * (z / scale), b)
            return q - q.mean()

        eta = min(0.1, np.sqrt(err))
        d, _ = _pcg(apply, grad, 1.0 / P1, eta, max(1, min(200, max_passes - passes - 1)))
        d -= d @ a  # the gauge f → f + const changes nothing
        slope, t = reg * (grad @ d), min(1.0, _STEP / max(np.max(np.abs(d)), 1e-300))
        for _ in range(10):  # Armijo on F, or a smaller marginal error
            new = evaluate(phi + t * d)
            new_err = np.linalg.norm(a - new[1]) / norm_a
            if new[2] >= F + 1e-4 * t * slope or new_err < err:
                break
            t *= 0.5
        phi, (alpha, P1, F), err = phi + t * d, new, new_err
        stalled = 0 if err < best[0] else stalled + 1
        best = min(best, (err, phi), key=lambda e: e[0])
        drift = phi - np.log(a)
        if np.max(np.abs(drift)) > _DRIFT:  # fold the rows' scalings beyond e^±7.5 into the kernel
            df = np.where(np.abs(drift) > 0.5 * _DRIFT, reg * drift, 0.0)
            kernel.restabilise(df)
            phi = phi - df / reg
            alpha, P1, F = evaluate(phi)
            err = np.linalg.norm(a - P1) / norm_a
            best = (err, phi)
    if best[0] < err:  # stalled at the noise floor: go back to the best point
        phi, alpha = best[1], np.exp(best[1])
    r, s, cost, floor_mass = kernel.final(alpha, b)
    passes += 1
    P1, beta = alpha * r, b / s
    final_err = float(np.linalg.norm(a - P1) / norm_a)
    f = kernel.rowshift + reg * (phi - np.log(a))
    g = kernel.colmin + reg * (np.log(beta) - np.log(b))
    # ⟨P,C⟩ − reg h(P) = Σ P_ij (C_ij + reg log P_ij), with C_ij + reg log P_ij = f_i + g_j + reg log(a_i b_j)
    entropic = float(P1 @ (f + reg * np.log(a)) + b @ (g + reg * np.log(b)))
    ok = bool(np.isfinite(cost) and np.isfinite(final_err) and final_err <= tol and floor_mass <= _FLOOR_MASS * tol)
    return OTResult(cost, entropic, final_err, ok, passes, steps, f, g, kernel.device, floor_mass)


def entropic_ot(
    x: np.ndarray,
    y: np.ndarray,
    reg: float,
    *,
    tol: float = 1e-6,
    max_passes: int = 10_000,
    block: int | None = None,
    max_kernel_mb: float = 512.0,
    device: str = "cpu",
    threads: int | None = None,
) -> OTResult:
    """Entropic OT between ``x`` and ``y`` (uniform weights, Euclidean cost), see the module.

    The semi-dual runs over the smaller set (results are symmetric: ``f`` always belongs to
    ``x``). ``device``: ``"cpu"`` or a torch device string such as ``"cuda"``.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) > len(y):  # the Newton variable is the smaller set; transposing changes no value
        res = entropic_ot(y, x, reg, tol=tol, max_passes=max_passes, block=block, max_kernel_mb=max_kernel_mb,
                          device=device, threads=threads)  # fmt: skip
        return replace(res, f=res.g, g=res.f)
    n, m = len(x), len(y)
    a, b = np.full(n, 1.0 / n), np.full(m, 1.0 / m)
    if device != "cpu":
        import torch

        return _solve(_TorchKernel(x, y, reg, torch.device(device)), a, b, reg, tol, max_passes)
    from threadpoolctl import threadpool_info, threadpool_limits

    if threads is None:  # as many as BLAS may use here (the runner sets cores // jobs per cell)
        threads = max([1] + [int(i.get("num_threads", 1)) for i in threadpool_info() if i.get("user_api") == "blas"])
    block = block or max(512, (1 << 19) // max(n, 1))  # ≥ 512 rows: see _NumpyKernel
    dtype = np.float32 if tol >= _FLOAT32_TOL else np.float64
    store = np.dtype(dtype).itemsize * n * m <= max_kernel_mb * 2**20
    # BLAS on one thread: our threads split the blocks (OpenBLAS's own threads on these thin
    # matrix-vector products took 0.77 s a pass instead of 0.03 s on a busy 2-core machine).
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
        kernel = _NumpyKernel(x, y, reg, block, store, pool if threads > 1 else None, threads, dtype)
        res = _solve(kernel, a, b, reg, tol, max_passes)
        if res.converged or dtype == np.float64 or res.passes >= max_passes:
            return res
        # stalled at float32's noise floor (a nearly one-to-one plan, e.g. x against itself), or the
        # plan needs entries below float32's floor: go on in float64
        del kernel
        store = 8.0 * n * m <= max_kernel_mb * 2**20
        kernel = _NumpyKernel(x, y, reg, block, store, pool if threads > 1 else None, threads, np.float64)
        more = _solve(kernel, a, b, reg, tol, max_passes - res.passes, f0=res.f)
        return replace(more, passes=res.passes + more.passes, newton_steps=res.newton_steps + more.newton_steps)


def entropic_self_ot(x: np.ndarray, reg: float, *, tol: float = 1e-9, max_iter: int = 1000, block: int = 512) -> float:
    """``⟨P, C⟩ − reg·h(P)`` of ``x`` against itself, streamed (memory O(block·len(x))).

    The symmetric potential solves ``f = T(f)``, ``T(f)_j = −reg log Σ_i a_i exp((f_i − C_ij)/reg)``;
    the averaged iteration ``f ← ½(f + T(f))`` (Feydy et al. 2019, the debiasing terms of the
    Sinkhorn divergence) converges in a few dozen steps. The value is then ``2⟨a, f⟩ − 2 reg log n``
    (``P_ij = a_i a_j exp((f_i + f_j − C_ij)/reg)``, both marginals ``a``).
    """
    x = np.asarray(x, np.float64)
    x = x - x.mean(axis=0)
    n = len(x)
    x2 = (x**2).sum(1)
    loga = -np.log(n)

    def transform(f):
        out = np.empty(n)
        for j in range(0, n, block):
            sl = slice(j, min(j + block, n))
            A = distances(x, x[sl], x2, x2[sl])
            np.subtract((f + reg * loga)[None, :], A, out=A)
            out[sl] = -reg * logsumexp(A / reg, axis=1)
        return out

    f = np.zeros(n)
    for _ in range(max_iter):
        new = 0.5 * (f + transform(f))
        done = np.max(np.abs(new - f)) <= tol * reg
        f = new
        if done:
            break
    return float(2.0 * f.mean() + 2.0 * reg * loga)
