"""Imported once by the forkserver, so every worker forked from it starts warm.

It imports the parent's main script (``$GENBENCH_MAIN_PATH``) the way each child would, so that
children find it imported already; builds the registry for ``$GENBENCH_PLUGIN_DIRS``; and performs
the slow imports that the run's components list in their ``preload`` attribute
(``$GENBENCH_PRELOAD``).
"""

import importlib
import os
from multiprocessing import process, spawn

from ..config import MAIN_ENV, PRELOAD_ENV
from ..plugins import get_registry
from . import worker  # noqa: F401  (imports numpy and the contracts)

_main = os.environ.get(MAIN_ENV)
if _main:  # as CPython's forkserver does for its own "__main__" preload (which never gets the path)
    # CPython's private flag (typeshed omits it): a script that starts processes at import fails fast
    process.current_process()._inheriting = True  # type: ignore[attr-defined]
    try:
        spawn.import_main_path(_main)
    except Exception:  # a main we cannot import: each child imports it (and reports) as before
        pass
    finally:
        del process.current_process()._inheriting  # type: ignore[attr-defined]

try:  # build the registry now; a broken plugin is reported by the worker instead
    get_registry()
except Exception:
    pass

for spec in filter(None, os.environ.get(PRELOAD_ENV, "").split(",")):
    module, _, func = spec.partition(":")
    try:
        mod = importlib.import_module(module)
        if func:
            getattr(mod, func)()
    except Exception:  # a failed preload only costs the worker the import
        pass
