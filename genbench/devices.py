"""Which device a cell may compute on: the run's ``--device`` as samplers read it.

A worker's environment carries the run's choice (``GENBENCH_DEVICE``: ``auto``, ``cpu`` or
``cuda``; with ``cpu`` the GPUs are hidden from CUDA altogether, see
:func:`genbench.executors.isolation.worker_environment`). A sampler that can use a GPU asks
here which device to use and reports the one it used in ``device_``.
"""

from __future__ import annotations

import os
from typing import Any

from .config import DEVICE_ENV


def requested_device() -> str:
    """The run's ``--device``: ``"auto"`` (a GPU when there is one), ``"cpu"`` or ``"cuda"``."""
    return os.environ.get(DEVICE_ENV, "auto") or "auto"


def torch_device() -> Any:
    """The ``torch.device`` a torch sampler should use for the run's ``--device``."""
    import torch

    want = requested_device()
    if want == "cpu" or (want == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("--device cuda, but torch finds no CUDA GPU (a CPU build, or no driver)")
    return torch.device("cuda", 0)


def jax_device_name() -> str:
    """The device jax computes on by default, as a row records it (``cpu``, ``cuda:0``, …)."""
    import jax

    dev = jax.devices()[0]
    return "cpu" if dev.platform == "cpu" else f"cuda:{dev.id}" if dev.platform == "gpu" else f"{dev.platform}:{dev.id}"
