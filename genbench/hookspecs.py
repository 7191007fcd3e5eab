"""Every hook genbench calls: the whole extension surface in one file.

A plugin is a module (an entry point in the ``genbench`` group, or a ``*.py`` file in a
``--plugin-dir``) holding functions decorated with :data:`genbench.hookimpl` whose names
match the specifications below. Each hook is called once per plugin at start-up, when the
registry is built; none is ``firstresult`` — results from all plugins are gathered, and a
name registered twice is a start-up error naming both sources.
"""

from __future__ import annotations

from os import PathLike

import pluggy

hookspec = pluggy.HookspecMarker("genbench")
#: Decorator for plugin functions implementing the hooks below (exported as ``genbench.hookimpl``).
hookimpl = pluggy.HookimplMarker("genbench")


@hookspec
def genbench_samplers() -> list[type]:
    """Return the :class:`genbench.Sampler` subclasses this plugin provides.

    Called by the registry at start-up. Each class needs a unique ``name``.
    """


@hookspec
def genbench_datasets() -> list[type]:
    """Return the :class:`genbench.Dataset` subclasses this plugin provides.

    Called by the registry at start-up. Each class needs a unique ``name``.
    """


@hookspec
def genbench_metrics() -> list[type]:
    """Return the :class:`genbench.Metric` subclasses this plugin provides.

    Called by the registry at start-up. Each class needs a unique ``name``.
    """


@hookspec
def genbench_suites() -> list[str | PathLike]:
    """Return paths of suite TOML files this plugin ships.

    Called by the registry at start-up; a suite is found by its file stem
    (``manifolds.toml`` → ``genbench run --suite manifolds``).
    """
