"""Parameter checks shared by the neural samplers, importable without torch (``check_params`` runs
wherever a suite is validated, torch or not)."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_budget(steps: Any, max_seconds: Any, batch_size: Any, batch_name: str = "batch_size") -> None:
    """The shared parameter checks of a training budget (one-line :class:`ValueError`)."""
    for name, value in (("steps", steps), (batch_name, batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    seconds_ok = isinstance(max_seconds, (int, float, np.integer, np.floating)) and not isinstance(max_seconds, bool)
    if max_seconds is not None and not (seconds_ok and max_seconds > 0):
        raise ValueError(f"max_seconds must be a positive number of seconds or None, got {max_seconds!r}")


def check_positive(component: Any, *names: str) -> None:
    """Each named parameter is a positive number (one-line :class:`ValueError` naming it)."""
    for name in names:
        value = getattr(component, name)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")


def check_widths(name: str, widths: Any) -> None:
    """A non-empty list of positive layer widths."""
    ok = isinstance(widths, (list, tuple)) and len(widths) > 0
    ok = ok and all(not isinstance(w, bool) and isinstance(w, (int, np.integer)) and w >= 1 for w in widths)
    if not ok:
        raise ValueError(f"{name} must be a non-empty list of positive layer widths, got {widths!r}")


def check_int(component: Any, *names: str) -> None:
    """Each named parameter is a positive integer."""
    for name in names:
        value = getattr(component, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_choice(component: Any, name: str, *choices: str) -> None:
    """Parameter ``name`` is one of ``choices`` ("x must be 'a', 'b' or 'c', got …")."""
    value = getattr(component, name)
    if value not in choices:
        quoted = [repr(c) for c in choices]
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        raise ValueError(f"{name} must be {listed}, got {value!r}")
