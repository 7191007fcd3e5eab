"""asv benchmarks of the neural samplers' training step against a plain eager-torch loop (issue 24).

For each of ``ou_sgm``, ``gm_ndsm``, ``gan`` and ``vae``, :data:`PLAIN` holds the loop a user
would write for the same network, loss, optimiser, batch and data: ``nn.Sequential`` modules,
autograd, ``torch.optim.Adam`` with its defaults, ``zero_grad`` / ``backward`` / ``step``. The
sampler's own step is its ``fit`` with a short budget, timed by the training loop itself
(``diagnostics_["seconds"]`` over ``steps``: the loop only, not the set-up before it).

``track_speedup_vs_plain_loop`` runs the plain loop and the sampler alternately in the same
process on one thread, best of two each, and reports plain ms/step ÷ sampler ms/step (the goal:
≥ 2), so the ratio is comparable over commits even on a busy machine.

Run directly for the table (``python benchmarks/bench_neural_step.py [--repeats 3]``): per sampler
the median over repeats of each ms/step and of the ratio, one thread.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from collections.abc import Callable
from typing import ClassVar

import numpy as np

STEPS = 300  # per timing; ~0.2–1.5 s each at the defaults
SAMPLERS = ("ou_sgm", "gm_ndsm", "gan", "vae")


def _one_thread() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def two_circles(n: int = 500) -> np.ndarray:
    """Two concentric circles (radii 1 and 0.5), as the ``two_circles`` data set's shape."""
    rng = np.random.default_rng(0)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    radius = np.where(rng.random(n) < 0.5, 1.0, 0.5)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def _mlp(widths: list[int], act):
    from torch import nn

    layers = []
    for a, b in itertools.pairwise(widths[:-1]):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers, nn.Linear(widths[-2], widths[-1]))


def plain_ou_sgm(X: np.ndarray, steps: int) -> float:
    """``ou_sgm``'s default: 3 × 128 ReLU on [x_t, t, sin/cos(2π 2^k t), k < 6], batch 256, noise
    prediction (σ_t²-weighted DSM), Adam 5e-3 (cosine); returns seconds per step."""
    import torch
    from torch import nn

    net = _mlp([2 + 13, 128, 128, 128, 2], nn.ReLU)
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    data, freqs = torch.as_tensor(X, dtype=torch.float32), 2 * torch.pi * 2.0 ** torch.arange(6)
    t0 = time.perf_counter()
    for i in range(steps):
        for g in opt.param_groups:
            g["lr"] = 5e-3 * 0.5 * (1 + np.cos(np.pi * i / steps))
        x0 = data[torch.randint(0, len(data), (256,))]
        t = torch.randint(1, 101, (256, 1)) * 0.01
        z = torch.randn(x0.shape)
        xt = x0 * torch.exp(-2 * t) + (1 - torch.exp(-4 * t)).sqrt() * z
        out = net(torch.cat([xt, t, (t * freqs).sin(), (t * freqs).cos()], dim=1))
        loss = ((out - z) ** 2).sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / steps


def plain_vae(X: np.ndarray, steps: int) -> float:
    """``vae``'s default: encoder 2 → 128, 64, 32, 16 → 2, decoder 1 → 16 … 256 → 2, LeakyReLU,
    batch 128, MSE + 0.1 KL, Adam 2e-3 (cosine); seconds per step."""
    import torch
    from torch import nn

    act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
    enc, dec = _mlp([2, 128, 64, 32, 16, 2], act), _mlp([1, 16, 32, 64, 128, 256, 2], act)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=2e-3)
    data = torch.as_tensor(X, dtype=torch.float32)
    t0 = time.perf_counter()
    for i in range(steps):
        for g in opt.param_groups:
            g["lr"] = 2e-3 * 0.5 * (1 + np.cos(np.pi * i / steps))
        x = data[torch.randint(0, len(data), (128,))]
        mu, logvar = enc(x).chunk(2, dim=1)
        z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape)
        recon = ((dec(z) - x) ** 2).sum(dim=1).mean()
        kl = 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()
        opt.zero_grad()
        (recon + 0.1 * kl).backward()
        opt.step()
    return (time.perf_counter() - t0) / steps


def plain_gan(X: np.ndarray, steps: int) -> float:
    """``gan``'s default: G 1 → 16 … 256 → 2, D 2 → 512 … 16 → 1, LeakyReLU, batch 128, BCE
    (non-saturating G), Adam 5e-4, β₁ = 0.5 (cosine), one D then one G step; seconds per step."""
    import torch
    from torch import nn

    act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
    G, D = _mlp([1, 16, 32, 64, 128, 256, 2], act), _mlp([2, 512, 256, 128, 64, 32, 16, 1], act)
    opt_g = torch.optim.Adam(G.parameters(), lr=5e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=5e-4, betas=(0.5, 0.999))
    bce, data = nn.BCEWithLogitsLoss(), torch.as_tensor(X, dtype=torch.float32)
    ones, zeros = torch.ones(128, 1), torch.zeros(128, 1)
    t0 = time.perf_counter()
    for i in range(steps):
        for g in [*opt_g.param_groups, *opt_d.param_groups]:
            g["lr"] = 5e-4 * 0.5 * (1 + np.cos(np.pi * i / steps))
        real, fake = data[torch.randint(0, len(data), (128,))], G(torch.randn(128, 1))
        loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(D(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return (time.perf_counter() - t0) / steps


def plain_gm_ndsm(X: np.ndarray, steps: int) -> float:
    """``gm_ndsm``'s default: 7 × 32 GELU on [x, sin/cos(Bx), log-Fourier t], residual score
    s = MLP / sqrt(2t) − ∇V, NDSM loss + ε_φ W on 50 × 5 samples, Adam 3e-3 (cosine), ε_φ's
    step every 20 from per-sample gradients (``torch.func``, as Algorithm 3 reads). The prior, B
    and the forward paths are the sampler's own (``_simulate``, in the same chunks of 25 steps),
    so only the training step differs; seconds per step."""
    import torch
    from genbench_plugins import _torchkit as tk

    from genbench.api import make_sampler

    s = make_sampler("gm_ndsm", steps=1).fit(X, rng=np.random.default_rng(0))
    net = tk.TimeMLP(2 + 64, [32] * 7, "gelu", "log_fourier")
    net.net[-1] = torch.nn.Linear(32, 2)
    s.net_, eps_net = net, s._control_variate_net(torch.device("cpu"))
    opt, opt_cv = torch.optim.Adam(net.parameters(), lr=3e-3), torch.optim.Adam(eps_net.parameters(), lr=1e-3)
    data, gen = torch.as_tensor(X, dtype=torch.float32), torch.Generator().manual_seed(0)
    t0, batches = time.perf_counter(), []
    for i in range(steps):
        for g in opt.param_groups:
            g["lr"] = 3e-3 * 0.5 * (1 + np.cos(np.pi * i / steps))
        batches = batches or s._simulate(data, gen, 25)
        y_n, mu, z, t_n = batches.pop(0)
        l, w = s._losses(s._score_with(net, y_n, t_n), s._score_with(net, mu, t_n), z)
        opt.zero_grad()
        (l.mean() + (eps_net(t_n).squeeze(1).detach() * w).mean()).backward()
        opt.step()
        if (i + 1) % 20 == 0:
            a, b = s.per_sample_gradients(y_n, mu, z, t_n)
            eps = eps_net(t_n).squeeze(1)
            opt_cv.zero_grad()
            (2.0 * eps * (a * b).sum(1) + eps**2 * (b * b).sum(1)).mean().backward()
            opt_cv.step()
    return (time.perf_counter() - t0) / steps


PLAIN: dict[str, Callable[[np.ndarray, int], float]] = {
    "ou_sgm": plain_ou_sgm,
    "gm_ndsm": plain_gm_ndsm,
    "gan": plain_gan,
    "vae": plain_vae,
}


def sampler_step(name: str, X: np.ndarray, steps: int) -> float:
    """Seconds per step of the sampler's own training loop at its defaults (``steps`` of them)."""
    from genbench.api import make_sampler

    sampler = make_sampler(name, steps=steps).fit(X, rng=np.random.default_rng(0))
    return sampler.diagnostics_["seconds"] / steps


def compare(name: str, X: np.ndarray, steps: int = STEPS, best_of: int = 2) -> tuple[float, float]:
    """(plain, sampler) seconds per step, alternating, best of ``best_of`` each."""
    plain, fast = [], []
    for _ in range(best_of):
        plain.append(PLAIN[name](X, steps))
        fast.append(sampler_step(name, X, steps))
    return min(plain), min(fast)


class NeuralStep:
    """One training step of each neural sampler against its plain eager-torch loop, one thread."""

    params: ClassVar[list[str]] = list(SAMPLERS)
    param_names: ClassVar[list[str]] = ["sampler"]
    timeout = 600

    def setup(self, name: str) -> None:
        _one_thread()
        self.X = two_circles()

    def time_plain_loop(self, name: str) -> None:
        PLAIN[name](self.X, STEPS)

    def time_sampler_fit(self, name: str) -> None:
        sampler_step(name, self.X, STEPS)

    def track_speedup_vs_plain_loop(self, name: str) -> float:
        plain, fast = compare(name, self.X)
        return plain / fast

    track_speedup_vs_plain_loop.unit = "x plain loop"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("samplers", nargs="*", default=list(SAMPLERS))
    args = parser.parse_args()
    _one_thread()
    X = two_circles()
    print("sampler   plain ms/step   sampler ms/step   ratio   (median of", args.repeats, "alternating runs)")
    for name in args.samplers:
        runs = [compare(name, X, args.steps, best_of=1) for _ in range(args.repeats)]
        plain = statistics.median(p for p, _ in runs) * 1e3
        fast = statistics.median(f for _, f in runs) * 1e3
        ratio = statistics.median(p / f for p, f in runs)
        print(f"{name:8s}  {plain:13.3f}   {fast:15.3f}   {ratio:5.2f}", flush=True)


if __name__ == "__main__":
    main()
