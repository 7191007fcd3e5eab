"""Generative adversarial network with the thesis' architecture (seed 004, App. B.2; SPEC §2 item 9).

Generator: latent (thesis: 1-D) → 16, 32, 64, 128, 256 → d, LeakyReLU; discriminator:
d → 512, 256, 128, 64, 32, 16 → 1, LeakyReLU, dropout 0.3, sigmoid; binary cross-entropy;
Adam 5e-4 for both; 960 epochs in the thesis (the ``paper`` profile); latent U[−5, 5] or
N(0, 1) (thesis Fig. 5.15 shows both). One discriminator step then one generator step per
training step; the generator minimises −log D(G(z)) (Goodfellow et al. 2014's non-saturating
form, the usual reading of "BCE for both"). The sigmoid and the BCE are fused (BCE with logits,
softplus(ℓ) − yℓ: the same loss, numerically stable).

Training runs both networks' forward and backward by hand (``_torchkit.Dense``), each with Adam on
one flat parameter vector (``_torchkit.FlatAdam``): the same losses and updates as autograd and
``torch.optim.Adam``; D sees the real and the generated batch in one pass, and the generator's
step back-propagates through D without computing D's parameter gradients (which the autograd
loop computed and then discarded). The speed-up: docs/measurements/neural.md, "The training step"
(``benchmarks/bench_neural_step.py``).

Not stated in the thesis, chosen by measurement (docs/measurements/neural.md): batch size, Adam's
β₁, the LeakyReLU slope (0.2), and standardising the data (each coordinate to mean 0, std 1 for
training, mapped back when sampling). Departing from the thesis, by measurement: the default
latent is N(0, 1) and the discriminator has no dropout (see ``dropout``; the ``paper`` profile
restores U[−5, 5] and 0.3). A GAN is a push-forward of a connected latent space, so
its samples connect disconnected supports (thesis Theorem 3.1): read ``off_support`` beside
the accuracy metrics.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

import genbench
from genbench.params import param

from ._neural import LatentSampler

BF16_MIN_WEIGHTS = 65_536


class GAN(LatentSampler):
    """GAN with the thesis' generator and discriminator (seed 004, App. B.2).

    Parameters
    ----------
    latent:
        ``"normal"`` (N(0, I), default) or ``"uniform"`` (U[−5, 5]^k, the thesis' first choice and
        the ``paper`` profile's). See ``dropout``.
    generator, discriminator:
        Hidden widths (thesis: 16 … 256 and 512 … 16).
    dropout:
        Dropout of the discriminator's hidden layers (thesis: 0.3, the ``paper`` profile). Default
        0 with a normal latent, chosen by measurement (docs/measurements/neural.md): with the
        thesis' U[−5, 5] and dropout 0.3 the metrics do not settle, and a step costs more.
    steps:
        Training steps, each ``d_steps`` discriminator updates then one generator update (the
        budget). 8,000, chosen by measurement (docs/measurements/neural.md, "Convergence of the
        defaults"): less mass off the support and a smaller spread over seeds than 4,000, at the
        price of less balanced masses on two_circles.
    d_steps:
        Discriminator updates per step, each on a fresh real and generated batch (thesis: 1;
        WGAN's n_critic, Arjovsky et al. 2017). 2 was measured (docs/measurements/neural.md) and
        not taken: less mass off the support sooner, but unbalanced masses on two_circles, at
        nearly twice the cost per step.
    batch_size:
        Real (and as many generated) points per step.
    lr:
        Adam learning rate of both networks (thesis: 5e-4).
    beta1:
        Adam's β₁ for both (0.9 is Adam's default; DCGAN's 0.5 is common for GANs).
    precision:
        ``"auto"`` (default: bfloat16 on a CPU with AMX tiles, ``_torchkit.fast_bf16``, float32
        elsewhere), ``"float32"`` or ``"bfloat16"``: mixed precision in the layers with at least
        65,536 weights (the discriminator's 512 → 256): their three products take bfloat16 inputs,
        accumulate in float32 and round the product to bfloat16; parameters, the other layers,
        the losses and Adam stay float32 (the usual mixed-precision recipe). Chosen by
        measurement (docs/measurements/neural.md, "Mixed precision in ``gan``"): a faster step,
        and at the default budget results that move no more than float32's own reduction order
        on two threads moves them; at half the budget mixed precision lags. The choice made is in
        ``diagnostics_["precision"]``; ``"float32"`` keeps it off the hardware.

    ``latent_dim``, ``standardize``, ``schedule`` and ``max_seconds``: see
    :class:`~._neural.LatentSampler` and :class:`~._neural.TorchSampler`.
    """

    name = "gan"
    checking_params: ClassVar[dict] = {"steps": 30, "generator": (16, 16), "discriminator": (16, 16)}
    #: the thesis' (seed 004) GAN: uniform latent, dropout 0.3, Adam β₁ = 0.9, unstandardised data
    paper_method: ClassVar[dict] = {"latent": "uniform", "dropout": 0.3, "beta1": 0.9, "standardize": False}
    layer_widths = ("generator", "discriminator")

    generator: tuple[int, ...] = (16, 32, 64, 128, 256)
    discriminator: tuple[int, ...] = (512, 256, 128, 64, 32, 16)
    dropout: float = param(0.0, ge=0, lt=1)
    steps: int = 8000
    d_steps: int = param(1, gt=0)
    lr: float = param(5e-4, gt=0)
    beta1: float = param(0.5, ge=0, lt=1)
    precision: Literal["auto", "float32", "bfloat16"] = "auto"

    def fit(self, X: np.ndarray, *, rng: np.random.Generator) -> GAN:
        """Adversarial training, one D and one G Adam step per step."""
        self.check_params()
        import torch

        from . import _torchkit as tk

        device, gen = self._start(rng)
        data = self._standardized(X, device)
        d = data.shape[1]
        self.generator_ = tk.mlp(self.latent_dim, self.generator, d, "leaky_relu").to(device)
        disc = tk.mlp(d, self.discriminator, 1, "leaky_relu", dropout=self.dropout).to(device)
        betas = (float(self.beta1), 0.999)
        flat_g, flat_d = tk.flatten_parameters(self.generator_), tk.flatten_parameters(disc)
        opt_g = tk.FlatAdam(flat_g, lr=self.lr, betas=betas)
        opt_d = tk.FlatAdam(flat_d, lr=self.lr, betas=betas)
        low = self.precision == "bfloat16" or (self.precision == "auto" and tk.fast_bf16(device))
        big = BF16_MIN_WEIGHTS if low else None
        gen_d = tk.Dense(self.generator_, flat_g, bf16_min_weights=big, optimizer=opt_g)
        disc_d = tk.Dense(disc, flat_d, gen, bf16_min_weights=big, optimizer=opt_d)
        batches = tk.Batches(data, self.batch_size, gen)
        n = batches.batch_size
        # D's targets and the sign that turns BCE-with-logits into softplus, real rows then fake.
        target = torch.cat([torch.ones((n, 1), device=device), torch.zeros((n, 1), device=device)])
        sign = 1.0 - 2.0 * target
        both = data.new_empty((2 * n, d))  # D's input: the real batch, then G's output, written in place
        real, fake = both[:n], both[n:]

        def step(_: int) -> dict[str, torch.Tensor]:
            # BCE(ℓ, y) = softplus(ℓ) − yℓ, ∂/∂ℓ = sigmoid(ℓ) − y (means over n rows each).
            for _k in range(int(self.d_steps)):
                batches.next(out=real)
                gen_d.forward(self._latent(n, gen, device), out=fake)
                logits = disc_d.forward(both)  # one pass over both halves
                loss_d = torch.nn.functional.softplus(logits * sign).sum() / n
                disc_d.backward(torch.sigmoid(logits).sub_(target).div_(n))
                opt_d.step()
            logits = disc_d.forward(fake)  # the updated D on the last fake batch
            loss_g = torch.nn.functional.softplus(-logits).mean()  # non-saturating: −log D(G(z))
            g_fake = disc_d.backward(torch.sigmoid(logits).sub_(1.0).div_(n), weights=False, input_grad=True)
            gen_d.backward(g_fake)
            opt_g.step()
            return {"loss": loss_g, "loss_discriminator": loss_d}

        self.generator_.train()
        disc.train()
        self._train(step, [opt_g, opt_d], batches)
        self.generator_.eval()
        self.diagnostics_["precision"] = "bfloat16" if low else "float32"
        return self

    def _decode(self, z):
        return self.generator_(z)


@genbench.hookimpl
def genbench_samplers():
    return [GAN]
