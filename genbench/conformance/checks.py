"""Conformance checks any sampler must pass (in the spirit of scikit-learn's estimator checks).

``genbench test [SAMPLER]`` runs them from the command line; :func:`check_sampler` returns
the results, :func:`assert_sampler_conforms` raises listing every failure, and
:func:`genbench.testing.parametrize_with_checks` makes one pytest test per (sampler, check).

Every check builds its samplers as ``cls(**cls.checking_params)`` (plus the check's own
overrides), so a sampler that is slow with its defaults declares small values in
:attr:`genbench.Sampler.checking_params` and is checked in seconds. A failed check raises
:class:`CheckFailure` (an :class:`AssertionError`) whose message says what to fix.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..contracts import Dataset, Sampler
from ..evaluation import accepts_dataset
from ..params import short_repr, snapshot, values_equal

__all__ = [
    "CHECKS",
    "CheckFailure",
    "CheckResult",
    "CheckWarning",
    "SamplerCheck",
    "assert_sampler_conforms",
    "check_sampler",
    "check_sampler_isolated",
    "iter_checks",
    "make_sampler",
]

SCIKIT_LEARN_STORE = "store every __init__ argument unchanged under its own name (scikit-learn convention)"
USE_RNG = "draw from the `rng` passed to fit/sample, not np.random or an unseeded generator"
SEED_GLOBAL = (
    "a library that draws from np.random itself can be seeded from it first: np.random.seed(rng.integers(2**32))"
)
#: The warning when fit/sample change numpy's global random state yet give reproducible samples.
GLOBAL_STATE_CHANGED = (
    "fit/sample change numpy's global random state (np.random.*); the samples are reproducible, but other "
    "code in the process sees the change: better pass `rng` to the library (or "
    "np.random.RandomState(rng.integers(2**32)) where it takes a RandomState), or restore the state afterwards "
    "(np.random.get_state() before, np.random.set_state() after)"
)
#: numpy's global state is set from these before each draw of ``check_deterministic`` (and
#: ``check_refit``): a sampler that draws from it unseeded gives different samples for one seed.
_GLOBAL_SEEDS = (20_241, 31_337, 4_242)


class CheckFailure(AssertionError):
    """A sampler failed a conformance check; the message says what to fix."""


class CheckWarning(UserWarning):
    """A sampler passed a conformance check but does something it had better not (e.g. changes
    numpy's global random state); the message says what to fix. :func:`check_sampler` reports it
    as a passed :class:`CheckResult` with ``warning=True``; under pytest it is an ordinary warning."""


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
    """One check's outcome: ``passed`` (a warning passes, with ``warning=True`` and its message)."""

    name: str
    passed: bool
    message: str = ""
    warning: bool = False

    @property
    def status(self) -> str:
        """``"PASS"``, ``"WARN"`` or ``"FAIL"``."""
        return "FAIL" if not self.passed else "WARN" if self.warning else "PASS"


# --- helpers ----------------------------------------------------------------------------------


def _require(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailure(message)


def _arrays_equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:
        return bool(np.array_equal(a, b))


def _max_difference(a: np.ndarray, b: np.ndarray) -> str:
    if a.shape != b.shape:
        return f"shapes {a.shape} and {b.shape}"
    try:
        return f"max |difference| {np.nanmax(np.abs(a.astype(float) - b.astype(float))):.3g}"
    except Exception:
        return f"shapes {a.shape} and {b.shape}"


def _checking_params_problem(cls: type[Sampler]) -> str | None:
    """What is wrong with ``cls.checking_params`` (``None`` when nothing is)."""
    params = getattr(cls, "checking_params", {})
    if not isinstance(params, dict):
        return (
            f"{cls.__name__}.checking_params must be a dict of __init__ parameter values, got {type(params).__name__}"
        )
    known = cls.param_defaults()
    unknown = sorted(str(k) for k in params if k not in known)
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        return (
            f"{cls.__name__}.checking_params names unknown parameters {names} (__init__ takes: "
            f"{', '.join(known) or 'nothing'}): use the names of __init__'s parameters"
        )
    return None


def make_sampler(cls: type[Sampler], **overrides: Any) -> Sampler:
    """The sampler the checks use: ``cls(**{**cls.checking_params, **overrides})`` (values deep-copied).

    Raises :class:`CheckFailure` when ``checking_params`` names parameters ``__init__`` lacks.
    """
    problem = _checking_params_problem(cls)
    if problem:
        raise CheckFailure(problem)
    params = {**getattr(cls, "checking_params", {}), **overrides}
    # copies: a sampler that changes a value in place cannot change the class's checking_params
    return cls(**{k: snapshot(v) for k, v in params.items()})


def _fit(sampler: Sampler, X: np.ndarray, seed: int, data: Dataset, *, pass_copy: bool = True) -> Sampler:
    """``sampler.fit`` on a copy of ``X`` (a sampler that changes its input fails only that check)."""
    kwargs: dict[str, Any] = {"rng": np.random.default_rng(seed)}
    if accepts_dataset(sampler.fit):
        kwargs["dataset"] = data
    out = sampler.fit(X.copy() if pass_copy else X, **kwargs)
    if out is not sampler:
        raise CheckFailure(
            f"fit() returned {short_repr(out)}, expected the sampler itself: end fit() with `return self`"
        )
    return sampler


def _draw(cls: type[Sampler], X: np.ndarray, n: int, seed: int, data: Dataset) -> np.ndarray:
    s = _fit(make_sampler(cls), X, seed, data)
    return np.asarray(s.sample(n, rng=np.random.default_rng(seed + 1)))


def _draw_under_global_seed(
    cls: type[Sampler], X: np.ndarray, n: int, seed: int, data: Dataset, global_seed: int
) -> tuple[np.ndarray, bool]:
    """:func:`_draw` with numpy's global random state first set from ``global_seed`` (as a fresh
    process would have some arbitrary one); also whether fit/sample changed that state."""
    np.random.seed(global_seed)
    before = np.random.get_state()
    out = _draw(cls, X, n, seed, data)
    return out, _global_state_changed(before)


def _global_state_changed(before: tuple[Any, ...] | dict[str, Any]) -> bool:
    return not all(values_equal(x, y) for x, y in zip(before, np.random.get_state(), strict=True))


class _Placeholder:
    """A distinct value per parameter for :func:`check_init_stores_params` (compared by identity)."""

    def __init__(self, name: str) -> None:
        self.param = name

    def __repr__(self) -> str:
        return f"<placeholder for {self.param!r}>"


_MISSING = object()


# --- the checks -------------------------------------------------------------------------------


def check_defaults_and_params(cls, X, data) -> None:
    """Every parameter has a default that ``__init__`` stores; ``checking_params`` names only
    parameters (with valid values); ``cls(**get_params())`` round-trips; the class has a ``name``."""
    sig = cls._init_signature()
    missing = [
        p.name
        for p in list(sig.parameters.values())[1:]
        if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    _require(not missing, f"parameters without a default: {missing}: give every __init__ parameter a default value")
    _require(cls.name, f'{cls.__name__} has no `name`: set the class attribute `name = "..."` (its registered name)')
    problem = _checking_params_problem(cls)
    _require(problem is None, problem or "")
    defaults = cls.param_defaults()
    builds: list[tuple[str, dict[str, Any]]] = [("cls()", {})]
    if cls.checking_params:
        builds.append(("cls(**checking_params)", dict(cls.checking_params)))
    for label, overrides in builds:
        s = cls(**overrides)
        params = s.get_params()
        for k, expected in {**defaults, **overrides}.items():
            if not values_equal(params[k], expected):
                raise CheckFailure(
                    f"{label} stores {k}={short_repr(params[k])}, not the value passed ({short_repr(expected)}): "
                    f"{SCIKIT_LEARN_STORE}"
                )
        back = cls(**params).get_params()
        for k in params:
            if not values_equal(back[k], params[k]):
                raise CheckFailure(
                    f"cls(**get_params()) gives {k}={short_repr(back[k])}, not {short_repr(params[k])}: "
                    + SCIKIT_LEARN_STORE
                )
    try:
        make_sampler(cls).check_params()
    except ValueError as exc:
        raise CheckFailure(f"checking_params are invalid ({exc}): fix {cls.__name__}.checking_params") from exc


def check_init_stores_params(cls, X, data) -> None:
    """``__init__`` stores each argument, unchanged, under its own name (checked by passing a
    distinct placeholder for every parameter, as scikit-learn's ``clone`` check does), and
    ``cls(**obj.get_params())`` passes the very same objects on."""
    placeholders = {k: _Placeholder(k) for k in cls.param_defaults()}
    try:
        obj = cls(**placeholders)
    except Exception as exc:
        raise CheckFailure(
            f"__init__ raised {type(exc).__name__} ({_first_line(exc)}) given a placeholder for every parameter: "
            "__init__ must only store its arguments; validate them in check_params() or fit() "
            "(scikit-learn convention)"
        ) from exc
    for k, value in placeholders.items():
        got = getattr(obj, k, _MISSING)
        if got is not value:
            found = "is not set" if got is _MISSING else f"is {short_repr(got)}"
            raise CheckFailure(
                f"parameter {k!r} is not stored as self.{k} by __init__: {SCIKIT_LEARN_STORE}; here self.{k} {found}"
            )
    params = obj.get_params()
    for k, value in placeholders.items():
        if params.get(k, _MISSING) is not value:
            raise CheckFailure(
                f"get_params() gives {k}={short_repr(params.get(k))}, not the value passed to __init__: "
                f"let get_params() read self.{k} (do not override it)"
            )
    again = cls(**params).get_params()
    for k, value in placeholders.items():
        _require(
            again.get(k, _MISSING) is value,
            f"cls(**get_params()) does not pass parameter {k!r} on unchanged: {SCIKIT_LEARN_STORE}",
        )


def check_shape_and_dtype(cls, X, data) -> None:
    """``sample(n)`` returns a finite float array of shape ``(n, d)``."""
    Y = _draw(cls, X, 37, 0, data)
    d = X.shape[1]
    _require(
        Y.shape == (37, d),
        f"sample(37) returned shape {Y.shape}, expected (37, {d}): return exactly n points as an (n, d) array, "
        "d the number of columns of the training data",
    )
    _require(
        np.issubdtype(Y.dtype, np.floating),
        f"sample() returned dtype {Y.dtype}, expected floating point: return a float array "
        "(e.g. np.asarray(out, dtype=np.float64))",
    )
    bad = int(np.size(Y) - np.isfinite(Y).sum())
    _require(
        bad == 0,
        f"sample() returned {bad} non-finite values (NaN or inf) of {Y.size}: look for a division by zero, "
        "an overflow or a step size that makes the iteration diverge",
    )


def check_deterministic(cls, X, data) -> None:
    """The same seeds give the same samples, whatever numpy's global random state was before (each
    draw starts from another one), and different seeds give different ones. A sampler that passes
    but changes numpy's global random state (it seeds it from ``rng``) gets a :class:`CheckWarning`;
    the state is restored either way."""
    state = np.random.get_state()
    try:
        a, touched = _draw_under_global_seed(cls, X, 50, 3, data, _GLOBAL_SEEDS[0])
        b, _ = _draw_under_global_seed(cls, X, 50, 3, data, _GLOBAL_SEEDS[1])
        if not _arrays_equal(a, b):
            used = ", and fit/sample use numpy's global random state (np.random.*) unseeded" if touched else ""
            hint = f"; {SEED_GLOBAL}" if touched else ""
            raise CheckFailure(f"same seed, different samples ({_max_difference(a, b)}){used}: {USE_RNG}{hint}")
        c, _ = _draw_under_global_seed(cls, X, 50, 11, data, _GLOBAL_SEEDS[0])
        _require(
            not _arrays_equal(a, c),
            "different seeds gave identical samples: draw the randomness from the `rng` passed to fit/sample "
            "(do not reseed it or replace it with a fixed seed"
            + (", nor seed numpy's global random state from a constant)" if touched else ")"),
        )
    finally:
        np.random.set_state(state)
    if touched:
        warnings.warn(GLOBAL_STATE_CHANGED, CheckWarning, stacklevel=2)


def check_refit(cls, X, data) -> None:
    """Fitting again on other data forgets the first fit (no state leaks between fits)."""
    X2 = X[::-1][: len(X) // 2] * 1.5 + 0.3
    np.random.seed(_GLOBAL_SEEDS[2])
    before = np.random.get_state()
    s = _fit(make_sampler(cls), X, 0, data)
    s = _fit(s, X2, 5, data)
    refit = np.asarray(s.sample(40, rng=np.random.default_rng(9)))
    touched = _global_state_changed(before)
    fresh = np.asarray(_fit(make_sampler(cls), X2, 5, data).sample(40, rng=np.random.default_rng(9)))
    if refit.shape != fresh.shape or not np.allclose(refit, fresh, rtol=1e-7, atol=0, equal_nan=True):
        fix = "reset learned state in fit() (compute every attribute ending in _ from the X of this call)"
        if touched:  # unseeded np.random alone makes the two differ
            fix += f"; fit/sample also change numpy's global random state: if they draw from it unseeded, {SEED_GLOBAL}"
        raise CheckFailure(f"a refit sampler differs from a fresh one ({_max_difference(refit, fresh)}): {fix}")


def check_does_not_modify_input(cls, X, data) -> None:
    """``fit`` (and ``sample``) leave the training array unchanged."""
    Xc = X.copy()
    _fit(make_sampler(cls), Xc, 0, data, pass_copy=False).sample(10, rng=np.random.default_rng(0))
    _require(
        _arrays_equal(Xc, X),
        "fit() modified its input X: copy before changing it (e.g. X = np.array(X, dtype=np.float64)), "
        "or change a copy in sample()",
    )


def check_fit_does_not_change_params(cls, X, data) -> None:
    """``get_params()`` is the same before and after ``fit`` and ``sample``."""
    s = make_sampler(cls)
    before = {k: snapshot(v) for k, v in s.get_params().items()}  # copies: also a change in place shows
    _fit(s, X, 0, data)
    for step in ("fit()", "sample()"):
        if step == "sample()":
            s.sample(10, rng=np.random.default_rng(0))
        after = s.get_params()
        for k, old in before.items():
            new = after.get(k, _MISSING)
            if not values_equal(old, new):
                raise CheckFailure(
                    f"{step} changed parameter {k!r} from {short_repr(old)} to {short_repr(new)}: keep learned state "
                    f"in attributes ending in _ (e.g. self.{k}_) and leave parameters as __init__ stored them"
                )


def check_tiny_training_set(cls, X, data) -> None:
    """Survives M = 3 training points and returns finite samples of the right shape."""
    Y = _draw(cls, X[:3], 20, 0, data)
    d = X.shape[1]
    _require(
        Y.shape == (20, d),
        f"with M = 3 training points sample(20) returned shape {Y.shape}, expected (20, {d}): return n points "
        "even when n > M (cap neighbour counts, ranks and chain counts at M)",
    )
    _require(
        np.isfinite(Y).all(),
        "with M = 3 training points the samples contain NaN or inf: guard against degenerate covariances, "
        "bandwidths and kernels when M is small (M ≤ d + 1)",
    )


def check_one_dimensional(cls, X, data) -> None:
    """Works on 1-D data (shape ``(M, 1)``)."""
    Y = _draw(cls, X[:, :1].copy(), 25, 0, data)
    _require(
        Y.shape == (25, 1),
        f"on 1-D data (shape (M, 1)) sample(25) returned shape {Y.shape}, expected (25, 1): keep 2-D arrays "
        "throughout (no squeeze or ravel) and treat d = 1 like any d",
    )
    _require(
        np.isfinite(Y).all(),
        "on 1-D data (shape (M, 1)) the samples contain NaN or inf: treat d = 1 like any d "
        "(1×1 covariances, np.atleast_2d)",
    )


CHECKS: list[Callable] = [
    check_defaults_and_params,
    check_init_stores_params,
    check_shape_and_dtype,
    check_deterministic,
    check_refit,
    check_does_not_modify_input,
    check_fit_does_not_change_params,
    check_tiny_training_set,
    check_one_dimensional,
]


# --- running them -----------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _describe(exc: BaseException) -> str:
    """``Type: first line (function:line)`` of the innermost frame: where a sampler raised."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({tb[-1].name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {_first_line(exc)}{where}"


@dataclass(frozen=True)
class SamplerCheck:
    """One conformance check, called with a sampler class: ``check(cls)`` returns ``None`` or raises
    :class:`CheckFailure` (an :class:`AssertionError`) saying what to fix. An exception the sampler
    raises is reported as a failure too (chained, so pytest shows its traceback)."""

    name: str
    func: Callable[[type[Sampler], np.ndarray, Dataset], None]

    def __call__(self, cls: type[Sampler], *, n_train: int = 200) -> None:
        data = _CheckData(n_train)
        X = data.sample(n_train, rng=np.random.default_rng(1234))
        state = np.random.get_state()  # restored: a sampler that uses it leaves no trace on other tests
        try:
            self.func(cls, X, data)
        except CheckFailure:
            raise
        except Exception as exc:
            raise CheckFailure(_describe(exc)) from exc
        finally:
            np.random.set_state(state)

    def __repr__(self) -> str:
        return f"<check {self.name}>"


def iter_checks(cls: type[Sampler]) -> Iterator[SamplerCheck]:
    """The conformance checks that apply to ``cls`` (all of :data:`CHECKS`), in order."""
    for func in CHECKS:
        yield SamplerCheck(func.__name__.removeprefix("check_"), func)


def _run_noting_warnings(check: SamplerCheck, cls: type[Sampler], n_train: int) -> str:
    """Run ``check``; the text of the :class:`CheckWarning` it gives (``""`` when none). Other
    warnings (a plugin's own) are passed on unchanged."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CheckWarning)
        check(cls, n_train=n_train)
    notes = []
    for w in caught:
        if issubclass(w.category, CheckWarning):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return "; ".join(notes)


def check_sampler(cls: type[Sampler], n_train: int = 200) -> list[CheckResult]:
    """Run every conformance check on a sampler class; never raises. A check that passes with a
    :class:`CheckWarning` gives a passed result with ``warning=True`` and the message ``"warning: …"``."""
    out = []
    for check in iter_checks(cls):
        try:
            note = _run_noting_warnings(check, cls, n_train)
            out.append(CheckResult(check.name, True, f"warning: {note}" if note else "", bool(note)))
        except AssertionError as exc:
            out.append(CheckResult(check.name, False, " ".join(str(exc).split("\n")).strip()))
        except Exception as exc:
            out.append(CheckResult(check.name, False, _describe(exc)))
    return out


def assert_sampler_conforms(cls: type[Sampler]) -> None:
    """Raise :class:`AssertionError` listing every failed check (warnings pass)."""
    failed = [c for c in check_sampler(cls) if not c.passed]
    if failed:
        raise AssertionError("; ".join(f"{c.name}: {c.message}" for c in failed))


def _checks_in_worker(name: str, plugin_dirs: tuple[str, ...]) -> list[tuple[str, bool, str, bool]]:
    from ..plugins import get_registry

    results = check_sampler(get_registry(plugin_dirs).get("sampler", name))
    return [(r.name, r.passed, r.message, r.warning) for r in results]


def check_sampler_isolated(name: str, plugin_dirs: tuple[str, ...] = (), timeout: float = 300) -> list[CheckResult]:
    """:func:`check_sampler` in its own process with a hard timeout, through the same isolation
    layer as a run's cells: a sampler that crashes or hangs fails its checks instead of taking
    the caller down, and what it prints stays out of the report."""
    from ..executors.isolation import run_isolated, worker_environment

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
