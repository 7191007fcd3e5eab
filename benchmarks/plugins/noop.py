"""A sampler that does nothing, on a tiny dataset: isolates the runner's own cost per cell."""

import numpy as np

import genbench


class Noop(genbench.Sampler):
    name = "bench_noop"

    def fit(self, X, *, rng):
        self.d_ = X.shape[1]
        return self

    def sample(self, n, *, rng):
        return np.zeros((n, self.d_))


class Tiny(genbench.Dataset):
    name = "bench_tiny"

    def __init__(self, n_train: int = 10, tag: int = 0):
        self.n_train = n_train
        self.tag = tag

    def sample(self, n, *, rng):
        return rng.standard_normal((n, 2))


@genbench.hookimpl
def genbench_samplers():
    return [Noop]


@genbench.hookimpl
def genbench_datasets():
    return [Tiny]
