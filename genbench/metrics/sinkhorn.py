"""Entropic optimal transport between generated and reference samples (seed 000, section 6.2)."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Literal

import numpy as np
from scipy.spatial.distance import cdist

from ..contracts import Metric, nan_with_reason
from ..devices import requested_device
from ..numerics.ot import entropic_ot, entropic_self_ot
from ..params import param

_POT_BACKENDS = {
    "torch": "POT_BACKEND_DISABLE_PYTORCH",
    "jax": "POT_BACKEND_DISABLE_JAX",
    "cupy": "POT_BACKEND_DISABLE_CUPY",
    "tensorflow": "POT_BACKEND_DISABLE_TENSORFLOW",
}


def import_pot():
    """``import ot`` without loading torch/jax just for POT's backend list.

    POT imports every installed array library at import (seconds in a fresh worker). Backends
    whose library is not already loaded are switched off for this import; arrays here are
    numpy. A library loaded earlier (by a sampler) keeps its POT backend.
    """
    if "ot" in sys.modules:
        return sys.modules["ot"]
    added = [key for lib, key in _POT_BACKENDS.items() if lib not in sys.modules and key not in os.environ]
    os.environ.update(dict.fromkeys(added, "1"))
    try:
        import ot
    finally:
        for key in added:
            os.environ.pop(key, None)
    return ot


def cost_scale(generated: np.ndarray, reference: np.ndarray, k: int = 200) -> np.ndarray:
    """Distances between the first ``k`` generated and reference points (a cheap scale read)."""
    return cdist(np.asarray(generated, float)[:k], np.asarray(reference, float)[:k]).ravel()


#: With ``device="auto"``, problems smaller than this (n·m) stay on the CPU unless the cell's
#: sampler already started CUDA: a fresh worker's torch import and CUDA start (1-3 s) cost more
#: than the CPU solve (0.05 s at 500 × 1,000; 3 s at 1,000 × 50,000 on 2 cores, 0.017 s on an H200).
GPU_MIN_SIZE = 10_000_000


def cuda_device(device: str, size: int = GPU_MIN_SIZE) -> str | None:
    """The torch CUDA device the metric computes on for an n·m = ``size`` problem, or None for the CPU.

    ``"auto"`` follows the run's ``--device`` (:func:`genbench.devices.requested_device`) and uses
    a GPU only when torch is installed and finds one, without importing torch on a machine with no
    NVIDIA driver (``/dev/nvidiactl``), and for small problems only when CUDA is already started.
    """
    want = requested_device() if device == "auto" else device
    if want == "cpu" or (want == "auto" and "torch" not in sys.modules and not os.path.exists("/dev/nvidiactl")):
        return None
    if want == "auto" and size < GPU_MIN_SIZE:
        loaded = sys.modules.get("torch")
        if loaded is None or not loaded.cuda.is_initialized():
            return None
    try:
        import torch
    except ImportError:
        if want == "cuda":
            raise RuntimeError("device='cuda', but torch is not installed") from None
        return None
    if torch.cuda.is_available():
        return "cuda"
    if want == "cuda":
        raise RuntimeError("device='cuda', but torch finds no CUDA GPU")
    return None


class Sinkhorn(Metric):
    """Regularised OT between generated and reference points, Euclidean cost, uniform weights (seed 000, §6.2).

    ``P*`` minimises ``Σ P_ij C_ij − reg·h(P)`` under the marginals ``1/n`` and ``1/m``, with
    ``C_ij = |x_i − y_j|`` and ``h`` the entropy. ``value`` picks the number reported:

    * ``"cost"`` (default): ``⟨P*, C⟩``, the transport cost without the entropy term — what POT's
      ``ot.sinkhorn2`` returns;
    * ``"entropic"``: ``⟨P*, C⟩ − reg·h(P*)``, the objective itself — seed 000's ``d_λ`` with
      ``1/λ = reg`` (negative when the entropy term dominates);
    * ``"divergence"``: the debiased Sinkhorn divergence ``S = E(x, y) − ½E(x, x) − ½E(y, y)`` of
      the entropic objectives (Feydy et al. 2019; ≥ 0, and 0 for identical samples). The self
      terms are streamed (memory O(512·m)) but cost O(m²) per iteration: ~m²/10⁸ s per
      iteration on one core, a few dozen iterations, so minutes at m = 50,000 on a CPU.

    The paper's "entropy penalty 1/λ = 100" read literally (reg = 100) only measures the mean
    pairwise distance; read as λ = 100 it is reg = 0.01. Default reg = 0.05 (SPEC §4): state the
    reading with every number.

    ``method``: ``"newton"`` (default; :func:`genbench.numerics.ot.entropic_ot`: Newton–CG on
    the semi-dual of the smaller set, kernel stabilised and stored once in float32 — 200 MB at
    1,000 × 50,000 — with a float64 last pass; on a CUDA GPU when ``device`` allows), or POT's
    ``"sinkhorn"`` (plain Sinkhorn–Knopp; breaks down when ``exp(−C/reg)`` underflows) and
    ``"sinkhorn_log"`` (log-domain, several times slower), on a dense cost matrix (memory ~4 n m
    floats, 1.6 GB at 1,000 × 50,000). All three compute the same number: the test suite checks
    agreement to 1e-6 relative with a fully converged POT solve.

    Converged means the marginal violation is small relative to the marginal itself,
    ``‖P*1 − a‖₂ ≤ tol·‖a‖₂`` for the marginal the method does not enforce exactly (POT's
    ``stopThr = tol/√m`` on the reference side), within ``max_iter`` iterations — for
    ``"newton"``, passes over the kernel (gradient evaluations and Hessian products, each about
    one Sinkhorn iteration's cost; 28-39 at 1,000 × 50,000, reg = 0.05, for good and poor
    samplers alike, where POT's Sinkhorn takes 200-950 iterations to converge fully). Otherwise —
    and on numerical breakdown — the value is NaN with the reason, never an unconverged number.
    ``max_iter`` defaults to 10,000: at 2,000, 3 of the 42 cells of ``manifolds --profile quick``
    (two_circles, 500 × 1,000 points) stopped POT's Sinkhorn at marginal errors 1.7e-6 to 1.8e-5
    and came out NaN.

    ``device``: ``"auto"`` (the run's ``--device``: a CUDA GPU via torch when one is there, for
    problems of at least :data:`GPU_MIN_SIZE` point pairs or when the sampler already started
    CUDA), ``"cpu"`` or ``"cuda"``; only ``"newton"`` uses a GPU. On an H200 the 1,000 × 50,000
    problem takes 0.017 s (1.0 s on that machine's 16 CPU cores).
    """

    name = "sinkhorn"
    higher_is_better = False
    preload = ("genbench.metrics.sinkhorn:import_pot",)  # `import ot` costs seconds per worker

    reg: float = param(0.05, gt=0)
    max_iter: int = param(10_000, ge=1)
    tol: float = param(1e-6, gt=0)
    method: Literal["newton", "sinkhorn", "sinkhorn_log"] = "newton"
    value: Literal["cost", "entropic", "divergence"] = "cost"
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def stop_threshold(self, m: int) -> float:
        """POT's absolute ``stopThr`` for m reference points: ``tol · ‖b‖₂`` with ``b = 1/m``."""
        return self.tol / np.sqrt(m)

    def solve(self, generated: np.ndarray, reference: np.ndarray) -> tuple[float, float, dict]:
        """POT's ``⟨P, C⟩``, ``⟨P, C⟩ − reg·h(P)`` and log (``err``: marginal violations every 10 iterations)."""
        ot = import_pot()
        cost = cdist(generated, reference)
        a = np.full(len(generated), 1.0 / len(generated))
        b = np.full(len(reference), 1.0 / len(reference))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-convergence is read from the log below
            plan, log = ot.sinkhorn(
                a,
                b,
                cost,
                self.reg,
                method=self.method,
                numItermax=self.max_iter,
                stopThr=self.stop_threshold(len(reference)),
                log=True,
            )
        value = float(np.sum(plan * cost))
        positive = plan[plan > 0]
        return value, value + self.reg * float(np.sum(positive * np.log(positive))), log

    def _pot(self, generated, reference) -> tuple[float, float] | float:
        value, entropic, log = self.solve(generated, reference)
        errors = [float(e) for e in log.get("err", [])]
        last = errors[-1] if errors else float("nan")
        if not np.isfinite(value) or not errors or not last <= self.stop_threshold(len(reference)):
            hint = "" if self.method == "sinkhorn_log" else "method='sinkhorn_log' or "
            relative, iterations = last * np.sqrt(len(reference)), int(log.get("niter", 0)) + 1
            return self._failed(relative, f"{iterations} iterations", hint, generated, reference)
        return value, entropic

    def _newton(self, generated, reference) -> tuple[float, float] | float:
        res = entropic_ot(
            generated,
            reference,
            self.reg,
            tol=self.tol,
            max_passes=self.max_iter,
            device=cuda_device(self.device, len(generated) * len(reference)) or "cpu",
        )
        if not res.converged and res.marginal_error <= self.tol and np.isfinite(res.cost):
            return nan_with_reason(
                f"Sinkhorn (newton) at reg={self.reg:g}: the plan puts mass {res.floor_mass:.1e} on kernel "
                f"entries below the floating-point floor after {res.passes} passes (points far beyond "
                "the others): try a larger reg"
            )
        if not res.converged:
            return self._failed(res.marginal_error, f"{res.passes} passes over the kernel", "", generated, reference)
        return res.cost, res.entropic

    def _failed(self, relative: float, spent: str, hint: str, generated, reference) -> float:
        scale = float(np.median(cost_scale(generated, reference)))
        return nan_with_reason(
            f"Sinkhorn ({self.method}) did not converge at reg={self.reg:g}: relative marginal error "
            f"{relative:.1e} > tol {self.tol:g} after {spent}; reg is in units of "
            f"distance (median here {scale:.3g}): try {hint}a larger reg"
        )

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        generated, reference = np.asarray(generated, float), np.asarray(reference, float)
        solved = (self._newton if self.method == "newton" else self._pot)(generated, reference)
        if isinstance(solved, float):
            return solved  # NaN with its reason
        cost, entropic = solved
        if self.value == "cost":
            return cost
        if self.value == "entropic":
            return entropic
        selves = [entropic_self_ot(z, self.reg, max_iter=self.max_iter) for z in (generated, reference)]
        if not all(np.isfinite(selves)):
            return nan_with_reason(
                f"Sinkhorn divergence: the symmetric self-transport did not converge at reg={self.reg:g} "
                f"within {self.max_iter} iterations: try a larger reg"
            )
        return entropic - 0.5 * (selves[0] + selves[1])
