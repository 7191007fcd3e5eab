"""Registers the built-in metrics through the ``genbench`` entry-point group."""

from __future__ import annotations

from ..hookspecs import hookimpl
from .energy import Energy
from .memorization import Memorization
from .sliced import SlicedW2


@hookimpl
def genbench_metrics() -> list[type]:
    return [SlicedW2, Energy, Memorization]
