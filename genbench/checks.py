"""Conformance checks any sampler must pass (in the spirit of scikit-learn's estimator checks).

``genbench test [SAMPLER]`` runs them from the command line; :func:`check_sampler` returns
the results and :func:`assert_sampler_conforms` raises on the first failure (for pytest).
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .contracts import Dataset, Sampler
from .runner import accepts_dataset


class _CheckData(Dataset):
    """A correlated 2-D Gaussian with an exact density and score, for checks only."""

    name = "_check_gaussian"
    conditioning = (1,)
    cov = np.array([[1.0, 0.6], [0.6, 0.5]])

    def __init__(self, n_train: int = 200) -> None:
        self.n_train = n_train

    def sample(self, n, *, rng):
        return rng.multivariate_normal([0.5, -1.0], self.cov, size=n)

    def log_prob(self, x):
        diff = np.atleast_2d(x) - [0.5, -1.0]
        prec = np.linalg.inv(self.cov)
        return -0.5 * np.einsum("ni,ij,nj->n", diff, prec, diff) - 0.5 * np.log(np.linalg.det(2 * np.pi * self.cov))

    def score(self, x):
        return -(np.atleast_2d(x) - [0.5, -1.0]) @ np.linalg.inv(self.cov)

    def support_distance(self, x):
        return np.zeros(len(np.atleast_2d(x)))


@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str = ""


def _fit(sampler: Sampler, X: np.ndarray, seed: int, data: Dataset) -> Sampler:
    kwargs = {"rng": np.random.default_rng(seed)}
    if accepts_dataset(sampler.fit):
        kwargs["dataset"] = data
    out = sampler.fit(X, **kwargs)
    if out is not sampler:
        raise AssertionError(f"fit() returned {out!r}, expected self")
    return sampler


def _draw(cls: type[Sampler], X: np.ndarray, n: int, seed: int, data: Dataset) -> np.ndarray:
    s = _fit(cls(), X, seed, data)
    return np.asarray(s.sample(n, rng=np.random.default_rng(seed + 1)))


def check_defaults_and_params(cls, X, data) -> None:
    """Every parameter has a default; ``__init__`` stores them unchanged; ``get_params`` round-trips."""
    sig = inspect.signature(cls.__init__)
    missing = [
        p.name
        for p in list(sig.parameters.values())[1:]
        if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    assert not missing, f"parameters without a default: {missing}"
    s = cls()
    params = s.get_params()
    assert params == cls.param_defaults(), f"__init__ changed its parameters: {params}"
    assert cls(**params).get_params() == params, "cls(**get_params()) gives different parameters"
    assert cls.name, "the class has no `name`"


def check_shape_and_dtype(cls, X, data) -> None:
    """``sample(n)`` returns a finite float array of shape ``(n, d)``."""
    Y = _draw(cls, X, 37, 0, data)
    assert Y.shape == (37, X.shape[1]), f"shape {Y.shape}, expected (37, {X.shape[1]})"
    assert np.issubdtype(Y.dtype, np.floating), f"dtype {Y.dtype}, expected floating point"
    assert np.isfinite(Y).all(), "non-finite values in the samples"


def check_deterministic(cls, X, data) -> None:
    """The same seeds give the same samples; different seeds give different ones."""
    a, b = _draw(cls, X, 50, 3, data), _draw(cls, X, 50, 3, data)
    np.testing.assert_array_equal(a, b, err_msg="same seed, different samples")
    c = _draw(cls, X, 50, 11, data)
    assert not np.array_equal(a, c), "different seeds gave identical samples"


def check_refit(cls, X, data) -> None:
    """Fitting again on other data forgets the first fit (no state leaks between fits)."""
    X2 = X[::-1][: len(X) // 2] * 1.5 + 0.3
    s = _fit(cls(), X, 0, data)
    s = _fit(s, X2, 5, data)
    refit = s.sample(40, rng=np.random.default_rng(9))
    fresh = _fit(cls(), X2, 5, data).sample(40, rng=np.random.default_rng(9))
    np.testing.assert_allclose(refit, fresh, err_msg="a refit sampler differs from a fresh one")


def check_does_not_modify_input(cls, X, data) -> None:
    """``fit`` leaves the training array unchanged."""
    Xc = X.copy()
    _fit(cls(), Xc, 0, data).sample(10, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(Xc, X, err_msg="fit() modified its input")


def check_tiny_training_set(cls, X, data) -> None:
    """Survives M = 3 training points and returns finite samples of the right shape."""
    Y = _draw(cls, X[:3], 20, 0, data)
    assert Y.shape == (20, X.shape[1]) and np.isfinite(Y).all(), f"tiny M: shape {Y.shape} or non-finite values"


def check_one_dimensional(cls, X, data) -> None:
    """Works on 1-D data (shape ``(M, 1)``)."""
    Y = _draw(cls, X[:, :1].copy(), 25, 0, data)
    assert Y.shape == (25, 1) and np.isfinite(Y).all(), f"1-D data: shape {Y.shape} or non-finite values"


CHECKS: list[Callable] = [
    check_defaults_and_params,
    check_shape_and_dtype,
    check_deterministic,
    check_refit,
    check_does_not_modify_input,
    check_tiny_training_set,
    check_one_dimensional,
]


def check_sampler(cls: type[Sampler], n_train: int = 200) -> list[CheckResult]:
    """Run every conformance check on a sampler class; never raises."""
    data = _CheckData(n_train)
    X = data.sample(n_train, rng=np.random.default_rng(1234))
    out = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            check(cls, X, data)
            out.append(CheckResult(name, True))
        except Exception as exc:
            msg = str(exc).strip().splitlines()
            where = traceback.extract_tb(exc.__traceback__)[-1]
            text = msg[0] if msg else type(exc).__name__
            out.append(CheckResult(name, False, f"{type(exc).__name__}: {text} ({where.name}:{where.lineno})"))
    return out


def assert_sampler_conforms(cls: type[Sampler]) -> None:
    """Raise :class:`AssertionError` listing every failed check."""
    failed = [c for c in check_sampler(cls) if not c.passed]
    if failed:
        raise AssertionError("; ".join(f"{c.name}: {c.message}" for c in failed))


def _checks_in_worker(name: str, plugin_dirs: tuple[str, ...]) -> list[tuple[str, bool, str]]:
    from .plugins import get_registry

    return [(r.name, r.passed, r.message) for r in check_sampler(get_registry(plugin_dirs).get("sampler", name))]


def check_sampler_isolated(name: str, plugin_dirs: tuple[str, ...] = (), timeout: float = 300) -> list[CheckResult]:
    """:func:`check_sampler` in its own process with a hard timeout, through the same isolation
    layer as a run's cells: a sampler that crashes or hangs fails its checks instead of taking
    the caller down, and what it prints stays out of the report."""
    from .executors.isolation import run_isolated, worker_environment

    out = run_isolated(
        _checks_in_worker,
        (name, tuple(plugin_dirs)),
        timeout=timeout,
        env=worker_environment(),
        name=f"genbench-test:{name}",
    )
    if out.state == "returned":
        return [CheckResult(*r) for r in out.value]
    if out.state == "timeout":
        return [CheckResult("isolated_run", False, f"timed out after {timeout:g} s")]
    return [CheckResult("isolated_run", False, out.message)]
