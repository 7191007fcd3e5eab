"""Grid expansion, cell ids and seeds.

Each ``[datasets.X]`` / ``[samplers.Y]`` table maps parameter names to a scalar (fixed) or
a list (a grid axis). The grid is the product of all axes, per dataset × sampler, times
the repetitions. A cell's id lists the parameters written in the suite, sorted by name and
canonically formatted, e.g. ``arc[n_train=250]/kde[bandwidth=0.1]/rep=0``.
"""

from __future__ import annotations

import itertools
from typing import Any

from ..results.schema import Cell, component_id

__all__ = ["Cell", "component_id", "expand"]


def expand(axes: dict[str, Any]) -> list[dict[str, Any]]:
    """All parameter combinations of a table whose list values are axes."""
    keys = sorted(axes)
    values = [v if isinstance(v, list) else [v] for v in (axes[k] for k in keys)]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]
