"""Imported once by the forkserver, so every worker forked from it starts warm.

It builds the registry for ``$GENBENCH_PLUGIN_DIRS`` and performs the slow imports that the
run's components list in their ``preload`` attribute (passed in ``$GENBENCH_PRELOAD``).
"""

import importlib
import os

from . import runner  # noqa: F401  (imports numpy and the contracts)
from .plugins import get_registry

try:  # build the registry now; a broken plugin is reported by the worker instead
    get_registry()
except Exception:
    pass

for spec in filter(None, os.environ.get("GENBENCH_PRELOAD", "").split(",")):
    module, _, func = spec.partition(":")
    try:
        mod = importlib.import_module(module)
        if func:
            getattr(mod, func)()
    except Exception:  # a failed preload only costs the worker the import
        pass
