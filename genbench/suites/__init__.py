"""Suites shipped with genbench, registered through the ``genbench_suites`` hook."""

from __future__ import annotations

from pathlib import Path

from ..hookspecs import hookimpl

HERE = Path(__file__).parent


@hookimpl
def genbench_suites() -> list[Path]:
    return sorted(HERE.glob("*.toml"))
