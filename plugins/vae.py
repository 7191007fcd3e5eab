"""Variational auto-encoder with the thesis' architecture (seed 004, App. B.3; SPEC §2 item 10).

Encoder d → 128, 64, 32, 16 → (mean, log-variance) of a latent (thesis: 1-D); decoder
latent → 16, 32, 64, 128, 256 → d; LeakyReLU, no dropout; loss = mean squared reconstruction
error + ``kl_weight`` × KL(q(z|x) ‖ N(0, I)) (Kingma & Welling 2014's ELBO with a Gaussian
decoder of fixed variance; the thesis states "MSE + KL" without a weight); Adam 5e-4; 460 epochs
in the thesis (the ``paper`` profile). Samples: the decoder's output for z ~ N(0, I) (or
U[−5, 5], thesis Fig. 5.15), without decoder noise.

Training runs the networks' forward and backward by hand (``_torchkit.Dense``) with Adam on one
flat parameter vector (``_torchkit.FlatAdam``): the same loss and updates as autograd and
``torch.optim.Adam``, at less than half the cost per step on one CPU thread
(docs/measurements/neural.md, "The training step"; ``benchmarks/bench_neural_step.py``).

Not stated, chosen by measurement (docs/measurements/neural.md): ``kl_weight``, batch size and
standardising the data. Like the GAN, the decoder is a continuous map of a connected latent
space, so samples bridge disconnected supports (thesis Theorem 3.1).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

import genbench
from genbench.params import param

from ._neural import LatentSampler


class VAE(LatentSampler):
    """VAE with the thesis' encoder and decoder (seed 004, App. B.3).

    Parameters
    ----------
    latent:
        Distribution ``sample`` decodes: ``"normal"`` (N(0, I), the prior; default) or
        ``"uniform"`` (U[−5, 5]^k, thesis Fig. 5.15's other panel).
    encoder, decoder:
        Hidden widths (thesis: 128 … 16 and 16 … 256).
    kl_weight:
        Weight of the KL term against the squared error summed over coordinates (β-VAE's β,
        Higgins et al. 2017; 1 is the ELBO with decoder variance ½).
    steps:
        Adam steps (the budget). 32,000, chosen by measurement (docs/measurements/neural.md,
        "Convergence of the defaults"). Not converged on two_circles: longer training keeps
        pulling the decoder's one curve tighter onto the circles.
    lr:
        Adam's initial learning rate (thesis: 5e-4, the ``paper`` profile). Default 2e-3 (cosine-
        decayed), chosen by measurement (docs/measurements/neural.md): ahead of 5e-4 at every
        budget.

    ``latent_dim``, ``batch_size``, ``standardize``, ``schedule`` and ``max_seconds``: see
    :class:`~._neural.LatentSampler` and :class:`~._neural.TorchSampler`.
    """

    name = "vae"
    checking_params: ClassVar[dict] = {"steps": 30, "encoder": (16, 16), "decoder": (16, 16)}
    #: the thesis' (seed 004) VAE: "MSE + KL" with KL weight 1, unstandardised data
    paper_method: ClassVar[dict] = {"kl_weight": 1.0, "standardize": False}
    layer_widths = ("encoder", "decoder")

    latent: Literal["normal", "uniform"] = "normal"  # the prior first
    encoder: tuple[int, ...] = (128, 64, 32, 16)
    decoder: tuple[int, ...] = (16, 32, 64, 128, 256)
    kl_weight: float = param(0.1, ge=0)
    steps: int = 32000
    lr: float = param(2e-3, gt=0)

    def fit(self, X: np.ndarray, *, rng: np.random.Generator) -> VAE:
        """Maximise the (weighted) ELBO with the reparameterisation trick."""
        self.check_params()
        import torch

        from . import _torchkit as tk

        device, gen = self._start(rng)
        data = self._standardized(X, device)
        d, k = data.shape[1], int(self.latent_dim)
        enc = tk.mlp(d, self.encoder, 2 * k, "leaky_relu").to(device)
        self.decoder_ = tk.mlp(k, self.decoder, d, "leaky_relu").to(device)
        flat = tk.flatten_parameters(enc, self.decoder_)
        opt = tk.FlatAdam(flat, lr=self.lr)
        enc_d, dec_d = tk.Dense(enc, flat), tk.Dense(self.decoder_, flat)
        batches = tk.Batches(data, self.batch_size, gen)
        kl_weight = float(self.kl_weight)
        scale = 1.0 / batches.batch_size

        def step(_: int) -> dict[str, torch.Tensor]:
            # By hand (module docstring): the gradients of recon + kl_weight · kl, with
            # z = μ + e^{logvar/2} ε (the reparameterisation trick).
            x = batches.next()
            mu, logvar = enc_d.forward(x).split(k, dim=1)
            std = (0.5 * logvar).exp()
            eps = torch.randn(mu.shape, generator=gen, device=device)
            diff = dec_d.forward(torch.addcmul(mu, std, eps)) - x
            recon = diff.square().sum() * scale
            var = std.square()
            kl = 0.5 * scale * (mu.square() + var - 1.0 - logvar).sum()
            g_z = dec_d.backward(diff.mul_(2.0 * scale), input_grad=True)
            g_mu = g_z + (kl_weight * scale) * mu
            g_logvar = 0.5 * (g_z * eps * std + (kl_weight * scale) * (var - 1.0))
            enc_d.backward(torch.cat([g_mu, g_logvar], dim=1))
            opt.step()
            return {"loss": recon + kl_weight * kl, "reconstruction": recon, "kl": kl}

        self._train(step, [opt], batches)
        self.decoder_.eval()
        return self

    def _decode(self, z):
        return self.decoder_(z)


@genbench.hookimpl
def genbench_samplers():
    return [VAE]
