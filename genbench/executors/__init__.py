"""Executors run cells in isolated processes and hand back plain result dicts."""

from .local import LocalExecutor

__all__ = ["LocalExecutor"]
