"""Executors place isolated cells somewhere and hand back their results as they finish.

:mod:`.isolation` runs one function in a watched child process; :mod:`.base` defines the
:class:`Executor` interface; each other module is one executor (``--executor local``).
"""

from .base import Executor, available_executors, make_executor, run_cell
from .local import LocalExecutor

__all__ = ["Executor", "LocalExecutor", "available_executors", "make_executor", "run_cell"]
