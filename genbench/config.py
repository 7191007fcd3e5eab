"""genbench's configuration, defined once: every ``GENBENCH_*`` environment variable, the cache
directory, the ``--device`` choices and the TOML reader for suites.

The Configuration page (docs/configuration.md) lists :data:`ENVIRONMENT`; a test keeps the two equal.
Imports nothing of genbench but its errors (the bottom layer).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import GenbenchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "CACHE_ENV",
    "CODE_VERSION_ENV",
    "DASK_NO_WORKERS_ENV",
    "DASK_SCHEDULER_ENV",
    "DEFAULT_STORE",
    "DEVICES",
    "DEVICE_ENV",
    "DISABLE_AUTOLOAD_ENV",
    "ENVIRONMENT",
    "MAIN_ENV",
    "PLUGIN_DIRS_ENV",
    "PRELOAD_ENV",
    "STORE_ENV",
    "STORE_TIMEOUT_ENV",
    "UNSET_ENV",
    "cache_dir",
    "check_device",
    "dask_no_workers_s",
    "default_store_path",
    "store_timeout_s",
    "tomllib",
]

STORE_ENV = "GENBENCH_STORE"
PLUGIN_DIRS_ENV = "GENBENCH_PLUGIN_DIRS"
DISABLE_AUTOLOAD_ENV = "GENBENCH_DISABLE_PLUGIN_AUTOLOAD"
DEVICE_ENV = "GENBENCH_DEVICE"
CACHE_ENV = "GENBENCH_CACHE"
CODE_VERSION_ENV = "GENBENCH_CODE_VERSION"
DASK_SCHEDULER_ENV = "GENBENCH_DASK_SCHEDULER"
DASK_NO_WORKERS_ENV = "GENBENCH_DASK_NO_WORKERS"
STORE_TIMEOUT_ENV = "GENBENCH_STORE_TIMEOUT"
MAIN_ENV = "GENBENCH_MAIN_PATH"
PRELOAD_ENV = "GENBENCH_PRELOAD"
UNSET_ENV = "GENBENCH_UNSET"

#: Every variable genbench reads: ``name → (who sets it, meaning)``. "user": you may set it;
#: "internal": the run sets it for its workers (listed so that nothing is hidden).
ENVIRONMENT: dict[str, tuple[str, str]] = {
    STORE_ENV: ("user", "the results store when --store is not given (default: genbench.db here)"),
    PLUGIN_DIRS_ENV: ("user", "folders of single-file plugins, joined by the path separator (as --plugin-dir)"),
    DISABLE_AUTOLOAD_ENV: ("user", "1: load only genbench's own entry points, no third-party plugin"),
    DEVICE_ENV: ("user", "auto, cpu or cuda: the run's --device, as samplers read it in a worker"),
    CACHE_ENV: ("user", "cache folder (simulated trajectories, jax's compilation cache); default ~/.cache/genbench"),
    CODE_VERSION_ENV: ("user", "overrides the code version that keys resume (to resume across edits you trust)"),
    DASK_SCHEDULER_ENV: ("user", "address of the Dask scheduler for --executor dask (as --scheduler)"),
    DASK_NO_WORKERS_ENV: ("user", "seconds a Dask run waits with no worker before it ends, resumable (default 300)"),
    STORE_TIMEOUT_ENV: ("user", "seconds a write waits for another process's lock on the store (default 30)"),
    MAIN_ENV: ("internal", "the parent's console script, imported once by the worker forkserver"),
    PRELOAD_ENV: ("internal", "modules the run's components preload in the worker forkserver"),
    UNSET_ENV: ("internal", "variables a worker removes from what it inherited from an earlier run"),
}

#: ``--device`` choices: ``auto`` lets each sampler use a GPU when it finds one.
DEVICES = ("auto", "cpu", "cuda")

#: The store file when neither ``--store`` nor ``$GENBENCH_STORE`` names one.
DEFAULT_STORE = "genbench.db"


def check_device(device: str) -> str:
    """``device`` when it is one of :data:`DEVICES`; else a one-line :class:`GenbenchError`."""
    if device not in DEVICES:
        raise GenbenchError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    return device


def cache_dir() -> Path:
    """genbench's cache directory: ``$GENBENCH_CACHE``, else ``$XDG_CACHE_HOME/genbench`` or
    ``~/.cache/genbench`` (simulated trajectories, jax's compilation cache)."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "genbench")
    return Path(root)


def _seconds(var: str, default: float) -> float:
    """A positive number of seconds from ``$var`` (``default`` when unset); one-line error if not."""
    text = os.environ.get(var, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise GenbenchError(f"{var} must be a positive number of seconds, got {text!r}")
    return value


def store_timeout_s() -> float:
    """Seconds a store write waits for a lock another process holds (``$GENBENCH_STORE_TIMEOUT``, 30)."""
    return _seconds(STORE_TIMEOUT_ENV, 30.0)


def dask_no_workers_s() -> float:
    """Seconds a Dask run waits with no worker on the cluster before it ends with the store
    resumable (``$GENBENCH_DASK_NO_WORKERS``, 300: long enough for a batch queue to start workers)."""
    return _seconds(DASK_NO_WORKERS_ENV, 300.0)


def default_store_path() -> Path:
    """``$GENBENCH_STORE`` if set, else ``genbench.db`` in the current directory."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)
