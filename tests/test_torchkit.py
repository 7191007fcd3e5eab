"""The torch toolkit's optimiser and dropout against torch's own: ``FlatAdam`` (torch's private fused
kernel where the probe accepts it, ``torch.optim.Adam`` where it does not) follows
``torch.optim.Adam`` step for step, the probe turns down a kernel that is missing, raises or computes
something else, and ``Dense``'s dropout gives autograd's outputs and gradients with the same masks."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from genbench_plugins import _torch_adam  # noqa: E402
from genbench_plugins import _torchkit as tk  # noqa: E402

STEPS = 50


def _run_adam_pair(n: int = 300, betas=(0.8, 0.99), eps=1e-6):
    """``FlatAdam`` and ``torch.optim.Adam`` from the same start, fed the same gradients and the same
    changing learning rate (a cosine decay set through ``param_groups``, as ``train`` does) for
    ``STEPS`` steps; returns (start, FlatAdam's parameter, torch's parameter, the FlatAdam)."""
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(n, generator=gen)
    flat = torch.nn.Parameter(start.clone())
    flat.grad = torch.zeros(n)
    ours = tk.FlatAdam(flat, lr=0.05, betas=betas, eps=eps)
    ref = torch.nn.Parameter(start.clone())
    theirs = torch.optim.Adam([ref], lr=0.05, betas=betas, eps=eps, foreach=False)
    for i in range(STEPS):
        lr = 0.05 * 0.5 * (1 + math.cos(math.pi * i / STEPS))
        ours.param_groups[0]["lr"] = lr
        theirs.param_groups[0]["lr"] = lr
        g = torch.randn(n, generator=gen) * (1 + i % 3)  # gradients of changing size and sign
        flat.grad.copy_(g)
        ref.grad = g.clone()
        ours.step()
        theirs.step()
    assert ours.updates == STEPS
    return start, flat.detach(), ref.detach(), ours


@pytest.mark.parametrize("path", ["fused", "fallback"])
def test_flat_adam_matches_torch_adam_over_50_steps(path, monkeypatch):
    """50 steps of ``FlatAdam`` land where ``torch.optim.Adam`` lands (to float32 rounding), on the
    fused kernel and on the public fallback (forced here as on a torch without the kernel), with
    non-default betas and ε and a learning rate changed between steps; the parameters moved far
    more than the tolerance, so a wrong bias correction or a lost setting would show."""
    if path == "fused":
        if not tk.fused_adam_available(torch.device("cpu")):
            pytest.skip("this torch's fused Adam kernel does not run on CPU (or failed the probe)")
    else:
        monkeypatch.setattr(_torch_adam, "fused_adam_available", lambda *args: False)
    start, ours, theirs, opt = _run_adam_pair()
    assert opt.fused is (path == "fused")
    assert (theirs - start).abs().max() > 0.1
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-6)


def test_the_probe_accepts_this_torchs_cpu_kernel():
    """From torch 2.4 (the extras' floor) the fused kernel runs on CPU and passes the probe, so the
    samplers take the fast path; if a torch release drops or changes it, this says so (the fallback
    then keeps the samplers working, with rounding-level changes to their numbers)."""
    if _torch_version() < _torch_adam.TORCH_FLOOR:
        pytest.skip(f"torch {torch.__version__} predates the CPU fused Adam kernel")
    assert tk.fused_adam_available(torch.device("cpu"))
    assert _torch_adam._kernel_agrees(torch.device("cpu"), torch.float32)


def _torch_version() -> tuple[int, int]:
    major, minor = torch.__version__.split(".")[:2]
    return int(major), int(minor)


def test_the_extras_torch_floor_is_the_toolkits():
    """``pyproject.toml``'s ``neural`` and ``flow`` extras ask for the torch the toolkit states
    (``TORCH_FLOOR``), and the torch under test is at least that."""
    from pathlib import Path

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the core's tomli
        import tomli as tomllib

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    floor = "torch>=" + ".".join(map(str, _torch_adam.TORCH_FLOOR))
    assert [r for r in extras["neural"] if r.startswith("torch")] == [floor]
    assert [r for r in extras["flow"] if r.startswith("torch")] == [floor]
    assert _torch_version() >= _torch_adam.TORCH_FLOOR


def _raise(*args, **kwargs):
    raise NotImplementedError("Could not run 'aten::_fused_adam_' with arguments from the 'CPU' backend")


def _no_bias_correction(params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps, *, lr, beta1, beta2, eps, **kwargs):
    for p, g, m, v in zip(params, grads, exp_avgs, exp_avg_sqs, strict=True):
        m.mul_(beta1).add_(g, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        p.addcdiv_(m, v.sqrt().add_(eps), value=-lr)


@pytest.mark.parametrize("kernel", ["missing", "raises", "no_bias_correction"])
def test_the_probe_turns_down_a_kernel_it_cannot_trust(kernel, monkeypatch):
    """A torch without the kernel, one whose kernel has no implementation for the device (torch
    2.1–2.3 on CPU) and one that computes another update all send ``FlatAdam`` to the fallback,
    which still matches ``torch.optim.Adam``."""
    monkeypatch.setattr(_torch_adam, "_PROBED", {})
    if kernel == "missing":
        monkeypatch.delattr(torch, "_fused_adam_", raising=False)
    else:
        monkeypatch.setattr(torch, "_fused_adam_", _raise if kernel == "raises" else _no_bias_correction, raising=False)
    assert not tk.fused_adam_available("cpu")
    _, ours, theirs, opt = _run_adam_pair(n=50)
    assert not opt.fused
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-6)


def test_the_probe_reference_is_adam():
    """The probe's expected value is Adam's: two steps by hand of Kingma & Ba's Algorithm 1 agree
    with ``torch.optim.Adam`` on a one-element parameter."""
    p = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    for g in (0.5, -0.25):
        p.grad = torch.full((1,), g, dtype=torch.float64)
        opt.step()
    assert p.item() == pytest.approx(_torch_adam._adam_reference(1.0, [0.5, -0.25], 0.1, 0.9, 0.999, 1e-8), rel=1e-12)


def _autograd_with_masks(seq, x, masks):
    """``seq``'s output on ``x`` under autograd, from leaf copies of its parameters, with the
    dropout masks ``masks`` (one per ``nn.Dropout``) in place of fresh draws."""
    params = [p.detach().clone().requires_grad_(True) for p in seq.parameters()]
    it, k, h = iter(params), 0, x
    for m in seq:
        if isinstance(m, torch.nn.Linear):
            h = torch.nn.functional.linear(h, next(it), next(it))
        elif isinstance(m, torch.nn.Dropout):
            h = h * masks[k]
            k += 1
        else:
            h = m(h)
    return h, params


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "gelu", "tanh", "silu"])
def test_dense_dropout_matches_autograd_with_its_masks(activation):
    """``Dense`` on an ``mlp(dropout=0.3)`` draws inverted-dropout masks (entries 0 or 1/(1 − p),
    about a fraction 1 − p of them kept; Srivastava et al. 2014) from its generator, and with those
    masks its output, parameter gradients and input gradient are autograd's."""
    p = 0.3
    torch.manual_seed(0)
    net = tk.mlp(3, [32, 16], 2, activation, dropout=p)
    flat = tk.flatten_parameters(net)
    dense = tk.Dense(net, flat, torch.Generator().manual_seed(5))
    x, g = torch.randn(256, 3), torch.randn(256, 2)
    out = dense.forward(x).clone()
    masks = [saved[3] for saved in dense._saved[:-1]]
    input_grad = dense.backward(g, input_grad=True).clone()
    grads = [tk.flat_grad(flat, q).clone() for q in net.parameters()]

    assert len(masks) == 2
    for mask in masks:
        assert mask.unique().tolist() == pytest.approx([0.0, 1 / (1 - p)])
        assert abs((mask > 0).float().mean().item() - (1 - p)) < 0.05
    xr = x.clone().requires_grad_(True)
    want, params = _autograd_with_masks(net, xr, masks)
    want.backward(g)
    torch.testing.assert_close(out, want.detach())
    torch.testing.assert_close(input_grad, xr.grad)
    for got, q in zip(grads, params, strict=True):
        torch.testing.assert_close(got, q.grad)
    # A second forward draws new masks (dropout is not frozen after the first step).
    dense.forward(x)
    assert not torch.equal(dense._saved[0][3], masks[0])
