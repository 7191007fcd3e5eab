"""Suites: TOML files describing a benchmark grid, validated with one-line errors.

```toml
name = "smoke"
seed = 0
repetitions = 2
n_samples = 500      # generated per cell
n_reference = 2000   # fresh reference samples from the dataset for the metrics
timeout = 60         # seconds per cell, hard
metrics = ["sliced_w2", "energy"]      # or [metrics.sliced_w2] tables with parameters
primary_metric = "sliced_w2"           # the leaderboard ranks by it (default: the first with a direction)
[datasets.arc]
n_train = [250, 500]
[samplers.kde]
bandwidth = [0.05, 0.1]
[profiles.quick]     # `--profile quick`: overrides merged into the suite
repetitions = 1
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from ..config import tomllib
from ..errors import GenbenchError, did_you_mean
from ..params import build, validate_params
from ..results.schema import Cell, component_id
from .claims import parse_paper
from .grid import expand

if TYPE_CHECKING:
    from ..contracts import Component, Dataset, Sampler
    from ..plugins import Registry
    from .claims import PaperTable

_SETTINGS: dict[str, tuple[type | tuple[type, ...], str, Any]] = {
    # key: (types, description, default)
    "name": (str, "a string", None),
    "description": (str, "a string", ""),
    "seed": (int, "a non-negative integer", 0),
    "repetitions": (int, "a positive integer", 1),
    "n_samples": (int, "a positive integer", 1000),
    "n_reference": (int, "a positive integer", 2000),
    "timeout": ((int, float), "a positive number of seconds", 600.0),
    "max_memory": ((int, float), "a positive number of megabytes", None),
    "primary_metric": (str, "the name of one of the suite's metrics", None),
}
_TABLES = ("metrics", "datasets", "samplers", "paper")


@dataclass
class Suite:
    """A validated suite: settings, metrics and the per-component parameter tables."""

    name: str
    source: str
    seed: int = 0
    repetitions: int = 1
    n_samples: int = 1000
    n_reference: int = 2000
    timeout: float = 600.0
    max_memory: float | None = None
    #: the metric the leaderboard ranks by (default: the first metric with a direction)
    primary_metric: str | None = None
    description: str = ""
    metrics: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    samplers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the ``[paper]`` table: published values the suite is checked against (``genbench report``)
    paper: PaperTable | None = None
    #: every configuration of each dataset and sampler, expanded and built (checked) once:
    #: ``(table, name) → (axes it was expanded from, [(params, instance or None)])``
    _grid: dict[tuple[str, str], tuple[dict[str, Any], list[tuple[dict[str, Any], Any]]]] = field(
        default_factory=dict, repr=False
    )

    def grid(
        self, table: str, name: str, cls: type[Component], where: str = ""
    ) -> list[tuple[dict[str, Any], Component | None]]:
        """Each configuration of ``datasets.NAME`` / ``samplers.NAME`` with its instance, built and
        checked once (again only when the axes have changed since, e.g. by a selector)."""
        axes = getattr(self, table)[name]
        cached = self._grid.get((table, name))
        if cached is None or cached[0] != axes:
            where = where or f"suite {self.source}: {table}.{name}"
            combos = [(combo, build(cls, combo, where)) for combo in expand(axes)]
            cached = ({k: list(v) if isinstance(v, list) else v for k, v in axes.items()}, combos)
            self._grid[(table, name)] = cached
        return cached[1]

    @overload
    def instance(self, table: Literal["datasets"], name: str, params: dict[str, Any]) -> Dataset | None: ...
    @overload
    def instance(self, table: Literal["samplers"], name: str, params: dict[str, Any]) -> Sampler | None: ...
    @overload
    def instance(self, table: str, name: str, params: dict[str, Any]) -> Component | None: ...

    def instance(self, table: str, name: str, params: dict[str, Any]) -> Component | None:
        """The instance built for one configuration (``None``: not built, or it could not be)."""
        cached = self._grid.get((table, name))
        want = component_id(name, params)
        for combo, obj in cached[1] if cached else ():
            if component_id(name, combo) == want:
                return obj
        return None

    def n_cells(self) -> int:
        """Cells of the suite: dataset configurations × sampler configurations × repetitions."""

        def size(table: str, name: str) -> int:
            cached = self._grid.get((table, name))
            axes = getattr(self, table)[name]
            return len(cached[1]) if cached and cached[0] == axes else len(expand(axes))

        datasets = sum(size("datasets", n) for n in self.datasets)
        samplers = sum(size("samplers", n) for n in self.samplers)
        return datasets * samplers * self.repetitions


def _fail(where: str, msg: str) -> GenbenchError:
    return GenbenchError(f"suite {where}: {msg}")


def resolve_suite_path(suite: str | Path, registry: Registry) -> Path:
    """A shipped suite by name, else a path to a TOML file."""
    text = str(suite)
    if text in registry.components["suite"]:
        return Path(registry.components["suite"][text].obj)
    path = Path(text)
    if path.is_dir():
        raise GenbenchError(f"suite {text} is a directory, expected a suite name or a .toml file")
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise GenbenchError(f"suite file {text} does not exist")
        return path
    raise GenbenchError(f"unknown suite {text!r}{did_you_mean(text, registry.components['suite'])}")


def load_suite(suite: str | Path, registry: Registry, profile: str | None = None) -> Suite:
    """Read and validate a suite by shipped name or path; :class:`GenbenchError` on any problem.

    A ``[profiles.NAME]`` table holds overrides (settings, and parameter tables merged key by
    key) selected with ``profile``; the suite is then named ``<name>:<profile>`` so that its
    results stay apart from the full suite's. Every profile is validated, used or not.
    """
    path = resolve_suite_path(suite, registry)
    where = path.name
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise _fail(where, f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise _fail(where, f"cannot be read: {exc.strerror}") from None
    profiles = raw.pop("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise _fail(where, "profiles must be [profiles.NAME] tables of overrides")
    base = parse_suite(raw, registry, where=where, default_name=path.stem)
    variants = {
        name: parse_suite(_merge(raw, over), registry, where=f"{where} [profiles.{name}]", default_name=path.stem)
        for name, over in profiles.items()
    }
    for claim in base.paper.claims if base.paper else ():
        for name in claim.profiles or ():
            if name not in variants:
                raise _fail(where, f"paper claim {claim.id!r}: unknown profile {name!r}{did_you_mean(name, variants)}")
    if profile is None:
        return base
    if profile not in variants:
        raise _fail(where, f"unknown profile {profile!r}{did_you_mean(profile, variants)}")
    chosen = variants[profile]
    chosen.name = f"{chosen.name}:{profile}"
    return chosen


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` merged in: nested tables recursively, everything else replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_suite(raw: dict[str, Any], registry: Registry, *, where: str, default_name: str) -> Suite:
    """Validate a suite already parsed from TOML."""
    for key in raw:
        if key not in _SETTINGS and key not in _TABLES:
            raise _fail(where, f"unknown key {key!r}{did_you_mean(key, [*_SETTINGS, *_TABLES])}")
    settings = _parse_settings(raw, where)
    suite = Suite(name=settings.pop("name") or default_name, source=where, **settings)
    suite.timeout = float(suite.timeout)

    suite.metrics = _parse_metrics(raw.get("metrics", []), registry, where)
    _check_primary_metric(suite, registry, where)
    for table in ("datasets", "samplers"):
        kind = table[:-1]
        section = raw.get(table)
        if not isinstance(section, dict) or not section:
            raise _fail(where, f"needs a [{table}.NAME] table (at least one {kind})")
        for name, params in section.items():
            params = {} if params is None else params
            if not isinstance(params, dict):
                raise _fail(where, f"{table}.{name} must be a table of parameters, got {params!r}")
            cls = _component(registry, kind, name, where, f"{table}.{name}")
            getattr(suite, table)[name] = validate_params(cls, params, f"suite {where}: {table}.{name}", axes=True)
            suite.grid(table, name, cls)  # every configuration built and checked, once
    check_timeout(suite, registry)
    if "paper" in raw:
        suite.paper = parse_paper(raw["paper"], suite, registry, where)
    return suite


def _parse_settings(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """The suite's settings (:data:`_SETTINGS`: each value, else its default), types and signs checked."""
    settings: dict[str, Any] = {}
    for key, (types, desc, default) in _SETTINGS.items():
        value = raw.get(key, default)
        if value is None:
            settings[key] = value
            continue
        ok = isinstance(value, types) and not isinstance(value, bool)
        if ok and desc.startswith("a positive"):
            ok = value > 0
        if ok and desc.startswith("a non-negative"):
            ok = value >= 0
        if not ok:
            raise _fail(where, f"{key} must be {desc}, got {value!r}")
        settings[key] = value
    return settings


def _check_primary_metric(suite: Suite, registry: Registry, where: str) -> None:
    """A ``primary_metric`` must be one of the suite's metrics and have a direction to rank by."""
    if suite.primary_metric is None:
        return
    names = [m for m, _ in suite.metrics]
    if suite.primary_metric not in names:
        raise _fail(
            where,
            f"primary_metric {suite.primary_metric!r} is not one of the suite's metrics"
            + did_you_mean(suite.primary_metric, names),
        )
    if registry.get("metric", suite.primary_metric).higher_is_better is None:
        raise _fail(
            where, f"primary_metric {suite.primary_metric!r} has no direction (a flag, not a score): it cannot rank"
        )


def check_timeout(suite: Suite, registry: Registry) -> None:
    """A wall-clock cap the suite sets on a sampler (its ``max_seconds`` parameter) must end training
    before the suite's hard ``timeout`` kills the cell; otherwise every such cell dies as ``timeout``
    with nothing stored. (A default cap is a safety net the suite did not ask for: not checked.)"""
    for name in suite.samplers:
        cls = registry.get("sampler", name)
        for combo, _ in suite.grid("samplers", name, cls):
            cap = combo.get("max_seconds")
            if isinstance(cap, (int, float)) and not isinstance(cap, bool) and cap >= suite.timeout:
                raise _fail(
                    suite.source,
                    f"timeout = {suite.timeout:g} s kills {component_id(name, combo)} before its own "
                    f"max_seconds = {cap:g} s ends training: raise timeout above max_seconds "
                    "(leave time to sample and score)",
                )


def _component(registry: Registry, kind: str, name: str, where: str, key: str) -> type[Component]:
    try:
        return registry.get(kind, name)
    except GenbenchError as exc:
        raise _fail(where, f"{key}: {exc}") from None


def _parse_metrics(raw: Any, registry: Registry, where: str) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(raw, list):
        items: list[tuple[str, dict[str, Any]]] = [(m, {}) for m in raw]
        if not all(isinstance(m, str) for m in raw):
            raise _fail(where, f"metrics must be a list of metric names, got {raw!r}")
    elif isinstance(raw, dict):
        items = list(raw.items())
    else:
        raise _fail(where, f"metrics must be a list of names or [metrics.NAME] tables, got {raw!r}")
    names = [name for name, _ in items]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _fail(where, f"metrics lists {', '.join(twice)} more than once")
    out = []
    for name, params in items:
        cls = _component(registry, "metric", name, where, f"metrics.{name}")
        if not isinstance(params, dict):
            raise _fail(where, f"metrics.{name} must be a table of parameters, got {params!r}")
        checked = validate_params(cls, params, f"suite {where}: metrics.{name}")
        build(cls, checked, f"suite {where}: metrics.{name}")
        out.append((name, checked))
    return out


def suite_cells(suite: Suite, registry: Registry) -> list[Cell]:
    """Expand a suite into its cells (dataset × sampler × repetitions), from its grid."""
    from ..results.versions import component_fingerprint

    metric_classes = [registry.get("metric", name) for name, _ in suite.metrics]
    samplers = {name: registry.get("sampler", name) for name in suite.samplers}
    sampler_grid = {name: suite.grid("samplers", name, cls) for name, cls in samplers.items()}
    sampler_defaults = {name: cls.param_defaults() for name, cls in samplers.items()}
    cells = []
    for dname in suite.datasets:
        dcls = registry.get("dataset", dname)
        dataset_defaults = dcls.param_defaults()
        for dparams, _ in suite.grid("datasets", dname, dcls):
            dconfig = {**dataset_defaults, **dparams}
            for sname, scls in samplers.items():
                code = component_fingerprint([dcls, scls, *metric_classes])
                for sparams, _ in sampler_grid[sname]:
                    sconfig = {**sampler_defaults[sname], **sparams}
                    for rep in range(suite.repetitions):
                        cells.append(
                            Cell(
                                suite=suite.name,
                                dataset=dname,
                                dataset_params=dparams,
                                sampler=sname,
                                sampler_params=sparams,
                                rep=rep,
                                seed=suite.seed,
                                n_samples=suite.n_samples,
                                n_reference=suite.n_reference,
                                metrics=suite.metrics,
                                timeout=suite.timeout,
                                max_memory_mb=suite.max_memory,
                                dataset_config=dconfig,
                                sampler_config=sconfig,
                                code=code,
                            )
                        )
    return cells
