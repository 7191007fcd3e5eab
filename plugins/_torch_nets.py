"""The torch samplers' networks: :func:`mlp` (a multilayer perceptron from a list of widths) and
:class:`TimeMLP` (an MLP on ``[x, embed(t)]`` for a time-dependent score ``s(x, t)``).

Shared code, not a sampler (the leading underscore keeps it out of the registry); imported through
:mod:`._torchkit` inside ``fit``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}


def mlp(
    in_dim: int,
    widths: Sequence[int],
    out_dim: int,
    activation: str = "relu",
    dropout: float = 0.0,
) -> nn.Sequential:
    """``in_dim → widths… → out_dim``: Linear + activation (+ dropout) per hidden layer, a linear
    output layer."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    prev = in_dim
    for w in widths:
        layers += [nn.Linear(prev, int(w)), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        prev = int(w)
    layers.append(nn.Linear(prev, out_dim))
    return nn.Sequential(*layers)


class TimeMLP(nn.Module):
    """A time-dependent network ``s(x, t)``: an :func:`mlp` on ``[x, embed(t)]``.

    ``embedding="raw"``: t itself, one more input (the papers' "time as an input");
    ``"fourier"``: t and ``sin/cos(2π f t)`` for f = 1, 2, 4, …, 2^(frequencies−1) (Tancik et
    al. 2020's Fourier features; the sinusoidal embedding of Ho et al. 2020 in its continuous
    form), so nearby small times, where a score changes fastest, are easy to tell apart;
    ``"log_fourier"``: those and log t, for time grids that reach far below their range's width
    (``gm_ndsm``'s Δt_N = 0.001 on [0, 0.5]).
    """

    def __init__(
        self,
        dim: int,
        widths: Sequence[int],
        activation: str = "relu",
        embedding: str = "raw",
        frequencies: int = 6,
    ) -> None:
        super().__init__()
        if embedding not in ("raw", "fourier", "log_fourier"):
            raise ValueError(f"time embedding must be 'raw', 'fourier' or 'log_fourier', got {embedding!r}")
        n_freq = frequencies if embedding != "raw" else 0
        self.log_time = embedding == "log_fourier"
        self.register_buffer("freqs", 2.0 * torch.pi * 2.0 ** torch.arange(n_freq, dtype=torch.float32))
        self.net = mlp(dim + 1 + 2 * n_freq + int(self.log_time), widths, dim, activation)

    def embed(self, t: torch.Tensor) -> torch.Tensor:
        """The time features of ``t`` (shape ``(n, 1)``): the MLP's inputs after ``x``."""
        feats = [t]
        if len(self.freqs):
            wt = t * self.freqs
            feats += [wt.sin(), wt.cos()]
        if self.log_time:
            feats.append(t.clamp_min(1e-6).log())
        return torch.cat(feats, dim=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = t.reshape(-1, 1).expand(x.shape[0], 1).to(x.dtype)
        return self.net(torch.cat([x, self.embed(t)], dim=1))
