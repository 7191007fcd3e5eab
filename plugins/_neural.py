"""The torch samplers' base (``ou_sgm``, ``gm_ndsm``, ``gan``, ``vae``).

Not a sampler (the leading underscore keeps it out of the registry). It imports without torch, so
the module listing and ``check_params`` (suite validation) work where torch is not installed;
torch and :mod:`._torchkit` are imported inside ``fit`` and ``sample`` only.

- :class:`TorchSampler`: what every torch sampler declares and does — the training budget
  (``steps``, ``lr``, ``schedule``, ``max_seconds``), the ``neural`` extra, the forkserver
  preload, the device and seeds of a fit (:meth:`~TorchSampler._start`) and the training loop that
  records ``diagnostics_`` (:meth:`~TorchSampler._train`).
- :class:`LatentSampler`: a push-forward of a latent variable trained on standardised minibatches
  (``gan``'s generator, ``vae``'s decoder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

import genbench
from genbench.params import param

if TYPE_CHECKING:
    import torch

    from ._torchkit import Batches


#: How time enters a score network (``_torchkit.TimeMLP``).
TimeEmbedding = Literal["raw", "fourier", "log_fourier"]


def check_widths(name: str, widths: Any) -> None:
    """A non-empty list of positive layer widths (one-line :class:`ValueError` naming it)."""
    ok = isinstance(widths, (list, tuple)) and len(widths) > 0
    ok = ok and all(not isinstance(w, bool) and isinstance(w, (int, np.integer)) and w >= 1 for w in widths)
    if not ok:
        raise ValueError(f"{name} must be a non-empty list of positive layer widths, got {widths!r}")


class TorchSampler(genbench.Sampler):
    """A sampler that trains a torch network for a budget of optimiser steps.

    A subclass declares its own parameters and re-declares a budget parameter to change its
    default (with the range: ``lr: float = param(5e-4, gt=0)``); it lists its hidden-width
    parameters in :attr:`layer_widths`. Its ``fit`` calls :meth:`_start` for the device and seeds
    and :meth:`_train` with one optimiser step; ``sample`` draws through
    ``_torchkit.generator(rng, self._device)``.

    Parameters
    ----------
    steps:
        Optimiser steps (the budget: deterministic, so a cell's numbers depend on its seed only).
    lr:
        Adam's initial learning rate.
    schedule:
        ``"cosine"``: decay the learning rate to 0 over the budget; ``"constant"`` (the papers).
    max_seconds:
        Wall-clock safety net on training (recorded in the row when hit); ``None``: none.
    """

    requires_packages = ("torch",)
    extra = "neural"
    preload = ("genbench_plugins._torchkit:warm",)
    budget_params = ("steps",)  # fewer steps than the default: marked budget-limited on the leaderboard

    #: Parameters that are lists of hidden-layer widths (checked by :meth:`check_params`).
    layer_widths: ClassVar[tuple[str, ...]] = ()

    steps: int = 16000
    lr: float = param(1e-3, gt=0)
    schedule: Literal["cosine", "constant"] = "cosine"
    max_seconds: float | None = param(600.0, gt=0)

    def check_params(self) -> None:
        """The declarations, then each of :attr:`layer_widths` a non-empty list of positive widths."""
        super().check_params()
        for name in self.layer_widths:
            check_widths(name, getattr(self, name))

    def _start(self, rng: np.random.Generator) -> tuple[torch.device, torch.Generator]:
        """Device, threads and seeds of a fit (``_torchkit.setup``, drawing from ``rng``); records
        the device (``device_``, ``backend_``, ``_device``)."""
        from . import _torchkit as tk

        device, gen = tk.setup(rng)
        self._device = device
        self.device_, self.backend_ = tk.device_name(device), "torch"
        return device, gen

    def _train(
        self,
        step: Callable[[int], dict[str, torch.Tensor] | torch.Tensor],
        optimizers: Sequence[torch.optim.Optimizer],
        batches: Batches | None = None,
    ) -> None:
        """``_torchkit.train`` with this sampler's ``steps``, ``max_seconds`` and ``schedule``; sets
        ``diagnostics_`` (with the epochs of ``batches``)."""
        from . import _torchkit as tk

        diagnostics = tk.train(
            step,
            steps=self.steps,
            max_seconds=self.max_seconds,
            device=self._device,
            optimizers=optimizers,
            schedule=self.schedule,
        )
        if batches is not None:
            diagnostics["epochs"] = batches.epochs
        self.diagnostics_ = diagnostics


class LatentSampler(TorchSampler):
    """A network pushing a latent variable forward (``gan``'s generator, ``vae``'s decoder),
    trained on standardised minibatches; ``sample`` decodes fresh latent draws (:meth:`_decode`).

    Parameters
    ----------
    latent_dim:
        Dimension of the latent variable (thesis: 1).
    latent:
        ``"normal"`` (N(0, I), default) or ``"uniform"`` (U[−5, 5]^k).
    batch_size:
        Training points per step.
    standardize:
        Train on standardised coordinates (each to mean 0, std 1; mapped back in ``sample``).
    """

    latent_dim: int = param(1, gt=0)
    latent: Literal["uniform", "normal"] = "normal"
    batch_size: int = param(128, gt=0)
    standardize: bool = True

    def _standardized(self, X: np.ndarray, device: torch.device) -> torch.Tensor:
        """The training points on ``device``, standardised when ``standardize`` (sets ``mean_``,
        ``scale_``)."""
        from . import _torchkit as tk

        X = np.asarray(X, dtype=np.float64)
        self.mean_, self.scale_ = tk.standardizer(X, self.standardize)
        return tk.to_tensor((X - self.mean_) / self.scale_, device)

    def _latent(self, n: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
        """``n`` latent draws: N(0, I) or U[−5, 5]^k."""
        import torch

        shape = (n, int(self.latent_dim))
        if self.latent == "uniform":
            return 10.0 * torch.rand(shape, generator=gen, device=device) - 5.0
        return torch.randn(shape, generator=gen, device=device)

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        """The fitted network applied to latent points ``z``."""
        raise NotImplementedError

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """Push ``n`` latent draws through the network (no output noise), in data coordinates."""
        import torch

        from . import _torchkit as tk

        gen = tk.generator(rng, self._device)
        with torch.no_grad():
            out = tk.to_numpy(self._decode(self._latent(n, gen, self._device)))
        return out * self.scale_ + self.mean_
