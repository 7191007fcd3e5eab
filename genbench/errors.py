"""Errors genbench raises on bad input, and helpers that phrase them well."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GenbenchError(ValueError):
    """Bad input from the user: a suite, a selector, a component name or parameter.

    The CLI prints the message on one line and exits with status 2; the Python API lets it
    propagate (it is a :class:`ValueError`).
    """


class FileWriteError(OSError):
    """The machine refused a write genbench needed: a full disk, an I/O error, a read-only or
    deleted file. Not bad input: the CLI prints one line and exits with :data:`EXIT_IOERR`; the API
    lets it propagate (it is an :class:`OSError`)."""

    def __init__(self, path: str, what: str, cause: str) -> None:
        super().__init__(f"{path}: {what} failed ({cause})")
        self.path, self.what, self.cause = path, what, cause


class StoreWriteError(FileWriteError):
    """The results store could not record a result (disk full, I/O error, a store deleted or locked
    mid-run); the CLI's line adds the finished cells kept and the command that resumes."""

    def __init__(self, store: str, what: str, cause: str) -> None:
        super().__init__(f"results store {store}", what, cause)
        self.store = store
        #: finished cells of the suite that the store holds (``None``: could not be counted)
        self.kept: int | None = None


class ClusterLostError(RuntimeError):
    """The cluster a run used went away: the Dask scheduler stopped answering, or no worker was left
    for longer than the grace period. Every finished cell is already stored; the CLI prints one
    line with the cells kept and the command that resumes, and exits with :data:`EXIT_UNAVAILABLE`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        #: finished cells of the suite that the store holds (``None``: could not be counted)
        self.kept: int | None = None


#: Exit status of a run whose cluster went away (sysexits.h ``EX_UNAVAILABLE``).
EXIT_UNAVAILABLE = 69

#: Exit status of a run the machine stopped (sysexits.h ``EX_IOERR``); bad input is 2, an
#: interruption 128 + the signal (130 for Ctrl-C, 143 for SIGTERM).
EXIT_IOERR = 74


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
