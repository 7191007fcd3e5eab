"""The training loop and its plumbing, shared by every torch sampler (``flow`` included).

- :func:`setup`: the device from the run's ``--device``, ``torch.set_num_threads`` from the
  worker's thread budget, and seeds derived from the cell's ``numpy`` generator (parameter
  initialisation, dropout and every noise draw), so two fits with the same seed give the same
  numbers on a CPU.
- :class:`Batches`: shuffled minibatches of the training set, epoch after epoch.
- :func:`train`: the loop. The budget is in optimiser **steps** (deterministic); ``max_seconds``
  is only a safety net, and hitting it is recorded (``stopped = "wall_clock"``), never silent.
  It returns the ``diagnostics_`` the runner stores: the loss every ``log_every`` steps
  (averaged over those steps), steps done of the budget, seconds, device.
- :func:`to_tensor`, :func:`to_numpy`, :func:`standardizer`, :func:`generator`,
  :func:`device_name`: conversions at the sampler's boundary; :func:`warm`: the forkserver preload.

Shared code, not a sampler; imported through :mod:`._torchkit` inside ``fit``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from genbench.devices import torch_device


def setup(rng: np.random.Generator) -> tuple[torch.device, torch.Generator]:
    """Device, threads and seeds for one fit: returns the device and a ``torch.Generator`` on it.

    The global torch seed (layer initialisation, dropout) and the generator's seed are both drawn
    from ``rng``; threads follow ``OMP_NUM_THREADS``, which the runner sets to the cell's cores.
    """
    threads = int(os.environ.get("OMP_NUM_THREADS") or 0) or (os.cpu_count() or 1)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    device = torch_device()
    init_seed, noise_seed = (int(s) for s in rng.integers(0, 2**62, size=2))
    torch.manual_seed(init_seed)
    gen = torch.Generator(device=device)
    gen.manual_seed(noise_seed)
    return device, gen


class Batches:
    """Minibatches of ``X`` (rows), reshuffled every epoch with ``gen``; ``next()`` never ends."""

    def __init__(self, X: torch.Tensor, batch_size: int, gen: torch.Generator) -> None:
        self.X, self.gen = X, gen
        self.batch_size = min(int(batch_size), len(X))
        self._perm = torch.empty(0, dtype=torch.long, device=X.device)
        self._pos = 0
        self.epochs = 0

    def next(self, out: torch.Tensor | None = None) -> torch.Tensor:
        """The next batch (written into ``out`` when given)."""
        if self._pos + self.batch_size > len(self._perm):
            self._perm = torch.randperm(len(self.X), generator=self.gen, device=self.X.device)
            self._pos = 0
            self.epochs += 1
        idx = self._perm[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return self.X[idx] if out is None else torch.index_select(self.X, 0, idx, out=out)


def train(
    step: Callable[[int], dict[str, torch.Tensor] | torch.Tensor],
    *,
    steps: int,
    max_seconds: float | None,
    device: torch.device,
    log_every: int | None = None,
    optimizers: Sequence[torch.optim.Optimizer] = (),
    schedule: str = "constant",
) -> dict[str, Any]:
    """Call ``step(i)`` for ``i < steps`` (each does one optimiser update and returns its loss, or
    a dict of named losses whose ``"loss"`` is the main one) and return the diagnostics.

    ``schedule="cosine"`` decays the learning rate of ``optimizers`` from its initial value to 0
    over the budget (Loshchilov & Hutter 2017, without restarts): the last steps refine rather
    than wander, so the model at the end of the budget is the converged one.

    Losses are summed on the device and read back every ``log_every`` steps (default: about 200
    points over the budget), so a GPU is not synchronised every step. Stops early only at
    ``max_seconds`` (``stopped = "wall_clock"``).
    """
    log_every = log_every or max(1, steps // 200)
    curves: dict[str, list[list[float]]] = {}
    sums: dict[str, torch.Tensor] = {}
    count = 0
    stopped = "budget"
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be 'constant' or 'cosine', got {schedule!r}")
    base = [[g["lr"] for g in opt.param_groups] for opt in optimizers]
    t0 = time.perf_counter()
    done = 0
    for i in range(steps):
        if schedule == "cosine":
            _scale_lr(optimizers, base, 0.5 * (1.0 + math.cos(math.pi * i / steps)))
        out = step(i)
        losses = out if isinstance(out, dict) else {"loss": out}
        for k, v in losses.items():
            v = v.detach()
            sums[k] = sums[k] + v if k in sums else v
        count += 1
        done = i + 1
        last = done == steps
        if count == log_every or last:
            _log_means(curves, sums, count, done)
            sums, count = {}, 0
            if not last and max_seconds is not None and time.perf_counter() - t0 > max_seconds:
                stopped = "wall_clock"
                break
    if count:  # a wall-clock stop between two log points
        _log_means(curves, sums, count, done)
    return {
        **curves,
        "steps": done,
        "budget_steps": int(steps),
        "seconds": round(time.perf_counter() - t0, 3),
        "device": str(device),
        "stopped": stopped,
    }


def _scale_lr(optimizers: Sequence[torch.optim.Optimizer], base: list[list[float]], factor: float) -> None:
    """Set each parameter group's learning rate to its initial one (``base``) times ``factor``."""
    for opt, lrs in zip(optimizers, base, strict=True):
        for g, lr in zip(opt.param_groups, lrs, strict=True):
            g["lr"] = lr * factor


def _log_means(curves: dict[str, list[list[float]]], sums: dict[str, torch.Tensor], count: int, done: int) -> None:
    """Append ``[done, sum / count]`` to each loss's curve (reads the sums back from the device)."""
    for k, v in sums.items():
        curves.setdefault(k, []).append([float(done), float(v) / count])


def device_name(device: torch.device) -> str:
    """As a result row records it: ``cpu`` or ``cuda:0``."""
    return "cpu" if device.type == "cpu" else f"{device.type}:{device.index or 0}"


def standardizer(X: np.ndarray, on: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, scale)`` mapping ``X`` to mean 0, std 1 per coordinate (``(0, 1)`` when not ``on``;
    a constant coordinate keeps scale 1)."""
    if not on:
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    scale = X.std(axis=0)
    return X.mean(axis=0), np.where(scale > 0, scale, 1.0)


def to_tensor(X: np.ndarray, device: torch.device) -> torch.Tensor:
    """Training points as float32 on ``device``."""
    return torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """Samples back as float64 numpy."""
    return x.detach().to("cpu", torch.float64).numpy()


def generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded from ``rng`` (for ``sample``)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(int(rng.integers(0, 2**62)))
    return gen


def warm() -> None:
    """Imports worth doing once per worker forkserver (a sampler's ``preload``): torch, its
    optimisers (``torch.optim.Adam`` imports ``torch._dynamo`` on first use, which takes seconds) and
    ``torch.func``. Runs no tensor operation (no thread pool before a fork) and touches no GPU."""
    import torch.func

    torch.optim.Adam([torch.nn.Parameter(torch.empty(1))])  # allocation only: no parallel op before a fork
