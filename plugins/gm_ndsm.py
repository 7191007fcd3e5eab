"""Gaussian-mixture noising dynamics + nonlinear denoising score matching (seed 003; SPEC §2 item 8).

Seed 003 (Birrell et al.), §2.1, §3, Algorithms 1–3, §4:

- prior η* = Σ w_k N(μ_k, Σ_k) (eq. 2) fitted to the training points with scikit-learn
  (``GaussianMixture``, or ``BayesianGaussianMixture`` which infers the number of modes);
- noising dynamics ``dY = −∇V(Y) dt + sqrt(2) dW``, V = −log η* (eq. 3), which leaves η* invariant,
  simulated on a grid s_0 = 0 < s_1 < … < s_{n_f−1} (Algorithm 1; paper 2-D: 50 steps of 0.00998);
- the NDSM loss (eq. 9) at a random step N ∈ {1, …, n_f} whose last increment is ``dt_loss``
  (§4, Fig. 3: Δt_N = 0.001, the earlier steps 0.00998):
  ``½|s(Y_N, t_N)|² + Z_N · (s(Y_N, t_N) − s(μ_{N−1}, t_N)) / σ_{N−1}``, with the Euler–Maruyama
  step of eq. (6) for that last increment: μ_{N−1} = Y_{N−1} − ∇V(Y_{N−1}) Δt_N, σ = sqrt(2 Δt_N),
  Y_N = μ_{N−1} + σ Z_N (eq. 12), t_N = s_{N−1} + Δt_N; batches of ``paths`` paths ×
  ``times_per_path`` random steps (Remark 3.1; 2-D: 50 × 5 = 250). Theorem 3.1 needs only this
  last transition to be Gaussian: the earlier steps may be any Markov chain (the paper's own
  remark after Algorithm 3 lets them differ from Δt_N);
- the neural control variate (Theorem 3.2, eq. 19–22): ``+ ε_φ(t_N) W_N``,
  ``W_N = s(μ_{N−1}, t_N) · Z_N / σ_{N−1}`` (eq. 20), with φ (an MLP of t) updated every ``cv_every``
  = 20 steps by one Adam step on eq. (22), the mean squared deviation of the per-sample
  θ-gradients from their mean (Algorithm 3, line 7). Writing a_i = ∇θL_i − mean ∇θL and
  b_i = ∇θW_i, (22) is mean |a_i + ε_i b_i|² = const + mean(2 ε_i a_i·b_i + ε_i² |b_i|²): only the
  two scalars per sample are kept (per-sample gradients by ``torch.func``);
- sampling by Algorithm 2: x ~ η*, then ``n_denoise`` steps of the reverse SDE
  ``dx = (∇V(x) + 2 s(x, T − t)) dt + sqrt(2) dW`` from T (the latest trained time,
  s_{n_f−1} + Δt_N) down to 0.

``nonlinear=False`` is the plain-DSM ablation on the same dynamics: the one-step Gaussian
transition's score as the target, ``½|s(Y_N)|² + Z_N · s(Y_N) / σ`` — eq. (13) before Theorem 3.1's
cancellation, i.e. ε ≡ 1 (seed 003 Fig. 2c: degraded, the variance diverges as Δt_N → 0).
``prior_only=True`` samples the fitted mixture itself (SPEC §2 item 8): what the denoiser adds.

**Departures from the paper** (the defaults; each has a parameter that restores the paper, and the
``paper`` profile of the ``neural`` suite sets them all), chosen by measurement on two_circles
(M = 500) and the 2-D swiss roll (scale 0.1, M = 1,500): docs/measurements/neural.md, "Earlier
runs behind the defaults", and docs/neural.md.

1. ``integrator="component_ou"`` for the steps before the loss's last one: from y, draw a component
   k with probability r_k(y) = w_k N_k(y) / η*(y) (its responsibility), then move y by the *exact*
   transition of that component's Ornstein–Uhlenbeck process ``dY = −Σ_k⁻¹(Y − μ_k) dt + sqrt(2) dW``
   over Δt_n: ``μ_k + e^{−Σ_k⁻¹Δt}(y − μ_k) + (Σ_k(I − e^{−2Σ_k⁻¹Δt}))^{1/2} Z``. The first move is
   a Gibbs step on the joint law w_k N_k(y) of (k, y) and the second leaves N_k invariant, so the
   chain leaves η* invariant *exactly*, for any step and any Σ_k (no stability bound); its mean
   increment is −∇V(y) Δt + O(Δt²) and its covariance 2Δt I + O(Δt²), so it is a first-order
   (weak) scheme of eq. (3), exact on each Gaussian component. ``"euler"`` is Algorithm 1 as
   printed: y ← y − ∇V(y) Δt + sqrt(2Δt) Z, stable only while Δt·λ_max(Σ_k⁻¹) < 2 and, at the
   step sizes used, not invariant: NDSM then learns the chain's score, not η*'s.
2. ``reg_covar`` (not in the paper; added by scikit-learn to each fitted covariance): default
   ``2 · dt_loss`` with ``component_ou``, so that the loss's one Euler step (eq. 6) has
   Δt_N · λ_max(Σ_k⁻¹) ≤ 0.5 (thin components of a small ``reg_covar`` break that bound and the fit
   degrades); ``dt`` with ``euler`` (its stability bound; the previous default).
3. ``time_grid="geometric"``: s_1 … s_{n_f−1} geometric from 2Δt_N to (n_f − 1)·dt (so T is the
   paper's), and the reverse steps geometric from T to Δt_N. A thin component relaxes in time
   ~λ_min(Σ_k)/2, far below the paper's step on thin data, so on the paper's uniform grid every
   training time but t_1 = Δt_N sees the thin directions already at equilibrium, where the score
   *is* the prior's; what the prior misses about a thin support is learnt only at small t.
   ``"uniform"``: the paper's n_f − 1 steps of ``dt`` and Algorithm 2's n_denoise equal steps.
4. ``reverse_step="split"``: each reverse step is the ``component_ou`` move of the prior's own
   Langevin dynamics (exact for η*) followed by the correction's drift 2(s + ∇V)Δ, a Lie
   splitting of the same reverse SDE (with s = −∇V, i.e. no learnt correction, it samples η*
   exactly). ``"euler"``: Algorithm 2 as printed.
5. ``denoise_last=True``: the reverse chain stops at τ = Δt_N, the smallest trained time, and the
   last step is Tweedie's posterior mean of the loss's Gaussian step (eq. 12):
   E[μ | Y = y] = y + 2τ s(y, τ), then x = μ + τ ∇V(μ) undoes the drift to first order.
   ``False``: a last ordinary step with t held at Δt_N (the network is never evaluated below it).
6. The score network: ``parametrization="residual"``, s = −∇V(x) + MLP(x, t) / sqrt(2t) (the prior's
   score, exact once the forward process has equilibrated, plus a correction scaled like the
   score of a transition of duration t); log-Fourier time features; and ``x_features`` random
   Fourier features of x, [x, sin(Bx), cos(Bx)], fixed B with uniform random directions and
   log-uniform frequencies between 1/L (L the training points' RMS distance to their mean) and
   1/sqrt(2Δt_N) (the finest length the smallest trained time resolves). At t = Δt_N the exact
   score of a thin training set differs from the prior's by a steep ramp across a narrow band
   around the support, which the paper's MLP on [x, t] barely learns and the Fourier features
   learn quickly — the spectral bias of MLPs (Tancik et al. 2020). ``x_features=0`` is the
   paper's MLP on [x, t].
7. Budget: 4,000 Adam steps at lr 3e-3 with cosine decay (paper: 50,000 at 1e-3, constant).

Training (the same losses and updates as the autograd loop): the score network's forward and
backward by hand (``_torchkit.Dense``) on Y_N and μ_{N−1} in one pass, with the θ-free parts of s
(features, time features, ∇V) computed for 25 steps at once; Adam in one fused kernel
(``_torchkit.FlatAdam``); eq. (22)'s two scalars per sample in closed form (``_cv_terms``) instead
of ``torch.func``'s per-sample gradients; and in the forward chain the responsibilities' softmax
by hand and the component drawn by inverse CDF. The speed-up: docs/measurements/neural.md, "The
training step".

Not changed: the NDSM loss (9), W (20), the ε_φ objective (22) and its update period; the
paper's ``n_forward`` = 50, Δt_N = 0.001, 50 × 5 batches and 1,000 reverse steps.
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
        Added to each component's covariance diagonal; ``None``: ``2 · dt_loss`` with the
        ``component_ou`` integrator, ``dt`` with ``euler`` (module docstring, item 2).
    control_variate:
        Train ε_φ (eq. 22) and add ε_φ(t) W to the loss; ``False``: ε = 0 (NDSM alone).
    nonlinear:
        ``False``: the plain-DSM ablation (ε ≡ 1, no control variate).
    prior_only:
        Sample the fitted mixture, no score network (a baseline).
    hidden, cv_hidden:
        Widths of the score MLP (GELU; paper 2-D: 7 × 32) and of ε_φ (ReLU; paper: 3 × 10).
    parametrization:
        ``"residual"`` (default): s = −∇V(x) + MLP / sqrt(2t); ``"plain"``: s = MLP(x, t) (the paper),
        which learnt next to nothing on two_circles (docs/neural.md).
    time_embedding:
        How t enters the MLP: ``"raw"`` (the paper), ``"fourier"``, ``"log_fourier"`` (default; see
        ``_torchkit.TimeMLP``).
    x_features:
        Random Fourier features of x fed to the MLP beside x (module docstring, item 6); 0: x alone
        (the paper).
    integrator:
        The forward steps before the loss's last one: ``"component_ou"`` (default, leaves η*
        invariant exactly) or ``"euler"`` (Algorithm 1 as printed); module docstring, item 1.
    time_grid:
        ``"geometric"`` (default) or ``"uniform"`` (the paper): the forward grid and the reverse
        steps (item 3).
    reverse_step:
        ``"split"`` (default; item 4) or ``"euler"`` (Algorithm 2 as printed).
    denoise_last:
        End with Tweedie's posterior mean at t = Δt_N (item 5); ``False``: the paper's last step.
    n_forward, dt, dt_loss:
        Forward grid (paper: 50 steps of 0.00998; with ``time_grid="geometric"`` ``dt`` only sets
        its end, (n_forward − 1) · dt) and the last increment Δt_N in the loss (0.001).
    n_denoise:
        Reverse steps in ``sample`` (paper: 1,000).
    paths, times_per_path:
        Forward paths per step and random steps per path (paper: 50 × 5).
    steps:
        Adam steps on θ (the budget; paper: 50,000, the ``paper`` profile). 4,000, chosen by
        measurement (docs/measurements/neural.md, "Convergence of the defaults").
    lr, cv_lr, cv_every:
        Adam learning rates of θ (paper: 1e-3; default 3e-3, chosen by measurement:
        docs/measurements/neural.md) and φ, and the φ-update period (paper: 20).
    schedule:
        ``"cosine"``: decay θ's learning rate to 0 over the budget; ``"constant"`` (the paper).

    ``max_seconds``: see :class:`~._neural.TorchSampler`.
    """

    name = "gm_ndsm"
    requires_packages = (*TorchSampler.requires_packages, "sklearn")
    preload = (*TorchSampler.preload, "sklearn.mixture")
    checking_params: ClassVar[dict] = {"steps": 25, "n_denoise": 50, "n_components": 2, "cv_every": 5}
    #: seed 003 §4 as printed (Algorithms 1–2): a plain MLP on [x, t], Euler steps on a uniform grid, no
    #: final denoising, and no covariance regularisation beyond scikit-learn's own 1e-6
    paper_method: ClassVar[dict] = {
        "parametrization": "plain",
        "time_embedding": "raw",
        "x_features": 0,
        "integrator": "euler",
        "time_grid": "uniform",
        "reverse_step": "euler",
        "denoise_last": False,
        "reg_covar": 1e-6,
    }
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
    x_features: int = param(32, ge=0)
    integrator: Literal["component_ou", "euler"] = "component_ou"
    time_grid: Literal["geometric", "uniform"] = "geometric"
    reverse_step: Literal["split", "euler"] = "split"
    denoise_last: bool = True
    n_forward: int = 50
    dt: float = param(0.01, gt=0)
    dt_loss: float = param(0.001, gt=0)
    n_denoise: int = 1000
    paths: int = param(50, gt=0)
    times_per_path: int = param(5, gt=0)
    steps: int = 4000
    lr: float = param(3e-3, gt=0)
    cv_lr: float = param(1e-3, gt=0)
    cv_every: int = param(20, gt=0)

    @property
    def horizon(self) -> float:
        """T = (n_forward − 1) · dt + dt_loss, the latest time the network is trained at, where the
        denoising starts from the mixture."""
        return (self.n_forward - 1) * float(self.dt) + float(self.dt_loss)

    def forward_grid(self) -> np.ndarray:
        """s_0 = 0 < s_1 < … < s_{n_forward−1} = (n_forward − 1) · dt: the forward chain's times
        (Algorithm 1); a training time is t_N = s_{N−1} + dt_loss. ``"uniform"``: steps of ``dt``
        (the paper); ``"geometric"``: s_1 … geometric from 2 · dt_loss (module docstring, item 3)."""
        n, end = int(self.n_forward), (int(self.n_forward) - 1) * float(self.dt)
        if self.time_grid == "uniform" or n <= 2:
            return np.arange(n) * float(self.dt)
        return np.concatenate([[0.0], np.geomspace(min(2.0 * float(self.dt_loss), end), end, n - 1)])

    def reverse_grid(self) -> np.ndarray:
        """τ_0 = T > τ_1 > … > τ_{n_denoise} = 0, the times of Algorithm 2's steps: ``n_denoise``
        equal steps (``"uniform"``), or geometric from T to dt_loss and a last step to 0."""
        horizon, n = self.horizon, int(self.n_denoise)
        if self.time_grid == "uniform" or n < 2:
            return np.linspace(horizon, 0.0, n + 1)
        return np.concatenate([np.geomspace(horizon, float(self.dt_loss), n), [0.0]])

    # --- the mixture prior -------------------------------------------------------------------
    def _reg_covar(self) -> float:
        if self.reg_covar is not None:
            return float(self.reg_covar)
        return float(self.dt) if self.integrator == "euler" else 2.0 * float(self.dt_loss)

    def _fit_prior(self, X: np.ndarray, rng: np.random.Generator) -> None:
        """Fit η* to ``X`` with scikit-learn (one draw from ``rng``): ``weights_``, ``means_``, ``covariances_``."""
        from sklearn.mixture import BayesianGaussianMixture, GaussianMixture

        k = int(min(self.n_components, len(X)))
        kind = GaussianMixture if self.prior == "gmm" else BayesianGaussianMixture
        extra = {"weight_concentration_prior": 1.0 / k} if self.prior == "bayesian" else {}
        gm = kind(
            n_components=k,
            covariance_type="full",
            reg_covar=self._reg_covar(),
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
        """η*'s means, precisions, log-normalisers and eigendecompositions as tensors on ``device``
        (for :meth:`grad_V` and :meth:`component_ou_step`)."""
        import torch

        prec = np.linalg.inv(self.covariances_)
        _, logdet = np.linalg.slogdet(self.covariances_)
        evals, evecs = np.linalg.eigh(self.covariances_)
        as_t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32), device=device)  # noqa: E731
        self._means_t, self._prec_t = as_t(self.means_), as_t(prec)
        self._logc_t = as_t(np.log(self.weights_) - 0.5 * logdet)
        self._evals_t, self._evecs_t = as_t(evals), as_t(evecs)

    def _responsibilities(self, y):
        """(r_k(y), Σ_k⁻¹(y − μ_k)) for a tensor of shape (n, d): shapes (n, K) and (n, K, d)."""
        import torch

        diff = y[:, None, :] - self._means_t[None]
        pd = torch.einsum("kij,nkj->nki", self._prec_t, diff)
        logits = self._logc_t[None] - 0.5 * (diff * pd).sum(-1)
        # The softmax by hand: torch.softmax over a short last dimension (K = 8) measured ~0.7 ms
        # on (1,250, 8) on one thread, these four ops ~0.03 ms.
        e = (logits - logits.amax(dim=1, keepdim=True)).exp()
        return e / e.sum(dim=1, keepdim=True), pd

    def grad_V(self, y):
        """∇V(y) = −∇ log η*(y) = Σ_k r_k(y) Σ_k⁻¹ (y − μ_k) (eq. 3), on a tensor of shape (n, d)."""
        resp, pd = self._responsibilities(y)
        return (resp[..., None] * pd).sum(dim=1)

    def component_ou_step(self, y, h: float, gen):
        """One step of duration ``h`` of the noising dynamics (3) that leaves η* invariant exactly:
        k ~ r_k(y), then the exact transition of component k's OU process (module docstring, item 1)."""
        import torch

        # k by inverse CDF (one uniform per row): torch.multinomial draws n × K exponentials
        # (measured ~0.6 ms on (1,250, 8), most of a forward step's cost).
        cdf = self._responsibilities(y)[0].cumsum(dim=1)
        u = torch.rand((len(y), 1), generator=gen, device=y.device) * cdf[:, -1:]
        k = (cdf < u).sum(dim=1).clamp_max(cdf.shape[1] - 1)
        decay_k = torch.exp(-h / self._evals_t)  # per component, then per row (K ≪ n)
        spread_k = torch.sqrt(self._evals_t * (1.0 - decay_k * decay_k))
        evecs, mean, decay, spread = self._evecs_t[k], self._means_t[k], decay_k[k], spread_k[k]
        coords = torch.einsum("nji,nj->ni", evecs, y - mean)  # y − μ_k in Σ_k's eigenbasis
        z = torch.randn(y.shape, generator=gen, device=y.device)
        coords = decay * coords + spread * z
        return mean + torch.einsum("nij,nj->ni", evecs, coords)

    def euler_step(self, y, h: float, gen):
        """One Euler–Maruyama step of (3) (Algorithm 1, line 5)."""
        import torch

        noise = torch.randn(y.shape, generator=gen, device=y.device)
        return y - self.grad_V(y) * h + float(np.sqrt(2.0 * h)) * noise

    def _features(self, x):
        """The MLP's input: x, and [sin(Bx), cos(Bx)] with ``x_features`` > 0."""
        import torch

        if not int(self.x_features):
            return x
        xb = x @ self._freqs_t
        return torch.cat([x, xb.sin(), xb.cos()], dim=1)

    def _score_with(self, net, x, t):
        """The score s(x, t) from the network's output (see ``parametrization``)."""
        out = net(self._features(x), t)
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
        lam = 1.0 / np.linalg.eigvalsh(self.covariances_).min()
        stiffness = {"dt_loss_lambda_max": round(float(lam * self.dt_loss), 4)}
        if self.prior_only:
            self.diagnostics_ = {"components": len(self.weights_), "steps": 0, "device": str(device), **stiffness}
            return self

        data = tk.to_tensor(X, device)
        self._freqs_t = self._fourier_frequencies(X, gen, device)
        dim = data.shape[1]
        self.net_ = tk.TimeMLP(dim + 2 * int(self.x_features), self.hidden, "gelu", self.time_embedding)
        self.net_.net[-1] = torch.nn.Linear(int(self.hidden[-1]), dim)  # the score has x's dimension
        self.net_ = self.net_.to(device)
        eps_net = self._control_variate_net(device)
        flat = tk.flatten_parameters(self.net_)
        opt = tk.FlatAdam(flat, lr=self.lr)
        opt_cv = torch.optim.Adam(eps_net.parameters(), lr=self.cv_lr) if eps_net is not None else None
        dense = tk.Dense(self.net_.net, flat)
        step = self._training_step(self._forward_samples(data, gen), dense, opt, eps_net, opt_cv)
        self._train(step, [opt])
        self.diagnostics_["components"] = len(self.weights_)
        self.diagnostics_.update(stiffness)
        self.cv_net_ = eps_net  # ε_φ (None without a control variate)
        if eps_net is not None:
            self.diagnostics_["cv_epsilon"] = self._cv_curve(eps_net)
        self.net_.eval()
        return self

    def _fourier_frequencies(self, X: np.ndarray, gen, device):
        """B (d × x_features): uniform random directions, frequencies log-uniform between 1/L (L the
        points' RMS distance to their mean) and 1/sqrt(2 dt_loss), drawn from ``gen``."""
        import torch

        d, m = X.shape[1], int(self.x_features)
        spread = float(np.sqrt(((X - X.mean(axis=0)) ** 2).sum(axis=1).mean())) or 1.0
        lo, hi = np.log(1.0 / spread), np.log(1.0 / np.sqrt(2.0 * float(self.dt_loss)))
        dirs = torch.randn((d, m), generator=gen, device=device)
        dirs = dirs / dirs.norm(dim=0, keepdim=True)
        u = torch.rand(m, generator=gen, device=device)
        return dirs * torch.exp(lo + (hi - lo) * u)[None]

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
        """Per step, without end: Z_N, t_N and what the training step feeds the network, the
        θ-free parts of s(x, t) at x = Y_N then μ_{N−1} (2 × paths × times_per_path rows, from
        :meth:`_simulate`): the MLP's input [features(x), embed(t)], the output's factor
        (1/sqrt(2t) or 1) and the added term (−∇V(x) or 0). The paths of ``chunk`` steps are simulated together and
        these computed for all of them at once (the same draws, fewer, larger tensor ops; the
        features and ∇V are ~25 small ops a step that do not depend on θ)."""
        import torch

        residual = self.parametrization == "residual"
        while True:
            steps = self._simulate(data, gen, chunk)
            with torch.no_grad():
                x = torch.stack([torch.cat([y_n, mu]) for y_n, mu, _, _ in steps])  # (chunk, 2n, d)
                t = torch.stack([torch.cat([t_n, t_n]) for _, _, _, t_n in steps])
                flat_x, flat_t = x.reshape(-1, x.shape[2]), t.reshape(-1, 1)
                inp = torch.cat([self._features(flat_x), self.net_.embed(flat_t)], dim=1).reshape(*x.shape[:2], -1)
                scale = (2.0 * t).rsqrt() if residual else torch.ones_like(t)
                shift = -self.grad_V(flat_x).reshape(x.shape) if residual else torch.zeros_like(x)
            for k, (_, _, z, t_n) in enumerate(steps):
                yield z, t_n, inp[k], scale[k], shift[k]

    def _simulate(self, data, gen, m: int) -> list[tuple]:
        """(Y_N, μ_{N−1}, Z_N, t_N) for m steps of paths × times_per_path samples each: fresh
        forward paths (Algorithm 1, with ``integrator``) for every step, simulated in one batch
        (Remark 3.1), then the loss's Euler step of dt_loss (eq. 6, 12) from a random Y_{N−1}."""
        import torch

        device, dt_loss = self._device, float(self.dt_loss)
        grid = self.forward_grid()
        n_forward, k_times = len(grid), int(self.times_per_path)
        paths = min(int(self.paths), len(data))
        move = self.component_ou_step if self.integrator == "component_ou" else self.euler_step
        with torch.no_grad():
            n_paths = m * paths
            idx = torch.randint(0, len(data), (n_paths,), generator=gen, device=device)
            y = data[idx]
            states = [y]
            for h in np.diff(grid):
                y = move(y, float(h), gen)
                states.append(y)
            grid_y = torch.stack(states)  # (n_forward, n_paths, d): Y_0 … Y_{n_forward−1}
            n = torch.randint(1, n_forward + 1, (n_paths, k_times), generator=gen, device=device)
            which = torch.arange(n_paths, device=device).repeat_interleave(k_times)
            prev = grid_y[(n - 1).reshape(-1), which]
            mu = prev - self.grad_V(prev) * dt_loss
            z = torch.randn(mu.shape, generator=gen, device=device)
            y_n = mu + self._sigma * z
            times = torch.as_tensor(grid, dtype=mu.dtype, device=device)
            t_n = (times[(n - 1).reshape(-1)] + dt_loss).reshape(-1, 1)
        size = paths * k_times
        return [tuple(a[i * size : (i + 1) * size] for a in (y_n, mu, z, t_n)) for i in range(m)]

    def _losses(self, s_y, s_mu, z):
        """Per-sample L (eq. 9, or eq. 13 when not nonlinear) and W (eq. 20)."""
        sigma = self._sigma
        w = (s_mu * z).sum(dim=1) / sigma
        if not self.nonlinear:
            return 0.5 * (s_y**2).sum(dim=1) + (z * s_y).sum(dim=1) / sigma, w
        return 0.5 * (s_y**2).sum(dim=1) + (z * (s_y - s_mu)).sum(dim=1) / sigma, w

    def _training_step(self, batches: Iterator[tuple], dense, opt, eps_net, opt_cv) -> Callable[[int], Any]:
        """Step i: one Adam step of θ on the NDSM loss (+ ε_φ W), and of φ every ``cv_every`` steps.

        The network runs once on Y_N and μ_{N−1} stacked (``dense``: ``_torchkit.Dense``, forward
        and backward by hand) and the loss's gradient with respect to s is written out: with
        ζ = Z_N / σ, L_i = ½|s(Y)|² + ζ·(s(Y) − s(μ)) (eq. 9; ζ·s(Y) for the plain-DSM ablation)
        and W_i = ζ·s(μ) (eq. 20), ∂/∂s(Y) = s(Y) + ζ and ∂/∂s(μ) = (ε_φ(t) − 1) ζ (0 for the
        ablation), each over the batch size — the gradients autograd took of :meth:`_losses`.
        """
        import torch

        sigma, nonlinear = self._sigma, bool(self.nonlinear)

        def step(i: int):
            z, t_n, inp, scale, shift = next(batches)
            n = len(z)
            s = torch.addcmul(shift, dense.forward(inp), scale)
            s_y, s_mu = s[:n], s[n:]
            zeta = z / sigma
            if nonlinear:
                loss = (0.5 * s_y.square().sum() + (zeta * (s_y - s_mu)).sum()) / n
                if eps_net is not None:
                    with torch.no_grad():
                        g_mu = zeta * (eps_net(t_n) - 1.0)
                else:
                    g_mu = -zeta
            else:
                loss = (0.5 * s_y.square().sum() + (zeta * s_y).sum()) / n
                g_mu = torch.zeros_like(zeta)
            dense.backward(torch.cat([s_y + zeta, g_mu]).mul_(scale).div_(n))
            opt.step()
            if eps_net is not None and (i + 1) % self.cv_every == 0:
                self._update_cv(eps_net, opt_cv, t_n, *self._cv_terms(dense, inp, scale, shift, zeta))
            return loss

        return step

    def per_sample_gradients(self, y_n, mu, z, t_n):
        """a_i = ∇θL_i − mean_i ∇θL_i and b_i = ∇θW_i, flattened (n × parameters): the two terms
        of eq. (22)'s per-sample gradient ∇θ(L_i + ε W_i) − mean ∇θL."""
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
        return a, b

    @staticmethod
    def _cv_terms(dense, inp, scale, shift, zeta):
        """(a_i·b_i, |b_i|²) of :meth:`per_sample_gradients` at the current θ, without forming the
        per-sample gradients: for a layer with inputs x and per-row output gradients δ, a sample's
        gradient is Σ_r δ_r x̃_rᵀ over its rows r (x̃ = [x, 1], the bias as a weight), and inner
        products of such sums are sums of (δ·δ')(x̃·x̃'). With rows Y_i and μ_i, ∂L_i/∂s(Y) = s(Y) + ζ,
        ∂L_i/∂s(μ) = −ζ and ∂W_i/∂s(μ) = ζ (W has no Y row): per layer, with M = mean_i ∇L_i,
        a_i·b_i = (δ^L_Y·δ^W)(x̃_Y·x̃_μ) + (δ^L_μ·δ^W)|x̃_μ|² − δ^Wᵀ M x̃_μ and |b_i|² = |δ^W|²|x̃_μ|².
        Far cheaper than ``torch.func``'s vmap(grad) (docs/measurements/neural.md)."""
        import torch

        n = len(zeta)
        s = torch.addcmul(shift, dense.forward(inp), scale)
        per_l = dense.deltas(torch.cat([s[:n] + zeta, -zeta]).mul_(scale))
        dense.forward(inp[n:])
        per_w = dense.deltas(zeta * scale[n:])
        ab = torch.zeros(n, device=zeta.device)
        bb = torch.zeros(n, device=zeta.device)
        for (d_l, x), (d_w, _) in zip(per_l, per_w, strict=True):
            x_y, x_mu, dl_y, dl_mu = x[:n], x[n:], d_l[:n], d_l[n:]
            xm2 = x_mu.square().sum(1) + 1.0
            m_w, m_b = d_l.t() @ x / n, d_l.sum(0) / n  # mean_i ∇L_i (weight, bias)
            ab += (dl_y * d_w).sum(1) * ((x_y * x_mu).sum(1) + 1.0) + (dl_mu * d_w).sum(1) * xm2
            ab -= (d_w * torch.addmm(m_b, x_mu, m_w.t())).sum(1)
            bb += d_w.square().sum(1) * xm2
        return ab, bb

    def _update_cv(self, eps_net, opt_cv, t_n, ab, bb) -> None:
        """One Adam step of φ on eq. (22) from a_i·b_i and |b_i|² (:meth:`_cv_terms`)."""
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

    def score(self, x: np.ndarray, t: float) -> np.ndarray:
        """The fitted score s(x, t) at points ``x`` (n × d) and one time t (after :meth:`fit`)."""
        import torch

        from . import _torchkit as tk

        with torch.no_grad():
            xt = tk.to_tensor(np.atleast_2d(x), self._device)
            tt = torch.full((len(xt), 1), float(t), device=self._device)
            return tk.to_numpy(self._score_with(self.net_, xt, tt))

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """Algorithm 2: draws from η*, then reverse steps on :meth:`reverse_grid` (``reverse_step``),
        the last one Tweedie's posterior mean when ``denoise_last``."""
        x0 = self._sample_prior(n, rng)
        if self.prior_only:
            return x0
        import torch

        from . import _torchkit as tk

        gen = tk.generator(rng, self._device)
        taus, dt_loss = self.reverse_grid(), float(self.dt_loss)
        with torch.no_grad():
            x = tk.to_tensor(x0, self._device)
            for j in range(len(taus) - 1):
                tau, delta = float(taus[j]), float(taus[j] - taus[j + 1])
                # The network was trained on t ∈ [Δt_N, T]: never evaluated below Δt_N.
                t = torch.full((n, 1), max(tau, dt_loss), device=self._device)
                s = self._score_with(self.net_, x, t)
                if self.denoise_last and j == len(taus) - 2:
                    mean = x + 2.0 * tau * s  # Tweedie: E[μ | Y = x] for Y = μ + sqrt(2τ) Z
                    x = mean + tau * self.grad_V(mean)
                elif self.reverse_step == "split":
                    x = self.component_ou_step(x, delta, gen) + 2.0 * (s + self.grad_V(x)) * delta
                else:
                    x = x + (self.grad_V(x) + 2.0 * s) * delta
                    x = x + float(np.sqrt(2.0 * delta)) * torch.randn(x.shape, generator=gen, device=self._device)
        return tk.to_numpy(x)


@genbench.hookimpl
def genbench_samplers():
    return [GMNDSM]
