"""The small torch toolkit the neural samplers share (``ou_sgm``, ``gm_ndsm``, ``gan``, ``vae``).

Not a sampler (the leading underscore keeps it out of the registry) and never imported by
genbench's core: the plugins import it inside ``fit``, so the module listing works without torch.
The samplers' base, :class:`._neural.TorchSampler`, calls :func:`setup` and :func:`train` for them.

- :func:`setup`: the device from the run's ``--device``, ``torch.set_num_threads`` from the
  worker's thread budget, and seeds derived from the cell's ``numpy`` generator (parameter
  initialisation, dropout and every noise draw), so two fits with the same seed give the same
  numbers on a CPU.
- :func:`mlp`: a multilayer perceptron from a list of widths (time enters as an extra input).
- :func:`flatten_parameters`, :class:`FlatAdam`, :class:`Dense`: the training step without
  autograd or ``torch.optim`` overhead (issue 24): parameters as views of one flat tensor, Adam
  in one fused kernel, an MLP's backward by hand into preallocated buffers. On one CPU thread the
  samplers' steps are 2.0–2.6× faster than the plain autograd loop of the same network
  (``benchmarks/bench_neural_step.py``), with the same loss and updates.
- :class:`Batches`: shuffled minibatches of the training set, epoch after epoch.
- :func:`train`: the loop. The budget is in optimiser **steps** (deterministic); ``max_seconds``
  is only a safety net, and hitting it is recorded (``stopped = "wall_clock"``), never silent.
  It returns the ``diagnostics_`` the runner stores: the loss every ``log_every`` steps
  (averaged over those steps), steps done of the budget, seconds, device.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from genbench.devices import torch_device

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}


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


def mlp(
    in_dim: int,
    widths: Sequence[int],
    out_dim: int,
    activation: str = "relu",
    dropout: float = 0.0,
) -> nn.Sequential:
    """``in_dim → widths… → out_dim``: Linear + activation (+ dropout) per hidden layer, a linear
    output layer."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    prev = in_dim
    for w in widths:
        layers += [nn.Linear(prev, int(w)), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        prev = int(w)
    layers.append(nn.Linear(prev, out_dim))
    return nn.Sequential(*layers)


class TimeMLP(nn.Module):
    """A time-dependent network ``s(x, t)``: an :func:`mlp` on ``[x, embed(t)]``.

    ``embedding="raw"``: t itself, one more input (the papers' "time as an input");
    ``"fourier"``: t and ``sin/cos(2π f t)`` for f = 1, 2, 4, …, 2^(frequencies−1) (Tancik et
    al. 2020's Fourier features; the sinusoidal embedding of Ho et al. 2020 in its continuous
    form), so nearby small times, where a score changes fastest, are easy to tell apart;
    ``"log_fourier"``: those and log t, for time grids that reach far below their range's width
    (``gm_ndsm``'s Δt_N = 0.001 on [0, 0.5]).
    """

    def __init__(
        self,
        dim: int,
        widths: Sequence[int],
        activation: str = "relu",
        embedding: str = "raw",
        frequencies: int = 6,
    ) -> None:
        super().__init__()
        if embedding not in ("raw", "fourier", "log_fourier"):
            raise ValueError(f"time embedding must be 'raw', 'fourier' or 'log_fourier', got {embedding!r}")
        n_freq = frequencies if embedding != "raw" else 0
        self.log_time = embedding == "log_fourier"
        self.register_buffer("freqs", 2.0 * torch.pi * 2.0 ** torch.arange(n_freq, dtype=torch.float32))
        self.net = mlp(dim + 1 + 2 * n_freq + int(self.log_time), widths, dim, activation)

    def embed(self, t: torch.Tensor) -> torch.Tensor:
        """The time features of ``t`` (shape ``(n, 1)``): the MLP's inputs after ``x``."""
        feats = [t]
        if len(self.freqs):
            wt = t * self.freqs
            feats += [wt.sin(), wt.cos()]
        if self.log_time:
            feats.append(t.clamp_min(1e-6).log())
        return torch.cat(feats, dim=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = t.reshape(-1, 1).expand(x.shape[0], 1).to(x.dtype)
        return self.net(torch.cat([x, self.embed(t)], dim=1))


def flatten_parameters(*modules: nn.Module) -> nn.Parameter:
    """Move every parameter of ``modules`` into one flat parameter (with a flat ``.grad``) and
    rebind each module's parameters as views of it; returns the flat parameter.

    An optimiser built on ``[flat]`` (``torch.optim.Adam([flat], fused=True)``) updates all of them
    in one kernel: the per-parameter loop of ``torch.optim.Adam``'s default on a CPU costs about
    0.15 ms of a 1.2 ms ``ou_sgm`` step (8 parameters × ~10 ops). :class:`Dense` writes its
    gradients into the views of ``flat.grad``. The modules still work as modules (``sample``,
    ``torch.func``), reading the same storage.
    """
    params = [(m, name, p) for mod in modules for m in mod.modules() for name, p in m.named_parameters(recurse=False)]
    total = sum(p.numel() for _, _, p in params)
    device = params[0][2].device
    flat = nn.Parameter(torch.empty(total, device=device))
    flat.grad = torch.zeros(total, device=device)
    offset = 0
    for m, name, p in params:
        n = p.numel()
        view = flat.data[offset : offset + n].view_as(p)
        view.copy_(p.data)
        setattr(m, name, nn.Parameter(view, requires_grad=False))
        offset += n
    return flat


class FlatAdam:
    """Adam on one flat parameter (:func:`flatten_parameters`) through torch's fused CPU kernel.

    The same update as ``torch.optim.Adam([flat], fused=True)`` (the same kernel, the same step
    count), without ``Optimizer.step``'s per-call Python (hooks, grad-mode and profiler
    wrappers): measured 0.16 ms against 0.03 ms for the kernel on an ``ou_sgm`` step. It has
    ``param_groups`` with an ``"lr"`` so that :func:`train`'s schedule drives it.
    """

    def __init__(self, flat: nn.Parameter, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.flat, self.betas, self.eps = flat, (float(betas[0]), float(betas[1])), float(eps)
        self.param_groups: list[dict[str, float]] = [{"lr": float(lr)}]
        self.exp_avg = torch.zeros_like(flat.data)
        self.exp_avg_sq = torch.zeros_like(flat.data)
        self.steps = torch.zeros((), dtype=torch.float32, device=flat.device)
        self.updates = 0  # the same count as a Python int (``Dense``'s cache of cast weights)

    def step(self) -> None:
        """One Adam update of ``flat`` from ``flat.grad``."""
        self.steps += 1
        self.updates += 1
        torch._fused_adam_(
            [self.flat.data],
            [self.flat.grad],
            [self.exp_avg],
            [self.exp_avg_sq],
            [],
            [self.steps],
            lr=self.param_groups[0]["lr"],
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=0.0,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )


def flat_grad(flat: nn.Parameter, p: torch.Tensor) -> torch.Tensor:
    """The view of ``flat.grad`` that holds the gradient of ``p``, a view of ``flat``."""
    return flat.grad[p.storage_offset() - flat.storage_offset() :][: p.numel()].view_as(p)


def fast_bf16(device: torch.device) -> bool:
    """Whether bfloat16 matrix products pay on ``device``: a CPU with AMX tiles (Intel Sapphire
    Rapids and later), where oneDNN's bf16 GEMM measured 78 µs against 376 µs in float32 for a
    256 × 512 × 256 product on one core (with the casts, 160 µs). Without AMX, bf16 GEMMs are
    no faster than float32 on CPU; on GPU these networks are launch-bound (issue 24)."""
    if device.type != "cpu":
        return False
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe is not None and probe())


class Dense:
    """Forward and backward of an :func:`mlp` by hand: no autograd graph, gradients written in place.

    Built on a module whose parameters :func:`flatten_parameters` made views of ``flat``.
    ``forward`` keeps each layer's input and pre-activation; ``backward(g)`` takes the loss's
    gradient with respect to the output and writes the parameters' gradients into ``flat.grad``
    (``torch.mm(..., out=)``). Why: on one CPU thread a step of these small networks is mostly
    per-op overhead, and autograd roughly doubles it (graph nodes, saved-tensor bookkeeping,
    gradient accumulation); by hand a layer's backward is three ops (``mm`` for the weight,
    ``sum`` for the bias, ``mm`` for the input) plus the activation's backward kernel.
    Dropout (``nn.Dropout`` in training) draws its mask from ``gen``. With ``bf16_min_weights``,
    pass the ``optimizer`` that updates ``flat``: the bfloat16 copy of a weight is then made once
    per update, not once per forward.
    """

    def __init__(
        self,
        seq: nn.Sequential,
        flat: nn.Parameter,
        gen: torch.Generator | None = None,
        *,
        bf16_min_weights: int | None = None,
        optimizer: FlatAdam | None = None,
    ) -> None:
        self.gen = gen
        self.optimizer = optimizer
        self.layers: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self.acts: list[nn.Module] = []
        self.dropout: list[float] = []
        for m in seq:
            if isinstance(m, nn.Linear):
                self.layers.append((m.weight, m.bias, flat_grad(flat, m.weight), flat_grad(flat, m.bias)))
            elif isinstance(m, nn.Dropout):
                self.dropout[-1] = float(m.p)
            else:
                self.acts.append(m)
                self.dropout.append(0.0)
        # Layers whose products run in bfloat16 (fp32 accumulation inside the kernel, the product
        # rounded to bfloat16; inputs, parameters, gradients and Adam stay float32): those with at
        # least bf16_min_weights weights.
        self.bf16 = [bf16_min_weights is not None and w.numel() >= bf16_min_weights for w, _, _, _ in self.layers]
        self._low: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        # layer → (optimiser updates when cast, W in bfloat16): W is cast once per update of
        # ``optimizer`` (every forward without one), not once per forward.
        self._low_w: dict[int, tuple[int, torch.Tensor]] = {}
        # A wide layer on a narrow input (the discriminator's 2 → 512): its weight gradient as
        # xᵀg (in × out) then transposed, not gᵀx, which MKL runs 3.6× slower at these shapes
        # (256 rows: 9.3 µs against 33.8 µs on one core; issue 24).
        self._wgrad_t = [w.new_empty(w.shape[::-1]) if w.shape[1] * 64 <= w.shape[0] else None for w, *_ in self.layers]
        self._saved: list[tuple[torch.Tensor, ...]] = []
        self._buffers: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}

    def _workspace(self, rows: int, like: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer, buffers for its output and for the gradient of its input, for ``rows`` rows:
        allocated once and reused every step (a fresh 128 KB tensor per op costs ~5–10 µs more
        than writing into a warm one; measured 0.05 ms of a 0.7 ms ``ou_sgm`` step)."""
        if rows not in self._buffers:
            self._buffers[rows] = [
                (like.new_empty((rows, w.shape[0])), like.new_empty((rows, w.shape[1]))) for w, _, _, _ in self.layers
            ]
        return self._buffers[rows]

    def forward(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """The network's output on ``x`` (dropout drawn when its rate is positive), written into
        ``out`` when given. The output and the saved activations live in buffers that the next
        ``forward`` on as many rows reuses."""
        work = self._workspace(x.shape[0], x)
        saved = []
        for i, ((buf, _), act, p) in enumerate(zip(work[:-1], self.acts, self.dropout, strict=True)):
            h = self._affine(i, x, buf)
            y = _activate(act, h)
            mask = None
            if p > 0:
                mask = (torch.rand(y.shape, generator=self.gen, device=y.device) >= p).to(y.dtype) / (1.0 - p)
            saved.append((x, h, y, mask))
            x = y if mask is None else y * mask
        saved.append((x,))
        self._saved = saved
        return self._affine(len(self.layers) - 1, x, work[-1][0] if out is None else out)

    def _affine(self, i: int, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Layer ``i``'s ``x Wᵀ + b`` into ``out``; in bfloat16 for the layers in ``bf16`` (keeping
        the low-precision copies of x and W for the backward)."""
        w, b, _, _ = self.layers[i]
        if not self.bf16[i]:
            return torch.addmm(b, x, w.t(), out=out)
        version = self.optimizer.updates if self.optimizer is not None else -1
        cast, wb = self._low_w.get(i, (-1, None))
        if version < 0 or cast != version:  # W changed (an optimiser step) since its last cast
            wb = w.to(torch.bfloat16)
            self._low_w[i] = (version, wb)
        xb = x.to(torch.bfloat16)
        self._low[i] = (xb, wb)
        return torch.add(b, torch.mm(xb, wb.t()), out=out)

    def backward(self, g: torch.Tensor, *, weights: bool = True, input_grad: bool = False) -> torch.Tensor | None:
        """Back-propagate ``g`` = ∂loss/∂output of the last :meth:`forward`: writes the parameter
        gradients into ``flat.grad`` (``weights``), returns ∂loss/∂input when ``input_grad`` (in
        a reused buffer)."""
        saved, work = self._saved, self._buffers[g.shape[0]]
        for i in range(len(self.layers) - 1, -1, -1):
            w, _, gw, gb = self.layers[i]
            if self.bf16[i]:
                xb, wb = self._low[i]
                g16 = g.to(torch.bfloat16)
                if weights:
                    gw.copy_(torch.mm(g16.t(), xb))
                    torch.sum(g, 0, out=gb)
                if i == 0 and not input_grad:
                    return None
                g = work[i][1].copy_(torch.mm(g16, wb))
            else:
                if weights:
                    if self._wgrad_t[i] is not None:
                        gw.copy_(torch.mm(saved[i][0].t(), g, out=self._wgrad_t[i]).t())
                    else:
                        torch.mm(g.t(), saved[i][0], out=gw)
                    torch.sum(g, 0, out=gb)
                if i == 0 and not input_grad:
                    return None
                g = torch.mm(g, w, out=work[i][1])
            if i > 0:
                _, h, y, mask = saved[i - 1]
                if mask is not None:
                    g.mul_(mask)
                _activate_backward(self.acts[i - 1], g, h, y)
        return g

    def deltas(self, g: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer, (∂loss/∂its output, its input) for the rows of the last :meth:`forward`, with
        ``g`` = ∂loss/∂output of each row: the per-row factors of the per-sample gradients (a
        layer's gradient from row r is δ_r x_rᵀ, its bias's δ_r), for sums over samples of their
        inner products without forming them (``gm_ndsm``'s control variate). Writes nothing."""
        saved, out = self._saved, []
        for i in range(len(self.layers) - 1, -1, -1):
            out.append((g, saved[i][0]))
            if i > 0:
                g = g @ self.layers[i][0]
                _, h, y, mask = saved[i - 1]
                if mask is not None:
                    g.mul_(mask)
                _activate_backward(self.acts[i - 1], g, h, y)
        return out[::-1]


def _activate(act: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """``act(h)``; ReLU and LeakyReLU in place (their backward needs only the result, and a fresh
    128 KB activation per layer costs more than the kernel)."""
    if isinstance(act, nn.ReLU):
        return torch.relu_(h)
    if isinstance(act, nn.LeakyReLU):
        return torch.nn.functional.leaky_relu_(h, act.negative_slope)
    return act(h)


def _activate_backward(act: nn.Module, g: torch.Tensor, h: torch.Tensor, y: torch.Tensor) -> None:
    """∂loss/∂h from ∂loss/∂y, y = act(h), written over ``g``: the activation's own backward kernel."""
    aten = torch.ops.aten
    if isinstance(act, nn.ReLU):  # h is its result (in place)
        aten.threshold_backward.grad_input(g, h, 0.0, grad_input=g)
    elif isinstance(act, nn.LeakyReLU):  # h is its result (in place; the slope is positive)
        aten.leaky_relu_backward.grad_input(g, h, act.negative_slope, True, grad_input=g)
    elif isinstance(act, nn.GELU):
        aten.gelu_backward.grad_input(g, h, approximate=act.approximate, grad_input=g)
    elif isinstance(act, nn.Tanh):
        aten.tanh_backward.grad_input(g, y, grad_input=g)
    elif isinstance(act, nn.SiLU):
        aten.silu_backward.grad_input(g, h, grad_input=g)
    else:
        raise TypeError(f"no backward for {type(act).__name__}")


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
    optimisers (``torch.optim.Adam`` imports ``torch._dynamo`` on first use, ~3 s) and
    ``torch.func``. Runs no tensor operation (no thread pool before a fork) and touches no GPU."""
    import torch.func

    torch.optim.Adam([torch.nn.Parameter(torch.empty(1))])  # allocation only: no parallel op before a fork
