"""A plugin that wraps a library drawing from numpy's global random state passes the conformance
checks when it seeds that state from the ``rng`` it is given (with a warning naming the better
fix), and fails ``deterministic`` when it does not."""

from __future__ import annotations

import numpy as np
import pytest

from genbench.conformance.checks import assert_sampler_conforms, check_sampler, iter_checks
from tests.fixtures.rng_plugins.global_rng import SeedsGlobalRandom, UnseededGlobalRandom

from .conftest import FIXTURES, run_cli

RNG_PLUGINS = str(FIXTURES / "rng_plugins")


def test_genbench_test_passes_a_plugin_that_seeds_the_global_state_from_rng_with_a_warning():
    out = run_cli("test", "seeds_global_random", "--plugin-dir", RNG_PLUGINS)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAIL" not in out.stdout and out.stdout.rstrip().endswith("all checks passed")
    (line,) = [x for x in out.stdout.splitlines() if "deterministic" in x]
    assert line.startswith(
        "PASS seeds_global_random: deterministic — warning: fit/sample change numpy's global random state"
    )
    assert "better pass `rng` to the library" in line


def test_genbench_test_fails_a_plugin_that_uses_the_global_state_unseeded():
    out = run_cli("test", "unseeded_global_random", "--plugin-dir", RNG_PLUGINS)
    assert out.returncode == 1, out.stdout + out.stderr
    (line,) = [x for x in out.stdout.splitlines() if "deterministic" in x]
    assert line.startswith("FAIL unseeded_global_random: deterministic — same seed, different samples")
    assert "numpy's global random state (np.random.*) unseeded" in line
    assert "np.random.seed(rng.integers(2**32))" in line  # the fix


class RestoresGlobalRandom(SeedsGlobalRandom):
    """Seeds numpy's global state from ``rng`` and puts the old state back: no warning."""

    name = "restores_global_random"

    def fit(self, X, *, rng):
        state = np.random.get_state()
        try:
            return super().fit(X, rng=rng)
        finally:
            np.random.set_state(state)

    def sample(self, n, *, rng):
        state = np.random.get_state()
        try:
            return super().sample(n, rng=rng)
        finally:
            np.random.set_state(state)


def test_the_warning_is_a_passed_result_a_pytest_warning_and_leaves_the_global_state_alone():
    from genbench.conformance.checks import CheckWarning  # new with the warning level

    state = np.random.get_state()[1].copy()
    results = {r.name: r for r in check_sampler(SeedsGlobalRandom)}
    assert np.array_equal(np.random.get_state()[1], state), "the checks must restore numpy's global state"
    det = results.pop("deterministic")
    assert det.passed and det.warning and det.status == "WARN"
    assert det.message.startswith("warning: fit/sample change numpy's global random state")
    assert all(r.passed and not r.warning and r.status == "PASS" for r in results.values())
    assert_sampler_conforms(SeedsGlobalRandom)  # warnings pass
    check = next(c for c in iter_checks(SeedsGlobalRandom) if c.name == "deterministic")
    with pytest.warns(CheckWarning, match="better pass `rng` to the library"):
        check(SeedsGlobalRandom)  # as parametrize_with_checks runs it
    assert all(r.passed and not r.warning for r in check_sampler(RestoresGlobalRandom))


def test_unseeded_global_state_fails_deterministic_and_names_it_in_refit():
    failed = {r.name: r.message for r in check_sampler(UnseededGlobalRandom) if not r.passed}
    assert set(failed) == {"deterministic", "refit"}
    assert "numpy's global random state (np.random.*) unseeded" in failed["deterministic"]
    assert "fit/sample also change numpy's global random state" in failed["refit"]
