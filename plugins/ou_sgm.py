"""Score-based generative model with an Ornstein–Uhlenbeck forward process (seed 004; SPEC §2 item 7).

Seed 004 (the MEng thesis), §2.3 and App. B.1, with α = 0, σ = sqrt(2β):

- forward  ``dX = −βX dt + sqrt(2β) dW`` on t ∈ [0, T], T = 1, prior N(0, I); exactly
  ``X_t | X_0 ~ N(X_0 e^{−βt}, (1 − e^{−2βt}) I)`` (thesis eq. 2.3's solution);
- denoising score matching (thesis eq. 2.16) with that exact conditional score
  ``−(x − x_0 e^{−βt}) / (1 − e^{−2βt})`` at the grid times t = jΔt, j = 1 … T/Δt, Δt = 0.01
  (j = 0 is skipped: there the target is singular);
- score network: MLP, 3 hidden layers × 256, ReLU, time as an input; Adam;
- sampling: Euler–Maruyama on the reverse SDE ``dY = [βY + 2β S(Y, T − t)] dt + sqrt(2β) dW``
  from Y_0 ~ N(0, I), Δt = 0.01. The thesis writes the score at ``jΔt`` in its discretisation
  (App. "Q_t^{p_T}"); the reverse SDE needs ``T − t``, which is what runs here.

Chosen by measurement (docs/measurements/neural.md): the loss weighting (``weighting="sigma2"``:
each time's squared error times its conditional variance 1 − e^{−2βt}, i.e. noise prediction —
the λ(t) ∝ 1/E‖∇log p(x_t|x_0)‖² = σ_t²/d that the thesis' §2.2.6 names as a good candidate, Song
et al. 2021's λ(t) = σ_t²; ``"none"`` is eq. 2.16 as printed, with no weight, dominated by the
smallest t), learning rate, batch size and β (thesis Fig. 5.7: β trades forward convergence
e^{−βT} against discretisation error ∝ βΔt). A slip in the thesis: its printed conditional score
(§2.2.6) has the opposite sign of ∇log p_t(x|x₀) = −(x − x₀e^{−βt}) / (1 − e^{−2βt}); the code
uses the right sign.

Departures from the thesis' discretisation, chosen by measurement (docs/measurements/neural.md,
"Earlier runs behind the defaults"; the ``paper`` profiles and paper-sgm / paper-sgm-beta keep
``time_grid="uniform"``, ``reverse_step="euler"``): the thesis' uniform grid jΔt never trains
below t = Δt, where σ_t = sqrt(1 − e^{−2βΔt}) (0.2 at β = 2), so the model never learns the score
finer than that and the chain ends on Tweedie's mean at that noise, which lies off a support
thinner than σ_t. The default grid is geometric in t from ``t_min`` to T, with ancestral reverse
steps (Ho et al. 2020 eq. 7 for the OU process).

Training: the network's forward and backward by hand (``_torchkit.Dense``), Adam in one fused
kernel on a flat parameter vector (``_torchkit.FlatAdam``), the per-time factors and time features
tabulated once for the grid, and times and noise drawn 32 steps at a time: the same loss and
updates as the plain autograd loop, faster per step (docs/measurements/neural.md, "The training
step").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Literal

import numpy as np

import genbench
from genbench.params import param

from ._neural import TimeEmbedding, TorchSampler


class OUSGM(TorchSampler):
    """OU-forward score-based model trained by denoising score matching (seed 004).

    Parameters
    ----------
    beta:
        OU rate β (thesis: β ≈ 0.95 ln μ for ½N(±μ, 1), Fig. 5.1; best β = 8 on its swiss roll).
        Default 2, chosen by measurement (docs/measurements/neural.md): the discretisation error
        grows like βΔt.
    horizon:
        T, the end of the forward process (thesis: 1).
    dt:
        Δt of the training times jΔt and of the reverse Euler–Maruyama steps (thesis: 0.01).
    hidden:
        Widths of the score MLP's hidden layers (thesis: 3 × 256; the ``paper`` profile). Default
        3 × 128, chosen by measurement (docs/measurements/neural.md): a step costs half as much,
        and at equal CPU time the narrower network is ahead.
    steps:
        Adam steps (the budget; the ``paper`` profile sets the thesis' 5,000 epochs). 16,000,
        chosen by measurement (docs/measurements/neural.md, "Convergence of the defaults").
    batch_size:
        Training points per step; each gets one random time.
    lr:
        Adam's initial learning rate (cosine-decayed by default). 5e-3, chosen by measurement at
        3 × 128 (docs/measurements/neural.md): it sheds off-support mass faster than 2e-3 and
        ends no worse.
    schedule:
        ``"cosine"``: decay it to 0 over the budget; ``"constant"``.
    weighting:
        ``"sigma2"`` (default) or ``"none"`` (eq. 2.16 as printed); see the module docstring.
    output:
        What the MLP outputs: ``"noise"`` (default): ε(x, t) with S = −ε / σ_t, σ_t² = 1 − e^{−2βt}
        (Ho et al. 2020's parametrisation: the score at small t is steep, ~1/σ_t, and an MLP with
        raw t as input learns it poorly; chosen by measurement, docs/measurements/neural.md);
        ``"score"``: S itself. The loss is the same DSM objective either way.
    time_grid:
        ``"geometric"`` (default): the training times and reverse steps t_1 = ``t_min`` … t_n = T
        evenly spaced in log t (n = T/Δt), so the score is learnt down to σ ≈ sqrt(2β t_min);
        ``"uniform"``: t_j = jΔt (the thesis). See the module docstring.
    t_min:
        The smallest time of the geometric grid (1e-5: σ = 0.006 at β = 2). It sets how fine a
        structure the model resolves, and so how readily it reproduces a tiny training set: on
        8 points of a circle (paper-generalisation) it copies them, where the thesis' uniform
        grid (σ ≥ 0.2) spreads mass along the circle (docs/measurements/neural.md). Raise it, or
        use ``time_grid="uniform"``, to generalise from very few points.
    time_embedding:
        The network's time features (``_torchkit.TimeMLP``): ``"log_fourier"`` (default: log t
        beside the Fourier features, which cannot tell 1e-5 from 1e-3), ``"fourier"``,
        ``"raw"`` (the thesis: t as an input).
    reverse_step:
        ``"ancestral"`` (default): each reverse step samples the forward process' posterior given
        Tweedie's estimate of the data point (Ho et al. 2020 eq. 7, for the OU process), which
        does not blow up on the geometric grid's long steps near T; ``"euler"``: Euler–Maruyama
        on the reverse SDE (the thesis). With the exact score of a thin Gaussian both return its
        spread (tests/test_neural.py); on the learnt scores they measured alike
        (docs/measurements/neural.md): the grid is what matters.
    denoise_last:
        Take the last reverse step without its noise (its mean: to first order in βΔt Tweedie's
        posterior mean of the data point). The thesis' Euler–Maruyama adds sqrt(2βΔt) noise on
        every step, the last included (std 0.32 at β = 5, Δt = 0.01), so samples land off a thin
        support however well the score is learned (docs/measurements/neural.md). ``False`` is the
        thesis as printed (the ``paper`` profile).

    ``max_seconds``: see :class:`~._neural.TorchSampler`.
    """

    name = "ou_sgm"
    checking_params: ClassVar[dict] = {"steps": 30, "hidden": (32, 32), "dt": 0.05}
    #: the thesis' (seed 004) method: score output, raw time input, Euler–Maruyama on a uniform grid, no
    #: loss weighting, no final denoising step — the report's `method` column says where a run departs
    paper_method: ClassVar[dict] = {
        "output": "score",
        "time_embedding": "raw",
        "time_grid": "uniform",
        "reverse_step": "euler",
        "weighting": "none",
        "denoise_last": False,
    }
    layer_widths = ("hidden",)

    beta: float = param(2.0, gt=0)
    horizon: float = param(1.0, gt=0)
    dt: float = param(0.01, gt=0)
    hidden: tuple[int, ...] = (128, 128, 128)
    batch_size: int = param(256, gt=0)
    lr: float = param(5e-3, gt=0)
    weighting: Literal["sigma2", "none"] = "sigma2"
    output: Literal["noise", "score"] = "noise"
    time_embedding: TimeEmbedding = "log_fourier"
    time_grid: Literal["geometric", "uniform"] = "geometric"
    t_min: float = param(1e-5, gt=0)
    reverse_step: Literal["ancestral", "euler"] = "ancestral"
    denoise_last: bool = True

    def check_params(self) -> None:
        """The declarations, then ``dt < horizon``."""
        super().check_params()
        if self.dt >= self.horizon:
            raise ValueError(f"dt must be smaller than horizon, got dt={self.dt!r}, horizon={self.horizon!r}")

    @property
    def n_times(self) -> int:
        """Grid times t_1 < … < t_{n_times} = T (``horizon / dt`` of them)."""
        return max(1, round(self.horizon / self.dt))

    def time_grid_points(self) -> np.ndarray:
        """t_0 = 0 < t_1 < … < t_n = T: the training times (t_1 … t_n, drawn uniformly over the
        index) and the reverse chain's steps. ``"uniform"``: t_j = jΔt (the thesis).
        ``"geometric"``: t_1 = ``t_min`` … t_n = T evenly spaced in log t."""
        n, horizon = self.n_times, float(self.horizon)
        if self.time_grid == "uniform" or n == 1:
            return np.arange(n + 1) * float(self.dt)
        return np.concatenate([[0.0], np.geomspace(min(float(self.t_min), horizon), horizon, n)])

    def fit(self, X: np.ndarray, *, rng: np.random.Generator) -> OUSGM:
        """Train the score network by DSM at the grid times (thesis eq. 2.16)."""
        self.check_params()
        import torch

        from . import _torchkit as tk

        device, gen = self._start(rng)
        data = tk.to_tensor(X, device)
        d = data.shape[1]
        self.dim_ = d
        self.net_ = tk.TimeMLP(d, self.hidden, "relu", self.time_embedding).to(device)
        flat = tk.flatten_parameters(self.net_)
        opt = tk.FlatAdam(flat, lr=self.lr)
        dense = tk.Dense(self.net_.net, flat)
        batches = tk.Batches(data, self.batch_size, gen)
        draws = self._training_draws(batches, gen)

        def step(_: int) -> torch.Tensor:
            inp, out_scale, z_term, weight, grad_scale = next(draws)
            r = torch.addcmul(z_term, dense.forward(inp), out_scale)  # S(x_t, t) − target
            loss = (r.square().sum(dim=1, keepdim=True) * weight).mean()
            dense.backward(r.mul_(grad_scale))
            opt.step()
            return loss

        self.net_.train()
        self._train(step, [opt], batches)
        self.net_.eval()
        return self

    def _training_draws(self, batches, gen, chunk: int = 32) -> Iterator[tuple]:
        """Per step, without end: the network's input [x_t, features(t)], the output's factor to
        the score, z/σ_t (so S − target = out · factor + z/σ_t), the loss weight and ∂loss/∂out
        per unit residual. The times, noise and x_t of ``chunk`` steps are drawn and formed
        together (the same draws as step by step, in fewer, larger ops: ~10 fewer small ops per
        step, ~0.04 ms of 0.7)."""
        import torch

        device, n_times = batches.X.device, self.n_times
        table, emb = self._time_table(batches.batch_size, device)
        while True:
            x0 = torch.stack([batches.next() for _ in range(chunk)])
            j = torch.randint(1, n_times + 1, x0.shape[:2], generator=gen, device=device)
            z = torch.randn(x0.shape, generator=gen, device=device)
            decay, sd, out_scale, target_scale, weight, grad_scale = table[j].unbind(2)
            inp = torch.cat([x0 * decay + sd * z, emb[j]], dim=2)
            yield from zip(inp, out_scale, z * target_scale, weight, grad_scale, strict=True)

    def _time_table(self, batch_size: int, device) -> tuple:
        """Per grid time t_j (row j, :meth:`time_grid_points`; row 0 unused), what a training step needs, computed once
        instead of every step: ``(n_times + 1, 6, 1)``: e^{−βt}, σ_t = sqrt(1 − e^{−2βt}), the
        output's factor to the score (−1/σ_t for ``"noise"``), 1/σ_t (the target is −z/σ_t, so
        S − target = out·factor + z/σ_t), the loss weight (σ_t² or 1) and
        ∂loss/∂out per unit residual (2 · weight · factor / batch); and the network's time
        features of each t (``TimeMLP.embed``)."""
        import torch

        beta = float(self.beta)
        t = torch.as_tensor(self.time_grid_points(), dtype=torch.float32, device=device)[:, None]
        var = torch.expm1(-2.0 * beta * t).neg().clamp_min(1e-12)
        sd = var.sqrt()
        out_scale = -1.0 / sd if self.output == "noise" else torch.ones_like(sd)
        weight = var if self.weighting == "sigma2" else torch.ones_like(var)
        cols = [torch.exp(-beta * t), sd, out_scale, 1.0 / sd, weight, 2.0 * weight * out_scale / batch_size]
        return torch.stack(cols, dim=1), self.net_.embed(t)

    def _score(self, x, t):
        """S(x, t) on tensors (t of shape (n, 1))."""
        out = self.net_(x, t)
        if self.output == "noise":
            out = -out / (-2.0 * float(self.beta) * t).expm1().neg().sqrt()
        return out

    def score(self, x: np.ndarray, t: float) -> np.ndarray:
        """The learned score S(x, t) at points ``x`` (shape ``(n, d)``) and time ``t``."""
        import torch

        from . import _torchkit as tk

        with torch.no_grad():
            xt = tk.to_tensor(x, self._device)
            tt = torch.full((len(xt), 1), float(t), device=self._device)
            return tk.to_numpy(self._score(xt, tt))

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """The reverse chain from N(0, I) at T down the grid t_n > … > t_1 > t_0 = 0, the score at
        each step's upper end (``reverse_step``; the last step without noise when
        ``denoise_last``)."""
        import torch

        from . import _torchkit as tk

        gen = tk.generator(rng, self._device)
        beta, grid = float(self.beta), self.time_grid_points()
        with torch.no_grad():
            y = torch.randn((n, self.dim_), generator=gen, device=self._device)
            for j in range(self.n_times, 0, -1):
                t, s = float(grid[j]), float(grid[j - 1])
                score = self._score(y, torch.full((n, 1), t, device=self._device))
                last = j == 1
                if self.reverse_step == "euler":  # dY = [βY + 2βS] dh + sqrt(2β) dW, h = t − s
                    y = y + (beta * y + 2.0 * beta * score) * (t - s)
                    std = float(np.sqrt(2.0 * beta * (t - s)))
                else:
                    y, std = self._ancestral(y, score, t, s)
                if not (last and self.denoise_last) and std > 0:
                    y = y + std * torch.randn(y.shape, generator=gen, device=self._device)
        return tk.to_numpy(y)

    def _ancestral(self, y, score, t: float, s: float):
        """Mean and std of the forward process' posterior X_s | X_t = y, X_0 = x̂_0 with Tweedie's
        x̂_0 = (y + σ_t² S(y, t)) / e^{−βt} (Ho et al. 2020 eq. 7 for the OU process here):
        mean = (e^{−β(t−s)} σ_s² y + e^{−βs} σ_{t|s}² x̂_0) / σ_t², variance σ_{t|s}² σ_s² / σ_t²,
        with σ_u² = 1 − e^{−2βu} and σ_{t|s}² = 1 − e^{−2β(t−s)}; at s = 0 it is x̂_0."""
        beta = float(self.beta)
        var_t, var_s, var_ts = (-np.expm1(-2.0 * beta * u) for u in (t, s, t - s))
        x0 = (y + var_t * score) / np.exp(-beta * t)
        mean = (np.exp(-beta * (t - s)) * var_s / var_t) * y + (np.exp(-beta * s) * var_ts / var_t) * x0
        return mean, float(np.sqrt(var_ts * var_s / var_t))


@genbench.hookimpl
def genbench_samplers():
    return [OUSGM]
