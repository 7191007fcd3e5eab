"""Errors genbench raises on bad input, and helpers that phrase them well."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GenbenchError(ValueError):
    """Bad input from the user: a suite, a selector, a component name or parameter.

    The CLI prints the message on one line and exits with status 2; the Python API lets it
    propagate (it is a :class:`ValueError`).
    """


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" — did you mean 'x'?"`` for the closest choice, or list what exists."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f" — did you mean {close[0]!r}?"
    if not choices:
        return " (none are registered)"
    shown = ", ".join(repr(c) for c in choices[:12])
    more = f", … ({len(choices)} in all)" if len(choices) > 12 else ""
    return f" (known: {shown}{more})"
