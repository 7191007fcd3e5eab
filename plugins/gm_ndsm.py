"""Gaussian-mixture noising dynamics + nonlinear denoising score matching (seed 003; SPEC §2 item 8).

Seed 003 (§2.1, §3, Algorithms 1–3):

- prior η* = Σ w_k N(μ_k, Σ_k) fitted to the training points with scikit-learn
  (``GaussianMixture``, or ``BayesianGaussianMixture`` which infers the number of modes);
- noising dynamics ``dY = −∇V(Y) dt + sqrt(2) dW``, V = −log η* (eq. 3), Euler–Maruyama on a grid of
  ``n_forward`` steps of ``dt`` (Algorithm 1; 2-D examples: 50 steps of 0.00998);
- the NDSM loss (eq. 9) at a random step N whose last increment is ``dt_loss`` (Fig. 3:
  Δt_N = 0.001, the earlier steps 0.00998):
  ``½|s(Y_N, t_N)|² + Z_N · (s(Y_N, t_N) − s(μ_{N−1}, t_N)) / σ_{N−1}``, μ the Euler–Maruyama mean
  ``Y_{N−1} − ∇V(Y_{N−1}) Δt_N``, σ = sqrt(2 Δt_N); batches of ``paths`` paths × ``times_per_path``
  random steps (Remark 3.1; 2-D: 50 × 5 = 250);
- the neural control variate (Theorem 3.2, eq. 19–22): ``+ ε_φ(t_N) W_N``,
  ``W_N = s(μ_{N−1}, t_N) · Z_N / σ_{N−1}``, with φ (an MLP of t) updated every ``cv_every`` = 20
  steps by one Adam step on eq. (22), the mean squared deviation of the per-sample θ-gradients
  from their mean (Algorithm 3, line 7). Writing a_i = ∇θL_i − mean ∇θL and b_i = ∇θW_i, (22) is
  mean |a_i + ε_i b_i|² = const + mean(2 ε_i a_i·b_i + ε_i² |b_i|²): only the two scalars per sample
  are kept (per-sample gradients by ``torch.func``);
- sampling by Algorithm 2: x ~ η*, then ``n_denoise`` steps
  ``x ← x + (∇V(x) + 2 s(x, T − t_n)) Δ + sqrt(2Δ) Z``, Δ = T / n_denoise, T the latest trained time
  (n_forward − 1) · dt + Δt_N.

``nonlinear=False`` is the plain-DSM ablation on the same dynamics: the one-step Gaussian
transition's score as the target, ``½|s(Y_N)|² + Z_N · s(Y_N) / σ`` — eq. (13) before Theorem 3.1's
cancellation, i.e. ε ≡ 1 (seed 003 Fig. 2c: degraded, the variance diverges as Δt_N → 0).
``prior_only=True`` samples the fitted mixture itself (SPEC §2 item 8): what the denoiser adds.

Not in the paper: ``reg_covar`` (added to each fitted covariance, default ``dt``): the explicit
Euler step of ∇V is stable only while Δt · |Σ_k⁻¹| < 2, and a mixture fitted to data on a thin
manifold has near-singular covariances (the forward paths then blow up to inf).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Literal

import numpy as np

import genbench
from genbench.params import param

from ._neural import TimeEmbedding, TorchSampler


class GMNDSM(TorchSampler):
    """Score-based model with Gaussian-mixture noising dynamics, trained by NDSM (seed 003).

    Parameters
    ----------
    n_components:
        Mixture components (the upper bound for ``prior="bayesian"``).
    prior:
        ``"gmm"`` (scikit-learn ``GaussianMixture``) or ``"bayesian"`` (``BayesianGaussianMixture``).
    reg_covar:
        Added to each component's covariance diagonal; ``None``: ``dt`` (see the module docstring).
    control_variate:
        Train ε_φ (eq. 22) and add ε_φ(t) W to the loss; ``False``: ε = 0 (NDSM alone).
    nonlinear:
        ``False``: the plain-DSM ablation (ε ≡ 1, no control variate).
    prior_only:
        Sample the fitted mixture, no score network (a baseline).
    hidden, cv_hidden:
        Widths of the score MLP (GELU; paper 2-D: 7 × 32) and of ε_φ (ReLU; paper: 3 × 10).
    parametrization:
        ``"plain"``: s = MLP(x, t) (the paper); ``"residual"`` (default): s = −∇V(x) + MLP(x, t) / sqrt(2t),
        the prior's score (exact where the forward process has equilibrated) plus a correction scaled
        like the score of a transition of duration t. Measured on two_circles (M = 500, 2,000 steps):
        the plain network put 96 % of samples more than 0.1 off the circles (the steep score at
        t ~ 0.001 is not learned and wrecks the last denoising steps).
    time_embedding:
        How t enters the MLP: ``"raw"`` (the paper), ``"fourier"``, ``"log_fourier"`` (default; see
        ``_torchkit.TimeMLP``).
    n_forward, dt, dt_loss:
        Forward grid (paper: 50 steps of 0.00998) and the last increment Δt_N in the loss (0.001).
    n_denoise:
        Reverse steps in ``sample`` (paper: 1,000).
    paths, times_per_path:
        Forward paths per step and random steps per path (paper: 50 × 5).
    steps:
        Adam steps on θ (the budget; paper: 50,000, the ``paper`` profile). 750 by measurement (3
        seeds, README neural section): the metrics at 375 and 750 steps agree to the third digit;
        longer training makes a few samples of the swiss roll diverge (from 1,500 steps; at 3,000
        sliced W2 1.7 ± 1.7, 4 % of one seed's samples run off as far as |x| = 64: draws in the mixture's
        tails that the network, extrapolating, pushes outward; evaluating it only at its trained
        times does not help).
    lr, cv_lr, cv_every:
        Adam learning rates of θ (paper: 1e-3) and φ, and the φ-update period (paper: 20).
    schedule:
        ``"cosine"``: decay θ's learning rate to 0 over the budget; ``"constant"`` (the paper).

    ``max_seconds``: see :class:`~._neural.TorchSampler`.
    """

    name = "gm_ndsm"
    requires_packages = (*TorchSampler.requires_packages, "sklearn")
    preload = (*TorchSampler.preload, "sklearn.mixture")
    checking_params: ClassVar[dict] = {"steps": 25, "n_denoise": 50, "n_components": 2, "cv_every": 5}
    layer_widths = ("hidden", "cv_hidden")

    n_components: int = 8
    prior: Literal["gmm", "bayesian"] = "gmm"
    reg_covar: float | None = param(None, gt=0)
    control_variate: bool = True
    nonlinear: bool = True
    prior_only: bool = False
    hidden: tuple[int, ...] = (32,) * 7
    cv_hidden: tuple[int, ...] = (10, 10, 10)
    parametrization: Literal["residual", "plain"] = "residual"
    time_embedding: TimeEmbedding = "log_fourier"
    n_forward: int = 50
    dt: float = param(0.01, gt=0)
    dt_loss: float = param(0.001, gt=0)
    n_denoise: int = 1000
    paths: int = param(50, gt=0)
    times_per_path: int = param(5, gt=0)
    steps: int = 750
    cv_lr: float = param(1e-3, gt=0)
    cv_every: int = param(20, gt=0)

    @property
    def horizon(self) -> float:
        """T = (n_forward − 1) · dt + dt_loss, the latest time the network is trained at, where the
        denoising starts from the mixture."""
        return (self.n_forward - 1) * float(self.dt) + float(self.dt_loss)

    # --- the mixture prior -------------------------------------------------------------------
    def _fit_prior(self, X: np.ndarray, rng: np.random.Generator) -> None:
        """Fit η* to ``X`` with scikit-learn (one draw from ``rng``): ``weights_``, ``means_``, ``covariances_``."""
        from sklearn.mixture import BayesianGaussianMixture, GaussianMixture

        k = int(min(self.n_components, len(X)))
        reg = float(self.dt if self.reg_covar is None else self.reg_covar)
        kind = GaussianMixture if self.prior == "gmm" else BayesianGaussianMixture
        extra = {"weight_concentration_prior": 1.0 / k} if self.prior == "bayesian" else {}
        gm = kind(
            n_components=k,
            covariance_type="full",
            reg_covar=reg,
            max_iter=500,
            n_init=1,
            random_state=int(rng.integers(0, 2**31 - 1)),
            **extra,
        ).fit(X)
        keep = gm.weights_ > 1e-6  # a Bayesian mixture switches unused components off
        self.weights_ = gm.weights_[keep] / gm.weights_[keep].sum()
        self.means_ = gm.means_[keep]
        self.covariances_ = gm.covariances_[keep]

    def _prior_tensors(self, device):
        """η*'s means, precisions and log-normalisers as tensors on ``device`` (for :meth:`grad_V`)."""
        import torch

        prec = np.linalg.inv(self.covariances_)
        _, logdet = np.linalg.slogdet(self.covariances_)
        as_t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32), device=device)  # noqa: E731
        self._means_t, self._prec_t = as_t(self.means_), as_t(prec)
        self._logc_t = as_t(np.log(self.weights_) - 0.5 * logdet)

    def grad_V(self, y):
        """∇V(y) = −∇ log η*(y) = Σ_k r_k(y) Σ_k⁻¹ (y − μ_k), on a tensor of shape (n, d)."""
        import torch

        diff = y[:, None, :] - self._means_t[None]
        pd = torch.einsum("kij,nkj->nki", self._prec_t, diff)
        resp = torch.softmax(self._logc_t[None] - 0.5 * (diff * pd).sum(-1), dim=1)
        return (resp[..., None] * pd).sum(dim=1)

    def _score_with(self, net, x, t):
        """The score s(x, t) from the network's output (see ``parametrization``)."""
        out = net(x, t)
        if self.parametrization == "residual":
            out = out / (2.0 * t).sqrt() - self.grad_V(x)
        return out

    def _sample_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws from the fitted mixture η*."""
        comp = rng.choice(len(self.weights_), size=n, p=self.weights_)
        chol = np.linalg.cholesky(self.covariances_)
        z = rng.standard_normal((n, self.means_.shape[1]))
        return self.means_[comp] + np.einsum("nij,nj->ni", chol[comp], z)

    # --- training ----------------------------------------------------------------------------
    def fit(self, X: np.ndarray, *, rng: np.random.Generator) -> GMNDSM:
        """Fit the mixture, then the score network by NDSM(-CV) (Algorithm 3)."""
        self.check_params()
        import torch

        from . import _torchkit as tk

        X = np.asarray(X, dtype=np.float64)
        self._fit_prior(X, rng)
        device, gen = self._start(rng)
        self._prior_tensors(device)
        if self.prior_only:
            self.diagnostics_ = {"components": len(self.weights_), "steps": 0, "device": str(device)}
            return self

        data = tk.to_tensor(X, device)
        self.net_ = tk.TimeMLP(data.shape[1], self.hidden, "gelu", self.time_embedding).to(device)
        eps_net = self._control_variate_net(device)
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
        opt_cv = torch.optim.Adam(eps_net.parameters(), lr=self.cv_lr) if eps_net is not None else None
        step = self._training_step(self._forward_samples(data, gen), opt, eps_net, opt_cv)
        self._train(step, [opt])
        self.diagnostics_["components"] = len(self.weights_)
        if eps_net is not None:
            self.diagnostics_["cv_epsilon"] = self._cv_curve(eps_net)
        self.net_.eval()
        return self

    @property
    def _sigma(self) -> float:
        """σ = sqrt(2 Δt_N), the noise scale of the loss's last step."""
        return float(np.sqrt(2.0 * float(self.dt_loss)))

    def _control_variate_net(self, device):
        """ε_φ, an MLP of t that starts at ε = 0; ``None`` without a control variate."""
        if not (self.control_variate and self.nonlinear):
            return None
        import torch

        from . import _torchkit as tk

        eps_net = tk.mlp(1, self.cv_hidden, 1, "relu").to(device)
        with torch.no_grad():  # start at ε = 0 (NDSM itself): a random start partly undoes Theorem 3.1
            eps_net[-1].weight.zero_()
            eps_net[-1].bias.zero_()
        return eps_net

    def _forward_samples(self, data, gen, chunk: int = 25) -> Iterator[tuple]:
        """(Y_N, μ_{N−1}, Z_N, t_N) for one step after another, without end: the paths of ``chunk``
        steps are simulated together (the same draws, fewer, larger tensor ops)."""
        while True:
            yield from self._simulate(data, gen, chunk)

    def _simulate(self, data, gen, m: int) -> list[tuple]:
        """(Y_N, μ_{N−1}, Z_N, t_N) for m steps of paths × times_per_path samples each: fresh
        forward paths (Algorithm 1) for every step, simulated in one batch (Remark 3.1)."""
        import torch

        device, dt, dt_loss = self._device, float(self.dt), float(self.dt_loss)
        n_forward, k_times = int(self.n_forward), int(self.times_per_path)
        paths = min(int(self.paths), len(data))
        noise_grid = float(np.sqrt(2.0 * dt))
        with torch.no_grad():
            n_paths = m * paths
            idx = torch.randint(0, len(data), (n_paths,), generator=gen, device=device)
            y = data[idx]
            grid = [y]
            for _ in range(n_forward - 1):
                y = y - self.grad_V(y) * dt + noise_grid * torch.randn(y.shape, generator=gen, device=device)
                grid.append(y)
            grid_t = torch.stack(grid)  # (n_forward, n_paths, d): Y_0 … Y_{n_forward−1}
            n = torch.randint(1, n_forward + 1, (n_paths, k_times), generator=gen, device=device)
            which = torch.arange(n_paths, device=device).repeat_interleave(k_times)
            prev = grid_t[(n - 1).reshape(-1), which]
            mu = prev - self.grad_V(prev) * dt_loss
            z = torch.randn(mu.shape, generator=gen, device=device)
            y_n = mu + self._sigma * z
            t_n = ((n - 1).reshape(-1, 1).to(mu.dtype) * dt) + dt_loss
        size = paths * k_times
        return [tuple(a[i * size : (i + 1) * size] for a in (y_n, mu, z, t_n)) for i in range(m)]

    def _losses(self, s_y, s_mu, z):
        """Per-sample L (eq. 9, or eq. 13 when not nonlinear) and W (eq. 20)."""
        sigma = self._sigma
        w = (s_mu * z).sum(dim=1) / sigma
        if not self.nonlinear:
            return 0.5 * (s_y**2).sum(dim=1) + (z * s_y).sum(dim=1) / sigma, w
        return 0.5 * (s_y**2).sum(dim=1) + (z * (s_y - s_mu)).sum(dim=1) / sigma, w

    def _training_step(self, batches: Iterator[tuple], opt, eps_net, opt_cv) -> Callable[[int], Any]:
        """Step i: one Adam step of θ on the NDSM loss (+ ε_φ W), and of φ every ``cv_every`` steps."""

        def step(i: int):
            y_n, mu, z, t_n = next(batches)
            l, w = self._losses(self._score_with(self.net_, y_n, t_n), self._score_with(self.net_, mu, t_n), z)
            loss = l.mean()
            objective = loss + (eps_net(t_n).squeeze(1).detach() * w).mean() if eps_net is not None else loss
            opt.zero_grad(set_to_none=True)
            objective.backward()
            opt.step()
            if eps_net is not None and (i + 1) % self.cv_every == 0:
                self._update_cv(eps_net, opt_cv, y_n, mu, z, t_n)
            return loss

        return step

    def _update_cv(self, eps_net, opt_cv, y_n, mu, z, t_n) -> None:
        """One Adam step of φ on eq. (22) from per-sample θ-gradients."""
        import torch
        from torch.func import functional_call, grad, vmap

        params = {name: p.detach() for name, p in self.net_.named_parameters()}

        def one(p, yi, mi, zi, ti):
            net = lambda x, t: functional_call(self.net_, p, (x, t))  # noqa: E731
            s_y = self._score_with(net, yi[None], ti[None])
            s_mu = self._score_with(net, mi[None], ti[None])
            l_i, w_i = self._losses(s_y, s_mu, zi[None])
            return l_i[0], w_i[0]

        g_l = vmap(grad(lambda p, *a: one(p, *a)[0]), in_dims=(None, 0, 0, 0, 0))(params, y_n, mu, z, t_n)
        g_w = vmap(grad(lambda p, *a: one(p, *a)[1]), in_dims=(None, 0, 0, 0, 0))(params, y_n, mu, z, t_n)
        a = torch.cat([(g_l[k] - g_l[k].mean(0)).flatten(1) for k in params], dim=1)
        b = torch.cat([g_w[k].flatten(1) for k in params], dim=1)
        ab, bb = (a * b).sum(1), (b * b).sum(1)
        eps = eps_net(t_n).squeeze(1)
        cv_loss = (2.0 * eps * ab + eps**2 * bb).mean()
        opt_cv.zero_grad(set_to_none=True)
        cv_loss.backward()
        opt_cv.step()

    def _cv_curve(self, eps_net) -> list[list[float]]:
        """ε_φ(t) at six times from 0 to the horizon (the ``cv_epsilon`` diagnostic)."""
        import torch

        grid = torch.linspace(0.0, self.horizon, 6, device=self._device).reshape(-1, 1)
        with torch.no_grad():
            return [[float(t), float(e)] for t, e in zip(grid[:, 0], eps_net(grid)[:, 0], strict=True)]

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """Algorithm 2: draws from η*, then ``n_denoise`` reverse Euler–Maruyama steps."""
        x0 = self._sample_prior(n, rng)
        if self.prior_only:
            return x0
        import torch

        from . import _torchkit as tk

        gen = tk.generator(rng, self._device)
        horizon, steps = self.horizon, int(self.n_denoise)
        delta = horizon / steps
        noise = float(np.sqrt(2.0 * delta))
        with torch.no_grad():
            x = tk.to_tensor(x0, self._device)
            for j in range(steps):
                # The network was trained on t ∈ [Δt_N, T]: the last steps (t < Δt_N) reuse t = Δt_N
                # rather than extrapolate (the residual form divides by sqrt(2t)).
                t = torch.full((n, 1), max(horizon - j * delta, float(self.dt_loss)), device=self._device)
                x = x + (self.grad_V(x) + 2.0 * self._score_with(self.net_, x, t)) * delta
                x = x + noise * torch.randn(x.shape, generator=gen, device=self._device)
        return tk.to_numpy(x)


@genbench.hookimpl
def genbench_samplers():
    return [GMNDSM]
