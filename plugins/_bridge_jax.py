"""jax kernels for the bridge samplers: whole chain runs in one ``jit`` (``lax.fori_loop`` / ``lax.scan``).

Imported only by the samplers' ``backend="jax"`` path (``import genbench`` stays light). The
steps are the same equations as the numpy steps in ``plugins/bridge.py`` and
``plugins/localized_bridge.py`` (seed 000 eqs. (8), (10), (13)–(19), (22); seed 001 eqs. (14),
(37)–(42)), written functionally, in float32: one fused kernel per step, about 3–6× faster than
numpy float64 on CPU (numbers in ``benchmarks/bench_bridge.py``). jax runs on a GPU when its
installed build has one, else on the CPU. Random numbers come from a jax key derived from the
caller's numpy Generator, so results are deterministic per seed and backend (not equal across
backends).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

__all__ = ["bridge_step", "localized_step", "run_chains_jax"]

DTYPE = jnp.float32


def _sqd(Y, X):
    D = jnp.sum(Y * Y, axis=-1)[:, None] + jnp.sum(X * X, axis=-1)[None, :] - 2.0 * Y @ X.T
    return jnp.maximum(D, 0.0)


@functools.lru_cache(maxsize=64)
def bridge_step(noise: str, split: bool, output: str, relax: bool, var_bw: bool, cond: bool):
    """A pure step ``(arrays, y, key) -> (next, record)`` for one bridge configuration (cached)."""

    def rho_at(A, D):  # seed 000, eq. (22), clipped to the data's range of ρ
        log_pi = logsumexp(-D / (2.0 * A["h2"]), axis=-1) - jnp.log(D.shape[-1])
        return jnp.exp(jnp.clip(A["beta"] * (log_pi - A["log_Z"]), A["lr_lo"], A["lr_hi"]))

    def weights(A, y):  # seed 000, eq. (8)
        if not var_bw:
            return jax.nn.softmax(y @ A["W"] + A["bias"], axis=-1), None
        D = _sqd(y, A["X"])
        rho = rho_at(A, D)
        logits = -D / (2.0 * A["eps"] * (rho[:, None] + A["rho"][None, :])) + A["log_v"]
        return jax.nn.softmax(logits, axis=-1), rho

    def noise_term(A, y, key, p=None, rho=None):
        X = A["X"]
        if noise == "data_aware":  # C^½ξ ~ Σ_i sqrt(p_i)(x_i − m)η_i, eqs. (14)–(16)
            if p is None:
                p, _ = weights(A, y)
            s = jnp.sqrt(p) * jax.random.normal(key, p.shape, DTYPE)
            return A["c_noise"] * (s @ X - (p @ X) * jnp.sum(s, axis=1, keepdims=True))
        xi = jax.random.normal(key, y.shape, DTYPE)  # sqrt(2Δτ) K^½ ξ, eqs. (11)/(13)
        if var_bw:
            if rho is None:
                rho = rho_at(A, _sqd(y, X))
            xi = xi * jnp.sqrt(rho)[:, None]
        return A["c_noise"] * xi

    def step(A, y, key):
        if cond:
            y = jnp.where(A["cond_mask"], A["z"], y)  # section 5: Ẑ_n = z*
        if split:  # eqs. (18)/(19)
            half = y + noise_term(A, y, key)
            p, _ = weights(A, half)
            m = p @ A["X"]
            nxt = half + A["r"] * (m - half) if relax else m
            rec = half if output == "noisy" else nxt
        else:
            p, rho = weights(A, y)
            m = p @ A["X"]
            nxt = (y + A["r"] * (m - y) if relax else m) + noise_term(A, y, key, p, rho)
            rec = nxt
        if cond:
            rec = jnp.where(A["cond_mask"], A["z"], rec)
        return nxt, rec

    return step


@functools.lru_cache(maxsize=8)
def localized_step(output: str, cond: bool = False):
    """Localized split step, seed 001 eqs. (14a), (37)–(42), vectorised over chains and α;
    ``cond``: the conditioning coordinates are held at ``z*`` (seed 001 §5)."""

    def step(A, y, key):
        if cond:
            y = jnp.where(A["cond_mask"], A["z"], y)
        half = y + A["c_noise"] * jax.random.normal(key, y.shape, DTYPE)  # eq. (14a)
        loc = half[:, A["idx"]] * A["mask"]  # (n, d, k): X_[α] for every α
        # log v_α + log t_α(x_[α]) up to a per-(α, chain) constant (seed 001, Remark 2)
        logits = jnp.einsum("ndk,dkm->dnm", loc, A["W"]) + A["bias"][:, None, :]
        w = jax.nn.softmax(logits, axis=-1)  # eq. (37)
        nxt = jnp.einsum("dnm,dm->nd", w, A["V"])  # eqs. (40), (42)
        rec = half if output == "noisy" else nxt
        if cond:
            rec = jnp.where(A["cond_mask"], A["z"], rec)
        return nxt, rec

    return step


@functools.partial(jax.jit, static_argnums=(0, 5))
def _run(step, arrays, y0, key, burn_thin, per_chain):
    burn_in, thin = burn_thin[0], burn_thin[1]

    def one(i, carry):
        y, rec, key = carry
        key, sub = jax.random.split(key)
        y, rec = step(arrays, y, sub)
        return y, rec, key

    y, rec, key = jax.lax.fori_loop(0, burn_in, one, (y0, y0, key))

    def outer(carry, _):
        carry = jax.lax.fori_loop(0, thin, one, carry)
        return carry, carry[1]

    _, out = jax.lax.scan(outer, (y, rec, key), None, length=per_chain)
    return out


def run_chains_jax(step, arrays: dict, x0: np.ndarray, plan, n: int, rng: np.random.Generator) -> np.ndarray:
    """Run a ``ChainPlan`` in one jit; returns the last ``n`` records in (time, chain) order."""
    A = {k: jnp.asarray(v, DTYPE) if np.asarray(v).dtype.kind == "f" else jnp.asarray(v) for k, v in arrays.items()}
    key = jax.random.key(int(rng.integers(0, 2**31 - 1)))
    out = _run(step, A, jnp.asarray(x0, DTYPE), key, jnp.array([plan.burn_in, plan.thin]), plan.per_chain)
    out = np.asarray(out, dtype=np.float64).reshape(-1, x0.shape[1])
    return out[len(out) - n :]
