"""Every registered sampler — built-in or third-party — passes the conformance checks, and each
check catches a sampler that breaks its rule, saying what to fix."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import genbench
from genbench.conformance.checks import CHECKS, CheckFailure, check_sampler, iter_checks
from genbench.plugins import get_registry
from genbench.testing import parametrize_with_checks

SAMPLERS = get_registry().names("sampler")
CHECK_NAMES = [c.__name__.removeprefix("check_") for c in CHECKS]


@parametrize_with_checks(SAMPLERS)
def test_sampler_conforms(sampler, check):
    check(sampler)


# --- samplers that break one rule each ----------------------------------------------------------


class Jitter(genbench.Sampler):
    """A conforming sampler: resample a training point and add ``scale``-sized noise."""

    name = "jitter"

    def __init__(self, scale: float = 0.1) -> None:
        self.scale = scale

    def fit(self, X, *, rng):
        self.X_ = np.asarray(X, dtype=np.float64)
        return self

    def sample(self, n, *, rng):
        idx = rng.integers(len(self.X_), size=n)
        return self.X_[idx] + self.scale * rng.standard_normal((n, self.X_.shape[1]))


class StoresUnderOtherName(Jitter):
    name = "stores_under_other_name"

    def __init__(self, scale: float = 0.1) -> None:
        self._scale = scale  # get_params() still reads the default: only the strict check sees it

    def sample(self, n, *, rng):
        idx = rng.integers(len(self.X_), size=n)
        return self.X_[idx] + self._scale * rng.standard_normal((n, self.X_.shape[1]))


class ConvertsInInit(Jitter):
    name = "converts_in_init"

    def __init__(self, scale: float = 0.1) -> None:
        self.scale = np.asarray(scale)


class ValidatesInInit(Jitter):
    name = "validates_in_init"

    def __init__(self, scale: float = 0.1) -> None:
        if not scale > 0:
            raise ValueError("scale must be positive")
        self.scale = scale


class ChangesParamInFit(Jitter):
    name = "changes_param_in_fit"

    def fit(self, X, *, rng):
        self.scale = 0.1 * float(np.std(X))
        return super().fit(X, rng=rng)


class MutatesArrayParam(Jitter):
    """An array parameter (and a NaN one) that fit leaves alone unless ``mutate``."""

    name = "mutates_array_param"
    checking_params = {"shift": np.array([0.5, -0.5])}  # noqa: RUF012
    mutate = False

    def __init__(self, shift: np.ndarray | None = None, scale: float = 0.1, spare: float = float("nan")) -> None:
        self.shift = shift
        self.scale = scale
        self.spare = spare

    def fit(self, X, *, rng):
        if self.shift is None:
            self.shift_ = np.zeros(X.shape[1])
        else:
            self.shift_ = np.resize(np.asarray(self.shift, dtype=np.float64), X.shape[1])
            if self.mutate:
                self.shift += 1.0  # in place: the parameter object is the same, its value is not
        return super().fit(X, rng=rng)

    def sample(self, n, *, rng):
        return super().sample(n, rng=rng) + self.shift_


class MutatesArrayParamInPlace(MutatesArrayParam):
    name = "mutates_array_param_in_place"
    mutate = True


class Kernel:
    """A parameter object without ``__eq__``: a copy of it never compares equal to it."""

    width = 0.1


class TakesAnObject(Jitter):
    name = "takes_an_object"
    checking_params = {"kernel": Kernel()}  # noqa: RUF012

    def __init__(self, kernel: Kernel | None = None) -> None:
        self.kernel = kernel

    def sample(self, n, *, rng):
        idx = rng.integers(len(self.X_), size=n)
        return self.X_[idx] + self.kernel.width * rng.standard_normal((n, self.X_.shape[1]))


class UsesGlobalRandom(Jitter):
    name = "uses_global_random"

    def sample(self, n, *, rng):
        idx = rng.integers(len(self.X_), size=n)
        return self.X_[idx] + self.scale * np.random.standard_normal((n, self.X_.shape[1]))


class UsesUnseededGenerator(Jitter):
    name = "uses_unseeded_generator"

    def sample(self, n, *, rng):
        return super().sample(n, rng=np.random.default_rng())


class ModifiesInput(Jitter):
    name = "modifies_input"

    def fit(self, X, *, rng):
        X -= X.mean(axis=0)
        return super().fit(X, rng=rng)


class KeepsFirstFit(Jitter):
    name = "keeps_first_fit"

    def fit(self, X, *, rng):
        if not hasattr(self, "X_"):
            self.X_ = np.asarray(X, dtype=np.float64)
        return self


class ReturnsInts(Jitter):
    name = "returns_ints"

    def sample(self, n, *, rng):
        return np.rint(super().sample(n, rng=rng)).astype(int)


class Squeezes(Jitter):
    name = "squeezes"

    def sample(self, n, *, rng):
        return np.squeeze(super().sample(n, rng=rng))


class ForgetsReturnSelf(Jitter):
    name = "forgets_return_self"

    def fit(self, X, *, rng):
        super().fit(X, rng=rng)


class SlowByDefault(Jitter):
    """Would take hours with its default ``steps``; ``checking_params`` makes it instant."""

    name = "slow_by_default"
    checking_params = {"steps": 3}  # noqa: RUF012

    def __init__(self, steps: int = 1_000_000, scale: float = 0.1) -> None:
        self.steps = steps
        self.scale = scale

    def fit(self, X, *, rng):
        if self.steps > 100:
            raise RuntimeError(f"steps={self.steps} would take hours")
        return super().fit(X, rng=rng)


class SlowWithoutCheckingParams(SlowByDefault):
    name = "slow_without_checking_params"
    checking_params = {}  # noqa: RUF012


class MisspelledCheckingParams(SlowByDefault):
    name = "misspelled_checking_params"
    checking_params = {"step": 3}  # noqa: RUF012


class InvalidCheckingParams(SlowByDefault):
    name = "invalid_checking_params"
    checking_params = {"steps": -1}  # noqa: RUF012


def failures(cls) -> dict[str, str]:
    """``{check name: message}`` of the checks ``cls`` fails."""
    results = check_sampler(cls)
    assert [r.name for r in results] == CHECK_NAMES
    return {r.name: r.message for r in results if not r.passed}


def run(cls, name: str) -> None:
    """Run one check the way ``parametrize_with_checks`` does."""
    next(c for c in iter_checks(cls) if c.name == name)(cls)


# --- each check catches what it checks ----------------------------------------------------------


def test_a_conforming_sampler_passes_every_check():
    assert failures(Jitter) == {}
    assert failures(MutatesArrayParam) == {}  # array and NaN parameters compare by value
    assert failures(TakesAnObject) == {}  # an object without __eq__ is compared by identity


def test_init_must_store_each_parameter_under_its_own_name():
    assert failures(StoresUnderOtherName) == {
        "init_stores_params": "parameter 'scale' is not stored as self.scale by __init__: store every __init__ "
        "argument unchanged under its own name (scikit-learn convention); here self.scale is not set"
    }
    with pytest.raises(AssertionError, match=r"parameter 'scale' is not stored as self\.scale by __init__"):
        run(StoresUnderOtherName, "init_stores_params")


def test_init_must_store_parameters_unchanged_and_not_validate_them():
    msg = failures(ConvertsInInit)["init_stores_params"]
    assert msg.startswith("parameter 'scale' is not stored as self.scale by __init__: store every __init__ argument")
    assert msg.endswith("here self.scale is array(<placeholder for 'scale'>)")
    msg = failures(ValidatesInInit)["init_stores_params"]
    assert msg.startswith("__init__ raised TypeError")
    assert "__init__ must only store its arguments; validate them in check_params() or fit()" in msg


def test_fit_must_not_change_params():
    msg = failures(ChangesParamInFit)["fit_does_not_change_params"]
    assert msg.startswith("fit() changed parameter 'scale' from 0.1 to 0.115")
    assert "keep learned state in attributes ending in _ (e.g. self.scale_)" in msg
    msg = failures(MutatesArrayParamInPlace)["fit_does_not_change_params"]
    assert msg.startswith("fit() changed parameter 'shift' from array([ 0.5, -0.5]) to array([1.5, 0.5])")
    assert np.array_equal(MutatesArrayParamInPlace.checking_params["shift"], [0.5, -0.5])  # the checks pass copies


@pytest.mark.parametrize("cls", [UsesGlobalRandom, UsesUnseededGenerator])
def test_randomness_must_come_from_the_rng_passed_in(cls):
    msg = failures(cls)["deterministic"]
    assert "draw from the `rng` passed to fit/sample, not np.random or an unseeded generator" in msg
    state = np.random.get_state()[1].copy()
    check_sampler(cls)
    assert np.array_equal(np.random.get_state()[1], state), "the check must restore numpy's global state"


def test_global_random_state_is_named():
    msg = failures(UsesGlobalRandom)["deterministic"]
    assert msg.startswith("same seed, different samples (max |difference|")
    assert "fit/sample use numpy's global random state (np.random.*) unseeded" in msg
    assert msg.endswith("seeded from it first: np.random.seed(rng.integers(2**32))")
    msg = failures(UsesUnseededGenerator)["deterministic"]
    assert msg.startswith("same seed, different samples") and "global random state" not in msg


def test_other_rules_fail_with_what_to_fix():
    assert failures(ModifiesInput) == {
        "does_not_modify_input": "fit() modified its input X: copy before changing it "
        "(e.g. X = np.array(X, dtype=np.float64)), or change a copy in sample()"
    }
    assert failures(KeepsFirstFit)["refit"].startswith("a refit sampler differs from a fresh one (max |difference|")
    assert "reset learned state in fit()" in failures(KeepsFirstFit)["refit"]
    assert failures(ReturnsInts)["shape_and_dtype"].startswith("sample() returned dtype int64, expected floating")
    assert "keep 2-D arrays throughout" in failures(Squeezes)["one_dimensional"]
    assert "end fit() with `return self`" in failures(ForgetsReturnSelf)["shape_and_dtype"]


def test_broken_fixture_samplers_fail_shape_and_dtype():
    from tests.fixtures.failing_plugins.failing import Raises, ReturnsNaN, WrongShape

    msg = failures(WrongShape)["shape_and_dtype"]
    assert msg.startswith("sample(37) returned shape (36, 2), expected (37, 2): return exactly n points")
    msg = failures(ReturnsNaN)["shape_and_dtype"]
    assert msg.startswith("sample() returned 2 non-finite values (NaN or inf) of 74")
    raised = failures(Raises)  # an exception in the sampler: its type, message and where it was raised
    assert re.fullmatch(r"RuntimeError: deliberate failure in fit \(fit:\d+\)", raised["shape_and_dtype"])
    with pytest.raises(AssertionError, match="deliberate failure in fit") as info:
        run(Raises, "deterministic")
    assert isinstance(info.value.__cause__, RuntimeError)  # chained: pytest shows the sampler's traceback


# --- checking_params ----------------------------------------------------------------------------


def test_checks_build_samplers_from_checking_params():
    assert failures(SlowByDefault) == {}
    failed = failures(SlowWithoutCheckingParams)
    assert set(failed) == set(CHECK_NAMES) - {"defaults_and_params", "init_stores_params"}
    assert failed["refit"].startswith("RuntimeError: steps=1000000 would take hours")


def test_unknown_checking_params_fail_with_a_clear_message():
    failed = failures(MisspelledCheckingParams)
    expected = (
        "MisspelledCheckingParams.checking_params names unknown parameters 'step' "
        "(__init__ takes: scale, steps): use the names of __init__'s parameters"
    )
    assert failed["defaults_and_params"] == expected
    assert failed["shape_and_dtype"] == expected  # every check that builds a sampler says the same
    assert "init_stores_params" not in failed


def test_invalid_checking_params_fail_the_defaults_check():
    msg = failures(InvalidCheckingParams)["defaults_and_params"]
    assert (
        msg == "checking_params are invalid (steps must be positive, got -1): fix InvalidCheckingParams.checking_params"
    )


# --- parametrize_with_checks --------------------------------------------------------------------


def test_parametrize_with_checks_gives_one_id_per_sampler_and_check():
    def test_it(sampler, check):
        check(sampler)

    decorated = parametrize_with_checks(["kde", Jitter])(test_it)
    (mark,) = decorated.pytestmark
    assert mark.name == "parametrize" and mark.args[0] == ("sampler", "check")
    params = mark.args[1]
    assert [p.id for p in params] == [f"kde-{n}" for n in CHECK_NAMES] + [f"jitter-{n}" for n in CHECK_NAMES]
    assert params[0].values[0] is get_registry().get("sampler", "kde")
    sampler, check = params[-1].values
    assert sampler is Jitter and check.name == "one_dimensional"
    check(sampler)
    assert [p.id for p in parametrize_with_checks(Jitter).args[1]] == [f"jitter-{n}" for n in CHECK_NAMES]


def test_parametrize_with_checks_rejects_instances_and_unknown_names():
    with pytest.raises(TypeError, match="pass the class Jitter, not an instance"):
        parametrize_with_checks([Jitter()])
    with pytest.raises(genbench.GenbenchError, match="unknown sampler 'kdee' — did you mean 'kde'"):
        parametrize_with_checks(["kdee"])


def test_parametrize_with_checks_skips_a_sampler_whose_packages_are_missing():
    class NeedsMissing(Jitter):
        name = "needs_missing"
        requires_packages = ("genbench_no_such_module",)

    params = parametrize_with_checks([NeedsMissing]).args[1]
    assert all(m.name == "skip" for p in params for m in p.marks) and all(p.marks for p in params)


def test_the_checks_fail_as_assertion_errors():
    assert issubclass(CheckFailure, AssertionError)


def test_genbench_imports_without_pytest():
    code = (
        "import sys\nsys.modules['pytest'] = None\n"
        "import genbench.testing, genbench.conformance.checks\n"
        "from genbench.testing import sampler_checks\n"
        "print(len(list(sampler_checks(['kde']))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(len(CHECKS))
