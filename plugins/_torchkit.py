"""The small torch toolkit the neural samplers share (``ou_sgm``, ``gm_ndsm``, ``gan``, ``vae``;
``flow`` uses its loop and conversions), gathered under one name for ``from . import _torchkit``.

Not a sampler (the leading underscore keeps it out of the registry) and never imported by
genbench's core: the plugins import it inside ``fit``, so the module listing works without torch.
The samplers' base, :class:`._neural.TorchSampler`, calls :func:`setup` and :func:`train` for them.
It needs torch 2.4 or later (the floor of the ``neural`` and ``flow`` extras in ``pyproject.toml``).

- :mod:`._torch_nets`: :func:`mlp` (a multilayer perceptron from a list of widths) and
  :class:`TimeMLP` (time as extra inputs, raw or Fourier features).
- :mod:`._torch_passes`: :func:`flatten_parameters`, :func:`flat_grad`, :class:`Dense`,
  :func:`fast_bf16`: an MLP's forward and backward by hand, on parameters that are views of one
  flat tensor, with the same outputs and gradients as autograd.
- :mod:`._torch_adam`: :class:`FlatAdam`, Adam (Kingma & Ba 2015, Algorithm 1) on that flat tensor
  in one call of torch's private fused kernel where :func:`fused_adam_available` accepts it, through
  ``torch.optim.Adam`` otherwise.
- :mod:`._torch_train`: :func:`setup` (device, threads, seeds), :class:`Batches`, :func:`train`
  (the step-budgeted loop and its diagnostics), the numpy/torch conversions and :func:`warm`.

Why by hand: on one CPU thread a step of these small networks is mostly per-op overhead, which
autograd and ``Optimizer.step`` add to; ``benchmarks/bench_neural_step.py`` tracks the speed-up
over the plain autograd loop of the same network, with the same loss and updates.
"""

from __future__ import annotations

from ._torch_adam import FlatAdam, fused_adam_available
from ._torch_nets import ACTIVATIONS, TimeMLP, mlp
from ._torch_passes import Dense, fast_bf16, flat_grad, flatten_parameters
from ._torch_train import (
    Batches,
    device_name,
    generator,
    setup,
    standardizer,
    to_numpy,
    to_tensor,
    train,
    warm,
)

__all__ = [
    "ACTIVATIONS",
    "Batches",
    "Dense",
    "FlatAdam",
    "TimeMLP",
    "device_name",
    "fast_bf16",
    "flat_grad",
    "flatten_parameters",
    "fused_adam_available",
    "generator",
    "mlp",
    "setup",
    "standardizer",
    "to_numpy",
    "to_tensor",
    "train",
    "warm",
]
