"""Every registered sampler — built-in or third-party — passes the conformance checks."""

from __future__ import annotations

import pytest

from genbench.checks import CHECKS, check_sampler
from genbench.plugins import get_registry

SAMPLERS = get_registry().names("sampler")


@pytest.mark.parametrize("name", SAMPLERS)
def test_sampler_conforms(name):
    results = check_sampler(get_registry().get("sampler", name))
    assert [r.name for r in results] == [c.__name__.removeprefix("check_") for c in CHECKS]
    failed = [f"{r.name}: {r.message}" for r in results if not r.passed]
    assert not failed, failed


def test_checks_catch_a_broken_sampler():
    from tests.fixtures.failing_plugins.failing import ReturnsNaN, WrongShape

    assert not all(r.passed for r in check_sampler(WrongShape))
    assert not all(r.passed for r in check_sampler(ReturnsNaN))
