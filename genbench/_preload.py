"""Imported once by the forkserver, so every worker forked from it starts warm."""

from . import runner  # noqa: F401  (imports numpy and the contracts)
from .plugins import get_registry

try:  # build the default registry now; a broken plugin is reported by the worker instead
    get_registry()
except Exception:
    pass
