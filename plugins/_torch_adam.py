"""Adam on one flat parameter vector: torch's private fused kernel behind a probe, ``torch.optim.Adam``
otherwise.

The update is Adam (Kingma & Ba 2015, Algorithm 1) without weight decay, with ε added to the
bias-corrected root, as ``torch.optim.Adam`` does::

    m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
    θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).

:class:`FlatAdam` runs it on the flat parameter of :func:`._torch_passes.flatten_parameters` in one
call of torch's fused Adam kernel, without ``Optimizer.step``'s per-call Python (hooks, grad-mode
and profiler wrappers), which costs more than the kernel at the samplers' sizes. That kernel is
private: it has no CPU implementation before torch 2.4 (:data:`TORCH_FLOOR`, the floor of the
``neural`` and ``flow`` extras) and may change in any release. So :func:`fused_adam_available`
probes it once per device type and dtype, on a one-element tensor, against the update above;
where it is missing, raises or disagrees, :class:`FlatAdam` wraps
``torch.optim.Adam([flat], foreach=False)`` (public, the same update; one tensor, so there is
nothing for ``foreach`` or ``fused`` to batch).

Shared code, not a sampler; imported through :mod:`._torchkit` inside ``fit``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: The oldest torch the toolkit supports: the first with a CPU implementation of the fused kernel,
#: and the floor of the ``neural`` and ``flow`` extras in ``pyproject.toml`` (a test keeps them equal).
TORCH_FLOOR = (2, 4)

#: (device type, dtype) → whether the fused kernel passed the probe there (probed once each).
_PROBED: dict[tuple[str, torch.dtype], bool] = {}


def _fused_step(
    param: torch.Tensor,
    grad: torch.Tensor,
    exp_avg: torch.Tensor,
    exp_avg_sq: torch.Tensor,
    step: torch.Tensor,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> None:
    """One Adam update of ``param`` in place by the fused kernel, after the caller has counted the
    step in ``step`` (a float32 scalar tensor on ``param``'s device). Only after the probe passed."""
    torch._fused_adam_(
        [param],
        [grad],
        [exp_avg],
        [exp_avg_sq],
        [],
        [step],
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        weight_decay=0.0,
        eps=eps,
        amsgrad=False,
        maximize=False,
    )


def _adam_reference(theta: float, grads: list[float], lr: float, beta1: float, beta2: float, eps: float) -> float:
    """``theta`` after one Adam update (the module's equation, Kingma & Ba 2015, Algorithm 1) per
    gradient of ``grads``, in Python floats: the probe's expected value."""
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        theta -= lr * (m / (1.0 - beta1**t)) / (math.sqrt(v / (1.0 - beta2**t)) + eps)
    return theta


def _kernel_agrees(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether torch has the fused kernel, it runs on ``device`` for ``dtype``, and two updates of
    a one-element tensor (gradients of both signs, so the bias corrections matter) agree with
    :func:`_adam_reference` to a few units of ``dtype``'s precision."""
    if not hasattr(torch, "_fused_adam_"):
        return False
    lr, beta1, beta2, eps, grads = 0.1, 0.9, 0.999, 1e-8, [0.5, -0.25]
    try:
        param = torch.ones(1, device=device, dtype=dtype)
        grad, exp_avg, exp_avg_sq = torch.zeros_like(param), torch.zeros_like(param), torch.zeros_like(param)
        step = torch.zeros((), dtype=torch.float32, device=device)
        for g in grads:
            grad.fill_(g)
            step += 1
            _fused_step(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps)
        got = float(param.item())
    except Exception:  # missing kernel for this device or dtype, a changed signature: use the fallback
        return False
    return abs(got - _adam_reference(1.0, grads, lr, beta1, beta2, eps)) <= 16 * torch.finfo(dtype).eps


def fused_adam_available(device: torch.device | str, dtype: torch.dtype = torch.float32) -> bool:
    """Whether :class:`FlatAdam` may use torch's fused Adam kernel on ``device`` for ``dtype``: the
    probe (:func:`_kernel_agrees`), run once per device type and dtype in a process."""
    device = torch.device(device)
    key = (device.type, dtype)
    if key not in _PROBED:
        _PROBED[key] = _kernel_agrees(device, dtype)
    return _PROBED[key]


class FlatAdam:
    """Adam (the module's equation) on one flat parameter (:func:`._torch_passes.flatten_parameters`)
    that updates ``flat`` from ``flat.grad`` at each :meth:`step`.

    ``fused`` says which path runs: torch's fused kernel where :func:`fused_adam_available` accepts
    it for ``flat``'s device and dtype (the same kernel and step count as
    ``torch.optim.Adam([flat], fused=True)``), else ``torch.optim.Adam([flat], foreach=False)``.
    Either way it has ``param_groups`` with an ``"lr"`` that :func:`._torch_train.train`'s schedule
    sets, and ``updates``, the number of steps taken (``Dense``'s cache of cast weights).
    """

    def __init__(self, flat: nn.Parameter, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.flat, self.betas, self.eps = flat, (float(betas[0]), float(betas[1])), float(eps)
        self.updates = 0
        self.fused = fused_adam_available(flat.device, flat.dtype)
        self._public: torch.optim.Adam | None = None
        if self.fused:
            self.param_groups: list[dict[str, float]] = [{"lr": float(lr)}]
            self.exp_avg = torch.zeros_like(flat.data)
            self.exp_avg_sq = torch.zeros_like(flat.data)
            self.steps = torch.zeros((), dtype=torch.float32, device=flat.device)
        else:
            self._public = torch.optim.Adam([flat], lr=float(lr), betas=self.betas, eps=self.eps, foreach=False)
            self.param_groups = self._public.param_groups

    def step(self) -> None:
        """One Adam update of ``flat`` from ``flat.grad`` (which it leaves as it is)."""
        self.updates += 1
        if self._public is not None:
            self._public.step()
            return
        self.steps += 1
        _fused_step(
            self.flat.data,
            self.flat.grad,
            self.exp_avg,
            self.exp_avg_sq,
            self.steps,
            self.param_groups[0]["lr"],
            self.betas[0],
            self.betas[1],
            self.eps,
        )
