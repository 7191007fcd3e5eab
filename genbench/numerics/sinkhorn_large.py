"""Symmetric Sinkhorn for the Gaussian kernel at large M, without an M × M array.

Seed 000 (Gottwald, Li, Marzouk, Reich) eqs. (5)–(6) and (20)–(22): find ``v > 0`` with
``M v∘(T v) = 1`` for ``T_ij = exp(−|x_i − x_j|² / (2ε(ρ_i + ρ_j)))`` (``ρ = 1``:
``exp(−|x_i − x_j|²/(4ε))``). The iteration is :func:`genbench.numerics.sinkhorn.damped_iteration`
(the same damped fixed point as the dense solver); only the product ``T v`` changes:

* ``"dense"``: the M × M kernel in memory (:func:`genbench.numerics.sinkhorn.sinkhorn_symmetric`),
  8 M² bytes — 115 GB at M = 120,000, the reference the other paths are checked against.
* ``"nufft"`` (ρ = 1, d ≤ 3): ``T v`` is a periodic Gaussian convolution, applied exactly in
  Fourier space: type-1 NUFFT of ``v`` onto the modes, multiplication by the kernel's Fourier
  transform ``(4πε)^{d/2} exp(−ε|k|²)``, type-2 NUFFT back to the points (FINUFFT, tolerance
  1e-14). The box is padded so that periodic images contribute below ``kernel_tol`` and the modes
  are cut where the transform is below ``kernel_tol``: O(M + G log G) per product with G the modes
  (246 × 68 for the Lorenz-63 closure at ε = 0.001), independent of how local the kernel is.
* ``"sparse"`` (ρ = 1): neighbours within ``r = sqrt(4ε ln(1/kernel_tol))`` from a k-d tree
  (``scipy.spatial.cKDTree.query_pairs``), a symmetric CSR matrix; entries dropped are below
  ``kernel_tol``. Pays where the kernel is local (few neighbours per point); refused when the
  estimated nonzeros exceed the memory budget.
* ``"stream"``: row blocks of the exact kernel recomputed every iteration in float64 with numpy,
  each block pair ``(I, J ≥ I)`` once (the kernel is symmetric), over threads. O(M² d) per
  product, memory O(M · block).
* ``"jax"``: the same blockwise product jitted with jax in float64, on a GPU when jax has one
  (and on the CPU otherwise).

Every path reports the **exact** marginal error ``max_i |M v_i (T v)_i − 1|`` with the true
kernel on ``check_rows`` rows (all rows when M is small): the truncation/interpolation error
of ``nufft`` and ``sparse`` is measured, not assumed.
"""

from __future__ import annotations

import functools
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .sinkhorn import (
    SinkhornError,
    damped_iteration,
    gaussian_log_kernel,
    sinkhorn_symmetric,
    sq_distances,
)

__all__ = [
    "DENSE_BYTES",
    "METHODS",
    "GaussianSinkhorn",
    "choose_method",
    "exact_marginal_error",
    "kde_log_density_blocks",
    "sinkhorn_gaussian",
]

METHODS = ("auto", "dense", "nufft", "sparse", "stream", "jax")
#: ``"auto"`` keeps the dense kernel while 8 M² bytes fit in this budget (M ≤ 11,585).
DENSE_BYTES = 1 << 30
#: From this M on, ``"auto"`` fits on a GPU (jax) when there is one, even where dense fits in memory.
_GPU_FROM = 4000
#: Largest NUFFT grid (modes) ``"auto"`` accepts.
_MAX_MODES = 1 << 24
#: Float64 entries of one streamed block (32 MiB).
_BLOCK_ENTRIES = 1 << 22


@dataclass(frozen=True)
class GaussianSinkhorn:
    """Result of :func:`sinkhorn_gaussian`: the scaling and how it was obtained."""

    v: np.ndarray
    log_v: np.ndarray
    iterations: int
    error: float  # marginal error of the operator the iteration used
    method: str  # "dense", "nufft", "sparse", "stream" or "jax:<device>"
    converged: bool
    check_error: float  # exact-kernel marginal error on the checked rows
    checked_rows: int
    seconds: float


def _threads() -> int:
    """Threads for a cell: ``OMP_NUM_THREADS`` (the runner sets it to the cell's cores), else the CPUs."""
    env = int(os.environ.get("OMP_NUM_THREADS") or 0)
    if env:
        return env
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _jax_on_gpu() -> bool:
    if not _has("jax"):
        return False
    try:
        import jax

        return jax.default_backend() == "gpu"
    except Exception:  # jax present but unable to start: not a GPU we can use
        return False


# --- NUFFT ------------------------------------------------------------------------------------


def _nufft_grid(X: np.ndarray, eps: float, kernel_tol: float):
    """Box lengths, centre and mode counts for the periodic Gaussian convolution."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    log_tol = math.log(1.0 / kernel_tol)
    pad = math.sqrt(4.0 * eps * log_tol)  # images at distance ≥ pad weigh ≤ kernel_tol
    L = (hi - lo) + pad
    L = np.where(L > 0, L, pad)
    # |k| = 2π n / L with exp(−ε k²) ≤ kernel_tol beyond n = L sqrt(ln(1/tol)/ε) / 2π
    modes = [2 * math.ceil(float(Lk) * math.sqrt(log_tol / eps) / (2 * math.pi)) + 2 for Lk in L]
    return L, (hi + lo) / 2.0, modes


def nufft_modes(X: np.ndarray, eps: float, kernel_tol: float = 1e-16) -> int:
    """Number of Fourier modes the ``"nufft"`` path needs for ``X`` at bandwidth ``eps``."""
    return math.prod(_nufft_grid(X, eps, kernel_tol)[2])


def _nufft_operator(X: np.ndarray, eps: float, kernel_tol: float, threads: int):
    import finufft

    d = X.shape[1]
    if d > 3:
        raise ValueError(f"the nufft path needs d ≤ 3, got d = {d}")
    L, centre, modes = _nufft_grid(X, eps, kernel_tol)
    theta = [np.ascontiguousarray(2.0 * np.pi * (X[:, k] - centre[k]) / L[k]) for k in range(d)]
    mult = np.ones(modes)
    for k in range(d):  # Fourier transform of exp(−x²/(4ε)) on the box, one factor per axis
        n = np.arange(-(modes[k] // 2), modes[k] - modes[k] // 2)
        factor = math.sqrt(4.0 * math.pi * eps) / L[k] * np.exp(-eps * (2.0 * np.pi * n / L[k]) ** 2)
        mult = mult * factor.reshape([-1 if j == k else 1 for j in range(d)])
    opts = {"eps": 1e-14, "dtype": "complex128", "nthreads": threads}
    to_modes = finufft.Plan(1, tuple(modes), isign=-1, **opts)
    to_points = finufft.Plan(2, tuple(modes), isign=1, **opts)
    to_modes.setpts(*theta)
    to_points.setpts(*theta)

    def matvec(v: np.ndarray) -> np.ndarray:
        f = to_modes.execute(v.astype(np.complex128))
        f *= mult
        return to_points.execute(f).real

    return matvec


# --- sparse -----------------------------------------------------------------------------------


def _sparse_radius(eps: float, kernel_tol: float) -> float:
    return math.sqrt(4.0 * eps * math.log(1.0 / kernel_tol))


def estimate_neighbours(X: np.ndarray, eps: float, kernel_tol: float = 1e-16, sample: int = 256) -> float:
    """Estimated nonzeros of the truncated kernel (neighbour counts of a random sample of rows)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(X)
    rows = np.random.default_rng(0).choice(len(X), size=min(sample, len(X)), replace=False)
    counts = tree.query_ball_point(X[rows], _sparse_radius(eps, kernel_tol), return_length=True)
    return float(np.mean(counts)) * len(X)


def _sparse_operator(X: np.ndarray, eps: float, kernel_tol: float, memory: int):
    from scipy.sparse import csr_matrix
    from scipy.spatial import cKDTree

    M = len(X)
    nnz = estimate_neighbours(X, eps, kernel_tol)
    need = nnz * 28  # pair list (16 B) + CSR entry (12 B) per nonzero, at the peak
    if need > memory:
        raise MemoryError(
            f"sparse kernel needs ~{need / 2**30:.1f} GiB (~{nnz:.3g} nonzeros) > budget {memory / 2**30:.1f} GiB"
        )
    pairs = cKDTree(X).query_pairs(_sparse_radius(eps, kernel_tol), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    diff = X[i] - X[j]
    t = np.exp(np.einsum("ij,ij->i", diff, diff) * (-1.0 / (4.0 * eps)))
    del diff, pairs
    rows = np.concatenate([i, j, np.arange(M)])
    cols = np.concatenate([j, i, np.arange(M)])
    data = np.concatenate([t, t, np.ones(M)])
    T = csr_matrix((data, (rows, cols)), shape=(M, M))
    return lambda v: T @ v


# --- streaming (numpy threads, jax) ------------------------------------------------------------


def _stream_operator(X: np.ndarray, eps: float, rho, threads: int):
    M = len(X)
    size = max(64, min(M, int(math.sqrt(_BLOCK_ENTRIES))))
    starts = list(range(0, M, size))
    pairs = [(i, j) for i in starts for j in starts if j >= i]

    def work(chunk, v):
        out = np.zeros(M)
        for i, j in chunk:
            si, sj = slice(i, i + size), slice(j, j + size)
            ri = None if rho is None else rho[si]
            rj = None if rho is None else rho[sj]
            K = gaussian_log_kernel(sq_distances(X[si], X[sj]), eps, ri, rj)
            np.exp(K, out=K)
            out[si] += K @ v[sj]
            if j != i:
                out[sj] += K.T @ v[si]
        return out

    chunks = [pairs[k::threads] for k in range(threads)]
    chunks = [c for c in chunks if c]
    if len(chunks) == 1:
        return lambda v: work(chunks[0], v)
    pool = ThreadPoolExecutor(len(chunks))

    def matvec(v: np.ndarray) -> np.ndarray:
        return sum(pool.map(lambda c: work(c, v), chunks))

    matvec.pool = pool  # type: ignore[attr-defined]  # closed by the caller
    return _single_blas(matvec)


def _single_blas(fn):
    """Run ``fn`` with BLAS on one thread (our threads already split the work)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return fn

    def wrapped(v):
        with threadpool_limits(1, user_api="blas"):
            return fn(v)

    wrapped.pool = getattr(fn, "pool", None)
    return wrapped


@functools.lru_cache(maxsize=32)
def _jax_apply(M: int, d: int, size: int, nb: int, eps: float, variable: bool):
    """The jitted blockwise ``T v`` for one shape (cached: a second fit of that shape compiles nothing).

    The points are arguments, not closure constants (XLA would try to constant-fold the products).
    """
    import jax
    import jax.numpy as jnp

    pad = nb * size - M

    @jax.jit
    def apply(v, Xp, a2, rp):
        vp = jnp.concatenate([v, jnp.zeros(pad)])

        def row_block(i):
            xb = jax.lax.dynamic_slice(Xp, (i * size, 0), (size, d))
            ab = jax.lax.dynamic_slice(a2, (i * size,), (size,))
            D = jnp.maximum(ab[:, None] + a2[None, :] - 2.0 * (xb @ Xp.T), 0.0)
            if not variable:
                E = D * (-1.0 / (4.0 * eps))
            else:
                rb = jax.lax.dynamic_slice(rp, (i * size,), (size,))
                E = D / ((-2.0 * eps) * (rb[:, None] + rp[None, :]))
            return jnp.sum(jnp.exp(E) * vp[None, :], axis=1)  # one fused kernel: no block in memory

        return jax.lax.map(row_block, jnp.arange(nb)).reshape(-1)[:M]

    return apply


def _jax_operator(X: np.ndarray, eps: float, rho, block_entries: int):
    import jax
    import jax.numpy as jnp

    from genbench.devices import jax_device_name

    M, d = X.shape
    on_gpu = jax.default_backend() == "gpu"
    size = max(64, min(M, (block_entries * (32 if on_gpu else 1)) // M))  # GPU: 2²⁷ entries a block
    nb = -(-M // size)
    pad = nb * size - M
    with jax.enable_x64(True):
        Xp = jnp.asarray(np.concatenate([X, np.zeros((pad, d))]))
        a2 = jnp.sum(Xp * Xp, axis=1)
        rp = None if rho is None else jnp.asarray(np.concatenate([rho, np.ones(pad)]))

    apply = _jax_apply(M, d, size, nb, float(eps), rho is not None)

    def matvec(v: np.ndarray) -> np.ndarray:
        with jax.enable_x64(True):
            return np.asarray(apply(jnp.asarray(v), Xp, a2, rp))

    return matvec, jax_device_name()


# --- checks and the KDE for variable bandwidth -------------------------------------------------


def exact_marginal_error(
    X: np.ndarray, eps: float, log_v: np.ndarray, rows: np.ndarray | None = None, rho: np.ndarray | None = None
) -> float:
    """``max_i |M v_i (T v)_i − 1|`` over ``rows`` (default all) with the exact kernel, in blocks."""
    M = len(X)
    rows = np.arange(M) if rows is None else np.asarray(rows)
    v = np.exp(log_v)
    size = max(1, _BLOCK_ENTRIES // M)
    worst = 0.0
    for s in range(0, len(rows), size):
        r = rows[s : s + size]
        E = gaussian_log_kernel(sq_distances(X[r], X), eps, None if rho is None else rho[r], rho)
        np.exp(E, out=E)
        worst = max(worst, float(np.max(np.abs(M * v[r] * (E @ v) - 1.0))))
    return worst


def kde_log_density_blocks(X: np.ndarray, h2: float) -> np.ndarray:
    """``log (1/M) Σ_j exp(−|x_i − x_j|²/(2h²))`` for every i, in row blocks (no M × M array).

    Same value as :func:`genbench.numerics.sinkhorn.kde_log_density_sq` on the full distance
    matrix; used for the variable bandwidth of seed 000 eqs. (21)–(22) at large M.
    """
    from scipy.special import logsumexp

    M = len(X)
    out = np.empty(M)
    size = max(1, _BLOCK_ENTRIES // M)
    for s in range(0, M, size):
        out[s : s + size] = logsumexp(sq_distances(X[s : s + size], X) * (-0.5 / h2), axis=1)
    return out - math.log(M)


# --- choosing and running a path ---------------------------------------------------------------


def choose_method(
    X: np.ndarray, eps: float, *, variable: bool = False, memory: int = DENSE_BYTES, kernel_tol: float = 1e-16
) -> str:
    """The path ``"auto"`` takes for ``X`` (M × d) at bandwidth ``eps``.

    Dense while 8 M² bytes fit ``memory`` (with a GPU only below M = 4,000); else jax on a GPU
    when jax has one; else NUFFT for
    d ≤ 3 (constant bandwidth) when FINUFFT is installed and the grid has ≤ 2²⁴ modes; else the
    sparse kernel when its estimated nonzeros fit ``memory``; else streaming, with jax when it is
    installed (2× the numpy threads' throughput on our 2-core CPU: 114 against 57 million kernel
    entries per second at M = 20,000, d = 6, although numpy computes each symmetric pair once).
    """
    M, d = X.shape
    if memory >= 8 * M * M and M < _GPU_FROM:
        return "dense"
    if _jax_on_gpu():  # same v to ~1e-14 (float64); at M = 5,000 0.03 s against 1.8 s dense on a CPU
        return "jax"
    if memory >= 8 * M * M:
        return "dense"
    if not variable and d <= 3 and _has("finufft") and nufft_modes(X, eps, kernel_tol) <= _MAX_MODES:
        return "nufft"
    if not variable and estimate_neighbours(X, eps, kernel_tol) * 28 <= memory:
        return "sparse"
    return "jax" if _has("jax") else "stream"


def sinkhorn_gaussian(
    X: np.ndarray,
    eps: float,
    *,
    rho: np.ndarray | None = None,
    method: str = "auto",
    tol: float = 1e-12,
    max_iter: int = 10_000,
    kernel_tol: float = 1e-16,
    memory: int = DENSE_BYTES,
    threads: int | None = None,
    check_rows: int = 1000,
    seed: int = 0,
) -> GaussianSinkhorn:
    """Solve ``M v∘(T v) = 1`` for the Gaussian kernel of the (centred) points ``X`` by ``method``.

    ``rho`` (length M) gives the variable-bandwidth kernel of seed 000 eq. (22) (dense, stream
    and jax paths only). ``tol`` bounds the iteration's relative marginal error; ``kernel_tol``
    the kernel entries the sparse and NUFFT paths drop. ``check_rows`` random rows (``seed``) are
    then checked against the exact kernel (all rows when M ≤ ``check_rows``), reported as
    ``check_error``. Raises :class:`SinkhornError` when the iteration does not converge, and
    :class:`ValueError` for an unknown or inapplicable method.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    M = len(X)
    if method not in METHODS:
        raise ValueError(f"sinkhorn method must be one of {', '.join(METHODS)}, got {method!r}")
    if rho is not None and method in ("nufft", "sparse"):
        raise ValueError(f"the {method} path needs a constant bandwidth (beta = 0)")
    threads = threads or _threads()
    t0 = time.perf_counter()
    if method == "auto":
        method = choose_method(X, eps, variable=rho is not None, memory=memory, kernel_tol=kernel_tol)
    if method == "dense":
        D = sq_distances(X)
        log_T = gaussian_log_kernel(D, eps, rho, rho)
        res = sinkhorn_symmetric(log_T, tol=tol, max_iter=max_iter, overwrite=True, on_fail="warn")
        v, log_v, it, err, label = res.v, res.log_v, res.iterations, res.error, "dense"
        del D, log_T
    else:
        pool = None
        if method == "nufft":
            matvec, label = _nufft_operator(X, eps, kernel_tol, threads), "nufft"
        elif method == "sparse":
            matvec, label = _sparse_operator(X, eps, kernel_tol, memory), "sparse"
        elif method == "stream":
            matvec, label = _stream_operator(X, eps, rho, threads), "stream"
            pool = getattr(matvec, "pool", None)
        else:
            matvec, device = _jax_operator(X, eps, rho, _BLOCK_ENTRIES)
            label = f"jax:{device}"
        try:
            v, it, err = damped_iteration(matvec, np.full(M, 1.0 / math.sqrt(M)), tol, max_iter)
        finally:
            if pool is not None:
                pool.shutdown()
        if not np.isfinite(err):
            raise SinkhornError(f"{label} Sinkhorn broke down (non-positive kernel product) after {it} iterations")
        log_v = np.log(v)
    if not err <= tol:
        raise SinkhornError(
            f"symmetric Sinkhorn ({label}) did not converge: marginal error {err:.2e} > tol {tol:.0e} "
            f"after {it} iterations"
        )
    rows = None if check_rows >= M else np.random.default_rng(seed).choice(M, size=check_rows, replace=False)
    check = exact_marginal_error(X, eps, log_v, rows, rho) if label != "dense" else err
    seconds = time.perf_counter() - t0
    n_checked = M if rows is None else len(rows)
    return GaussianSinkhorn(v, log_v, it, err, label, True, check, n_checked, seconds)
