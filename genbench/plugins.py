"""The plugin host: finds plugins, gathers their components, catches name clashes, describes them.

Built-in components ship in the ``genbench`` distribution and are registered through the
``genbench`` entry-point group exactly like a third-party package's. An entry point may name a
module or a **package**: every public module of a package is registered as a plugin of its own
(as ``--plugin-dir`` does with a folder's files), so adding a built-in sampler is one new file
in ``plugins/``. Setting ``GENBENCH_DISABLE_PLUGIN_AUTOLOAD=1`` loads only the entry points of
the ``genbench`` distribution itself. Single-file plugins are loaded from plugin directories.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import pkgutil
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .config import DISABLE_AUTOLOAD_ENV, PLUGIN_DIRS_ENV, tomllib
from .contracts import Component, Dataset, Metric, Sampler
from .errors import GenbenchError, did_you_mean

ENTRY_POINT_GROUP = "genbench"
BUILTIN_DIST = "genbench"

KINDS: dict[str, type[Component]] = {"sampler": Sampler, "dataset": Dataset, "metric": Metric}
_HOOK_OF_KIND = {"sampler": "genbench_samplers", "dataset": "genbench_datasets", "metric": "genbench_metrics"}


@dataclass(frozen=True)
class Entry:
    """One registered component (or suite): its name, kind, object and where it came from."""

    name: str
    kind: str
    obj: Any
    source: str


@dataclass
class Registry:
    """Everything the loaded plugins provide, by kind and name."""

    components: dict[str, dict[str, Entry]] = field(
        default_factory=lambda: {"sampler": {}, "dataset": {}, "metric": {}, "suite": {}}
    )
    plugins: list[str] = field(default_factory=list)
    plugin_dirs: tuple[str, ...] = ()

    def names(self, kind: str) -> list[str]:
        return sorted(self.components[kind])

    def get(self, kind: str, name: str) -> Any:
        """The class (or suite path) registered as ``name``; :class:`GenbenchError` if unknown."""
        table = self.components[kind]
        if name not in table:
            raise GenbenchError(f"unknown {kind} {name!r}{did_you_mean(name, table)}")
        return table[name].obj

    def entries(self) -> list[Entry]:
        return [e for kind in self.components.values() for e in kind.values()]

    def add(self, kind: str, name: str, obj: Any, source: str) -> None:
        table = self.components[kind]
        if name in table and table[name].obj is not obj:
            raise GenbenchError(f"two plugins register the {kind} {name!r}: {table[name].source} and {source}")
        table[name] = Entry(name, kind, obj, source)


def _entry_points() -> list[metadata.EntryPoint]:
    eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    # One distribution may be visible twice (e.g. an editable install on sys.path twice).
    seen: dict[tuple[str, str], metadata.EntryPoint] = {}
    for ep in eps:
        dist = getattr(ep, "dist", None)
        seen.setdefault((dist.name if dist else "?", ep.name), ep)
    return list(seen.values())


def _load_file_plugin(path: Path) -> ModuleType:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    modname = f"genbench_plugindir_{path.stem}_{digest}"
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise GenbenchError(f"plugin file {path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[modname]
        raise GenbenchError(f"plugin file {path}: import failed: {type(exc).__name__}: {exc}") from exc
    return module


def _entry_point_modules(ep: metadata.EntryPoint, dist: str) -> list[tuple[str, ModuleType]]:
    """``(source, module)`` for an entry point: its module, or every public module of its package."""
    source = f"{dist}:{ep.name} ({ep.value})"
    try:
        module = ep.load()
    except Exception as exc:
        raise GenbenchError(f"plugin {source} failed to import: {type(exc).__name__}: {exc}") from exc
    out = [(source, module)]
    if hasattr(module, "__path__"):  # a package: each module in it is a plugin
        for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            name = f"{module.__name__}.{info.name}"
            sub_source = f"{dist}:{ep.name} ({name})"
            try:
                out.append((sub_source, importlib.import_module(name)))
            except Exception as exc:
                what = f"{type(exc).__name__}: {exc}"
                raise GenbenchError(f"plugin {sub_source} failed to import: {what}") from exc
    return out


def plugin_dirs_from_env() -> tuple[str, ...]:
    raw = os.environ.get(PLUGIN_DIRS_ENV, "")
    return tuple(p for p in raw.split(os.pathsep) if p)


def _make_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("genbench")
    pm.add_hookspecs(hookspecs)
    return pm


def build_registry(plugin_dirs: tuple[str, ...] | list[str] = ()) -> Registry:
    """Load every plugin and gather its components into a :class:`Registry`.

    Raises :class:`GenbenchError` on a name registered twice, a plugin that fails to
    import, a component of the wrong type, or a hook name with a typo.
    """
    pm = _make_manager()
    registry = Registry(plugin_dirs=tuple(str(Path(p)) for p in plugin_dirs))
    _register_plugins(pm, registry.plugin_dirs)
    _check_hook_names(pm)
    registry.plugins = [pm.get_name(p) or "?" for p in pm.get_plugins()]
    _gather_components(pm, registry)
    return registry


def _register_plugins(pm: pluggy.PluginManager, plugin_dirs: tuple[str, ...]) -> None:
    """Register the entry-point plugins (only genbench's own when autoloading is disabled), then
    each ``*.py`` file of the plugin directories."""
    autoload = os.environ.get(DISABLE_AUTOLOAD_ENV, "") in ("", "0")
    for ep in _entry_points():
        found = getattr(ep, "dist", None)
        dist = found.name if found else "?"
        if not autoload and dist != BUILTIN_DIST:
            continue
        for source, module in _entry_point_modules(ep, dist):
            if not pm.is_registered(module):
                pm.register(module, name=source)
    for d in plugin_dirs:
        directory = Path(d)
        if not directory.is_dir():
            raise GenbenchError(f"--plugin-dir {d}: not a directory")
        for path in sorted(directory.glob("*.py")):
            module = _load_file_plugin(path)
            if not pm.is_registered(module):
                pm.register(module, name=f"file {path}")


def _check_hook_names(pm: pluggy.PluginManager) -> None:
    """A hook implementation whose name matches no specification is a one-line error with a suggestion."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        hook = str(exc).split("'")[1] if "'" in str(exc) else "?"
        specs = [n for n in dir(hookspecs) if n.startswith("genbench_")]
        raise GenbenchError(
            f"plugin {pm.get_name(exc.plugin)}: unknown hook {hook!r}{did_you_mean(hook, specs)}"
        ) from None


def _gather_components(pm: pluggy.PluginManager, registry: Registry) -> None:
    """Add every component class and suite file the registered plugins' hooks return."""
    for kind, hook_name in _HOOK_OF_KIND.items():
        base = KINDS[kind]
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            source = impl.plugin_name
            for cls in _call_hook(impl, hook_name):
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    raise GenbenchError(
                        f"plugin {source}: {hook_name}() returned {cls!r}, expected a genbench.{base.__name__} subclass"
                    )
                if not isinstance(cls.name, str) or not cls.name:
                    raise GenbenchError(f"plugin {source}: {cls.__qualname__}.name must be a non-empty str")
                registry.add(kind, cls.name, cls, source)
    for impl in pm.hook.genbench_suites.get_hookimpls():
        for path in _call_hook(impl, "genbench_suites"):
            p = Path(path)
            registry.add("suite", p.stem, p, impl.plugin_name)


def _call_hook(impl: pluggy.HookImpl, hook_name: str) -> list[Any]:
    """Call one plugin's hook; anything but a list (or ``None``) is a one-line error naming it."""
    try:
        out = impl.function()
    except Exception as exc:
        what = f"{type(exc).__name__}: {exc}"
        raise GenbenchError(f"plugin {impl.plugin_name}: {hook_name}() raised {what}") from exc
    if out is None:
        return []
    if not isinstance(out, (list, tuple)):
        raise GenbenchError(f"plugin {impl.plugin_name}: {hook_name}() must return a list, got {out!r}")
    return list(out)


_CACHE: dict[tuple[tuple[str, ...], str], Registry] = {}


def get_registry(plugin_dirs: tuple[str, ...] | list[str] | None = None) -> Registry:
    """The registry for these plugin dirs (default: ``$GENBENCH_PLUGIN_DIRS``), cached per process."""
    dirs = tuple(plugin_dirs) if plugin_dirs is not None else plugin_dirs_from_env()
    key = (tuple(str(Path(d).resolve()) for d in dirs), os.environ.get(DISABLE_AUTOLOAD_ENV, ""))
    if key not in _CACHE:
        _CACHE[key] = build_registry(dirs)
    return _CACHE[key]


def missing_packages(cls: type[Component]) -> list[str]:
    """The modules a component lists in ``requires_packages`` that cannot be imported here."""
    missing = []
    for name in cls.requires_packages:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def unavailable_reason(cls: type[Component]) -> str | None:
    """Why a component cannot run in this environment (a missing optional package), or ``None``."""
    missing = missing_packages(cls)
    if not missing:
        return None
    extra = f" (pip install 'genbench[{cls.extra}]')" if cls.extra else ""
    return f"{cls.name} needs {', '.join(missing)}, which is not installed{extra}"


def one_line_summary(doc: str | None) -> str:
    """A docstring's first line as a one-line description: a trailing ``:`` becomes ``.``, and a
    sentence that runs on to the next line ends in `` …``."""
    lines = (doc or "").strip().splitlines()
    if not lines:
        return ""
    first = lines[0].strip()
    if len(lines) == 1 or first.endswith((".", "!", "?")):
        return first
    return first[:-1] + "." if first.endswith(":") else first.rstrip(",;") + " …"


def describe_components(kind: str, plugin_dirs=()) -> list[dict[str, Any]]:
    """Registered components of ``kind`` with parameters, source and (for metrics) direction."""
    reg = get_registry(plugin_dirs)
    out = []
    for name in reg.names(kind):
        entry = reg.components[kind][name]
        item: dict[str, Any] = {"name": name, "source": entry.source}
        if kind == "suite":
            item["path"] = str(entry.obj)
            try:
                raw = tomllib.loads(Path(entry.obj).read_text())
                item["description"] = raw.get("description", "")
                profiles = raw.get("profiles", {})
                item["profiles"] = sorted(profiles) if isinstance(profiles, dict) else []
            except Exception:
                item["description"], item["profiles"] = "", []
        else:
            item["params"] = json.loads(json.dumps(entry.obj.param_defaults(), default=str))
            item["summary"] = one_line_summary(entry.obj.__doc__)
            if kind == "metric":
                item["higher_is_better"] = entry.obj.higher_is_better
            if kind == "sampler":
                item["requires"] = sorted(entry.obj.requires)
            item["unavailable"] = unavailable_reason(entry.obj) or ""
        out.append(item)
    return out
