"""Training time per 1,000 steps of the neural samplers at their default sizes, on CUDA and CPU.

A standalone script (no install needed: run from the repository root with torch and
scikit-learn importable): ``python benchmarks/gpu_neural.py [--device cuda|cpu] [--threads N]``.
Each sampler is fitted on ``two_circles`` (M = 500) for 200 warm-up steps, then timed over
1,000 steps; the same seed is fitted twice more (50 steps) to check whether samples repeat
bit for bit on that device.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())  # the checkout: plugins/ and datasets/ as packages


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args()
    os.environ["GENBENCH_DEVICE"] = args.device
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch

    from datasets.manifolds import TwoCircles
    from plugins.gan import GAN
    from plugins.gm_ndsm import GMNDSM
    from plugins.ou_sgm import OUSGM
    from plugins.vae import VAE

    X = TwoCircles(n_train=500).sample(500, rng=np.random.default_rng(0))
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}", flush=True)
    if args.device == "cuda":
        print(torch.cuda.get_device_name(0), flush=True)
    for cls in (OUSGM, GMNDSM, GAN, VAE):
        cls(steps=200).fit(X, rng=np.random.default_rng(1))  # warm-up: kernels, allocator
        if args.device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        s = cls(steps=args.steps).fit(X, rng=np.random.default_rng(1))
        if args.device == "cuda":
            torch.cuda.synchronize()
        fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        s.sample(1000, rng=np.random.default_rng(2))
        sample = time.perf_counter() - t0
        a, b = (
            cls(steps=50).fit(X, rng=np.random.default_rng(3)).sample(500, rng=np.random.default_rng(4)) for _ in "ab"
        )
        same = bool(np.array_equal(a, b))
        print(
            f"{cls.name:8s} {1000 * fit / args.steps:8.1f} s per 1,000 steps (fit {fit:.2f} s for {args.steps}), "
            f"sample(1000) {sample:.2f} s, device {s.device_}, same seed same samples: {same}",
            flush=True,
        )


if __name__ == "__main__":
    main()
