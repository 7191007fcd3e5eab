"""A neural spline flow from a library: the yardstick for the neural samplers.

Durkan, Bekasov, Murray & Papamakarios 2019, *Neural Spline Flows* (NeurIPS): a stack of
autoregressive monotonic rational-quadratic spline transforms (their §3, eqs. 4–6, with the
autoregressive conditioner of §3.2) between the data and N(0, I), trained by maximum likelihood
(the change of variables, their eq. 1). The model is ``zuko.flows.NSF`` from the zuko library
(Rozet et al., https://github.com/probabilists/zuko) as a new user would take it: a few lines,
library defaults for the spline (``bins`` = 8 knots on [−5, 5], linear tails outside), Adam.

Why it is here: a benchmark is unfair to a method family when its own implementation of that
family is weaker than what a user gets from a well-kept library in an afternoon. This flow is the
first thing to read a neural sampler against (``neural`` suite, the main board;
docs/measurements/neural.md, "Against a library flow").

Ours around it: data standardised for training (each coordinate to mean 0, std 1; mapped back
when sampling) so that the splines' [−5, 5] box covers it, a cosine learning-rate decay over the
budget like the other neural samplers, and sampling that draws its base noise from the cell's
seeded ``torch.Generator`` (zuko's own ``sample`` draws from torch's global RNG) and pushes it
through the inverse transform, so the same seed gives bit-identical samples.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import genbench
from genbench.params import param

from ._neural import TorchSampler


class Flow(TorchSampler):
    """Neural spline flow (``zuko.flows.NSF``), maximum likelihood (Durkan et al. 2019).

    Parameters
    ----------
    transforms:
        Autoregressive spline transforms in the stack (zuko's default 3).
    hidden:
        Hidden widths of each transform's conditioner network (zuko's default (64, 64)).
    bins:
        Spline knots per coordinate (zuko's default 8).
    steps:
        Adam steps on minibatches (the budget).
    batch_size:
        Training points per step (all of them when there are fewer).
    lr:
        Adam's initial learning rate (cosine-decayed by default).
    standardize:
        Train on standardised coordinates (each to mean 0, std 1), mapped back in ``sample``.

    ``schedule`` and ``max_seconds``: see :class:`~._neural.TorchSampler`.
    """

    name = "flow"
    requires_packages = ("torch", "zuko")
    extra = "flow"
    checking_params: ClassVar[dict] = {"steps": 30, "hidden": (16, 16), "transforms": 1}
    layer_widths = ("hidden",)

    transforms: int = param(3, gt=0)
    hidden: tuple[int, ...] = (64, 64)
    bins: int = param(8, gt=1)
    steps: int = 3000
    batch_size: int = param(256, gt=0)
    lr: float = param(1e-3, gt=0)
    standardize: bool = True

    def fit(self, X: np.ndarray, *, rng: np.random.Generator) -> Flow:
        """Maximum likelihood on minibatches: minimise −mean log p(x) (Durkan et al. 2019, eq. 1)."""
        self.check_params()
        import torch
        import zuko

        from . import _torchkit as tk

        device, gen = self._start(rng)  # seeds torch's global RNG, which zuko's initialisation uses
        X = np.asarray(X, dtype=np.float64)
        self.mean_, self.scale_ = tk.standardizer(X, self.standardize)
        data = tk.to_tensor((X - self.mean_) / self.scale_, device)
        self.dim_ = d = data.shape[1]
        self.flow_ = zuko.flows.NSF(
            d, transforms=int(self.transforms), bins=int(self.bins), hidden_features=[int(w) for w in self.hidden]
        ).to(device)
        opt = torch.optim.Adam(self.flow_.parameters(), lr=self.lr)
        batches = tk.Batches(data, self.batch_size, gen)

        def step(_: int) -> torch.Tensor:
            loss = -self.flow_().log_prob(batches.next()).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss

        self.flow_.train()
        self._train(step, [opt], batches)
        self.flow_.eval()
        return self

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """Base draws z ~ N(0, I) from a generator seeded by ``rng``, pushed through the inverse
        transform, in data coordinates."""
        import torch

        from . import _torchkit as tk

        gen = tk.generator(rng, self._device)
        with torch.no_grad():
            dist = self.flow_()
            z = torch.randn((n, self.dim_), generator=gen, device=self._device)
            x = dist.transform.inv(z)
        return tk.to_numpy(x) * self.scale_ + self.mean_

    def log_prob(self, X: np.ndarray) -> np.ndarray:
        """The fitted density's log p at points ``X`` (data coordinates, with the standardisation's
        Jacobian)."""
        import torch

        from . import _torchkit as tk

        with torch.no_grad():
            x = tk.to_tensor((np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_, self._device)
            lp = tk.to_numpy(self.flow_().log_prob(x))
        return lp - float(np.sum(np.log(self.scale_)))


@genbench.hookimpl
def genbench_samplers():
    return [Flow]
