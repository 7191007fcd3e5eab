"""How the reports print a value with its spread, one column at a time.

A column of ``mean ± sd`` uses one notation for every row (decimals, or — when a row's spread is
below 10⁻⁶ or a value is 10⁶ or more — powers of ten for every row); each mean is rounded to the
decimal place of its own spread's second significant figure (``0.1770 ± 0.0055``, never
``0.177 ± 0.0055``); a value with no spread gets 3 significant figures; an exact zero prints ``0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeGuard

#: Shown for a missing value (no repetition gave one).
MISSING = "—"
#: Decimals beyond which a column switches to powers of ten.
_MAX_DECIMALS = 6
_BIG = 1e6


def _decimals(sd: float) -> int:
    """Decimal places that keep 2 significant figures of ``sd`` (0 for spreads ≥ 10)."""
    return max(0, 1 - math.floor(math.log10(sd)))


def _finite(x: float | None) -> TypeGuard[float]:
    return x is not None and math.isfinite(x)


def _plain(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    return "0" if float(text) == 0 else text


def _sig(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant figures, in decimals (no exponent below 10⁶)."""
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return _plain(x, decimals)


def _scientific(mean: float, sd: float | None) -> str:
    m = "0" if mean == 0 else f"{mean:.2e}"
    if not _finite(sd):
        return m
    return f"{m} ± {'0' if sd == 0 else f'{sd:.1e}'}"


def needs_powers(pairs: Sequence[tuple[float | None, float | None]]) -> bool:
    """Whether a column of ``(mean, sd)`` is printed with powers of ten (see the module docstring)."""
    for mean, sd in pairs:
        if _finite(mean) and abs(mean) >= _BIG:
            return True
        if _finite(sd) and sd > 0 and _decimals(sd) > _MAX_DECIMALS:
            return True
        if _finite(mean) and not _finite(sd) and mean != 0 and abs(mean) < 10.0 ** (2 - _MAX_DECIMALS):
            return True
    return False


def mean_sd(mean: float | None, sd: float | None, *, powers: bool = False) -> str:
    """One ``mean ± sd`` (``powers``: in powers of ten, as its column decided)."""
    if mean is None or not _finite(mean):
        return MISSING
    if powers:
        return _scientific(mean, sd)
    if sd is None or not _finite(sd):
        return _sig(mean)
    if sd == 0:
        return f"{_sig(mean)} ± 0"
    d = _decimals(sd)
    return f"{_plain(mean, d)} ± {_plain(sd, d)}"


def column(pairs: Sequence[tuple[float | None, float | None]]) -> list[str]:
    """A column of ``mean ± sd`` in one notation, each mean rounded to its spread."""
    powers = needs_powers(pairs)
    return [mean_sd(m, s, powers=powers) for m, s in pairs]
