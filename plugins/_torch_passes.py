"""The manual passes: an :func:`._torch_nets.mlp`'s forward and backward by hand, on parameters that
are views of one flat tensor.

- :func:`flatten_parameters`: every parameter of some modules moved into one flat parameter, the
  originals rebound as views of it; :func:`flat_grad`: a parameter's view of the flat gradient.
- :class:`Dense`: forward and backward with no autograd graph, gradients written in place into
  preallocated buffers, inverted dropout with masks drawn from a generator, optional bfloat16
  products (:func:`fast_bf16`), and per-row factors for per-sample gradient products.

The contract, checked against autograd in the tests: the same outputs, parameter gradients and
input gradient as ``torch.autograd`` on the same module, with dropout's masks applied in both
passes. Hidden contracts: ``forward`` returns a buffer that the next ``forward`` on as many rows
overwrites; the bfloat16 copy of a weight is refreshed once per update of the ``optimizer`` given
to :class:`Dense`, so it goes stale if the weights change otherwise; any module of the
``Sequential`` that is neither ``Linear`` nor ``Dropout`` is taken for an activation, and one
without a backward here fails at the first ``backward``.

Shared code, not a sampler; imported through :mod:`._torchkit` inside ``fit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from ._torch_adam import FlatAdam


def flatten_parameters(*modules: nn.Module) -> nn.Parameter:
    """Move every parameter of ``modules`` into one flat parameter (with a flat ``.grad``) and
    rebind each module's parameters as views of it; returns the flat parameter.

    An optimiser built on ``[flat]`` (:class:`._torch_adam.FlatAdam`) updates all of them in one
    kernel, where ``torch.optim.Adam``'s default loops over the parameters with about ten small ops
    each, a visible share of a small network's step on a CPU. :class:`Dense` writes its gradients
    into the views of ``flat.grad``. The modules still work as modules (``sample``,
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


def flat_grad(flat: nn.Parameter, p: torch.Tensor) -> torch.Tensor:
    """The view of ``flat.grad`` that holds the gradient of ``p``, a view of ``flat``."""
    return flat.grad[p.storage_offset() - flat.storage_offset() :][: p.numel()].view_as(p)


def fast_bf16(device: torch.device) -> bool:
    """Whether bfloat16 matrix products pay on ``device``: a CPU with AMX tiles (Intel Sapphire
    Rapids and later), where oneDNN's bf16 GEMM beats float32 on ``gan``'s widest layers even
    with the casts. Without AMX, bf16 GEMMs are no faster than float32 on CPU; on GPU these
    networks are launch-bound."""
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
        # xᵀg (in × out) then transposed, not gᵀx, which MKL runs several times slower at these
        # shapes (256 rows, one core).
        self._wgrad_t = [w.new_empty(w.shape[::-1]) if w.shape[1] * 64 <= w.shape[0] else None for w, *_ in self.layers]
        self._saved: list[tuple[torch.Tensor, ...]] = []
        self._buffers: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}

    def _workspace(self, rows: int, like: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer, buffers for its output and for the gradient of its input, for ``rows`` rows:
        allocated once and reused every step (a fresh tensor per op costs more than writing into
        a warm one, a visible share of an ``ou_sgm`` step)."""
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
