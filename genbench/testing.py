"""genbench's conformance checks as pytest tests, for plugin authors.

:func:`parametrize_with_checks` makes one test per (sampler, check) pair, as scikit-learn's
``parametrize_with_checks`` does for estimators. Put this in your plugin's test suite::

    from genbench.testing import parametrize_with_checks
    from my_plugin import MySampler

    @parametrize_with_checks([MySampler, "kde"])  # sampler classes or registered names
    def test_conforms(sampler, check):
        check(sampler)

Each test gets ``sampler`` (the class) and ``check`` (a callable that raises
:class:`AssertionError` saying what to fix, e.g. "same seed, different samples: draw from the
`rng` passed to fit/sample, …") and has an id like ``my_sampler-deterministic``; select one with
``pytest -k "my_sampler and deterministic"``. The checks are those of ``genbench test``
(:mod:`genbench.conformance.checks`): every ``__init__`` parameter has a default and is stored unchanged
under its own name, ``fit`` returns ``self`` and changes no parameter nor its input, samples
are finite float ``(n, d)`` arrays, reproducible from the ``rng`` passed in, independent of an
earlier fit, and tiny (M = 3) and 1-D training sets work.

The checks build every sampler as ``cls(**cls.checking_params)``: a sampler that is slow with
its defaults declares small values there (fewer steps, chains or epochs) and is checked in
seconds — ``checking_params = {"epochs": 2}``. A sampler whose optional packages
(``requires_packages``) are not installed has its tests skipped, with the reason.

pytest is imported only when :func:`parametrize_with_checks` is called; this module imports
without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .conformance.checks import SamplerCheck, iter_checks
from .contracts import Sampler

__all__ = ["check_id", "iter_checks", "parametrize_with_checks", "sampler_checks"]


def _resolve(sampler: type[Sampler] | str) -> type[Sampler]:
    if isinstance(sampler, str):
        from .plugins import get_registry

        return get_registry().get("sampler", sampler)
    if isinstance(sampler, type) and issubclass(sampler, Sampler):
        return sampler
    if isinstance(sampler, Sampler):
        raise TypeError(
            f"pass the class {type(sampler).__name__}, not an instance: the checks build their own samplers "
            "from checking_params"
        )
    raise TypeError(f"expected a genbench.Sampler subclass or a registered sampler name, got {sampler!r}")


def _label(cls: type[Sampler]) -> str:
    return cls.name or cls.__name__


def check_id(cls: type[Sampler], check: SamplerCheck) -> str:
    """The pytest id of a (sampler, check) pair: ``"<sampler name>-<check name>"``, e.g. ``kde-deterministic``."""
    return f"{_label(cls)}-{check.name}"


def sampler_checks(samplers: Iterable[type[Sampler] | str]) -> Iterator[tuple[type[Sampler], SamplerCheck]]:
    """Every (sampler class, check) pair for ``samplers`` (classes or registered names), in order."""
    for sampler in samplers:
        cls = _resolve(sampler)
        for check in iter_checks(cls):
            yield cls, check


def parametrize_with_checks(samplers: Iterable[type[Sampler] | str] | type[Sampler] | str) -> Any:
    """A ``pytest.mark.parametrize`` decorator over every (sampler, check) pair.

    ``samplers`` are :class:`genbench.Sampler` subclasses or names registered by plugins (a
    single one is accepted too). The decorated test takes the arguments ``sampler`` (the class)
    and ``check`` (call ``check(sampler)``; it raises :class:`AssertionError` on failure) and
    gets one pytest id per pair, ``"<sampler name>-<check name>"`` (e.g. ``kde-deterministic``).
    Pairs of a sampler whose ``requires_packages`` are missing are marked skipped.
    """
    import pytest

    from .plugins import unavailable_reason

    if isinstance(samplers, (str, type)):
        samplers = [samplers]
    params = []
    for cls, check in sampler_checks(samplers):
        reason = unavailable_reason(cls)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(cls, check, id=check_id(cls, check), marks=marks))
    return pytest.mark.parametrize(("sampler", "check"), params)
