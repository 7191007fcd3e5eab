"""genbench — a fair, fast benchmark harness for generative samplers.

Public API: the contracts (:class:`Sampler`, :class:`Dataset`, :class:`Metric`), the plugin
marker :data:`hookimpl`, and ``make_sampler`` / ``make_dataset`` / ``make_metric`` /
``run_suite``. Importing genbench is light: numpy, torch and jax load only when used.
"""

from ._version import __version__
from .api import make_dataset, make_metric, make_sampler, run_suite
from .contracts import Dataset, Metric, NaNWithReason, Sampler, nan_with_reason
from .errors import GenbenchError
from .hookspecs import hookimpl

__all__ = [
    "Dataset",
    "GenbenchError",
    "Metric",
    "NaNWithReason",
    "Sampler",
    "__version__",
    "hookimpl",
    "make_dataset",
    "make_metric",
    "make_sampler",
    "nan_with_reason",
    "run_suite",
]
