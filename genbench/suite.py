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

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .contracts import Component
from .errors import GenbenchError, did_you_mean
from .grid import Cell, expand
from .params import canonical, check_type, format_value
from .plugins import Registry

if TYPE_CHECKING:
    from .claims import PaperTable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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
    suite = Suite(name=settings.pop("name") or default_name, source=where, **settings)
    suite.timeout = float(suite.timeout)

    suite.metrics = _parse_metrics(raw.get("metrics", []), registry, where)
    if suite.primary_metric is not None:
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
            getattr(suite, table)[name] = validate_params(cls, params, f"{where}: {table}.{name}")
    if "paper" in raw:
        from .claims import parse_paper

        suite.paper = parse_paper(raw["paper"], suite, registry, where)
    return suite


def _component(registry: Registry, kind: str, name: str, where: str, key: str) -> type[Component]:
    try:
        return registry.get(kind, name)
    except GenbenchError as exc:
        raise _fail(where, f"{key}: {exc}") from None


def _parse_metrics(raw: Any, registry: Registry, where: str) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(raw, list):
        items = [(m, {}) for m in raw]
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
        checked = validate_params(cls, params, f"{where}: metrics.{name}", allow_axes=False)
        out.append((name, checked))
    return out


def validate_params(
    cls: type[Component], params: dict[str, Any], where: str, *, allow_axes: bool = True
) -> dict[str, Any]:
    """Check names, types and ranges of a parameter table; return it canonicalised."""
    defaults = cls.param_defaults()
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in defaults:
            raise GenbenchError(f"suite {where}: unknown parameter {key!r}{did_you_mean(key, defaults)}")
        values = value if isinstance(value, list) and allow_axes else [value]
        if isinstance(value, list) and allow_axes and not value:
            raise GenbenchError(f"suite {where}.{key}: an axis needs at least one value, got []")
        for v in values:
            expected = check_type(cls, key, v)
            if expected is not None:
                axis = " or a list of them" if allow_axes else ""
                raise GenbenchError(f"suite {where}.{key} must be {expected}{axis}, got {v!r}")
        if isinstance(value, list) and allow_axes:
            shown = [format_value(v) for v in value]
            twice = sorted({s for s in shown if shown.count(s) > 1})
            if twice:
                raise GenbenchError(f"suite {where}.{key} lists {', '.join(twice)} more than once")
            out[key] = [canonical(v) for v in value]
        else:
            out[key] = canonical(value)
    for combo in expand(out) if allow_axes else [out]:
        instance_check(cls, combo, where)
    return out


def instance_check(cls: type[Component], params: dict[str, Any], where: str) -> Component | None:
    """Instantiate ``cls(**params)`` and run its ``check_params``; one-line error on failure."""
    try:
        obj = cls(**params)
        obj.check_params()
    except (TypeError, ValueError) as exc:
        shown = ", ".join(f"{k}={format_value(v)}" for k, v in sorted(params.items()))
        raise GenbenchError(f"suite {where} [{shown}]: {exc}") from None
    except Exception:  # a broken component: its cells record the error, the run goes on
        return None
    return obj


def suite_cells(suite: Suite, registry: Registry) -> list[Cell]:
    """Expand a suite into its cells (dataset × sampler × repetitions)."""
    from .versions import component_fingerprint

    metric_classes = [registry.get("metric", name) for name, _ in suite.metrics]
    cells = []
    samplers = {name: registry.get("sampler", name) for name in suite.samplers}
    sampler_defaults = {name: cls.param_defaults() for name, cls in samplers.items()}
    for dname, daxes in suite.datasets.items():
        dcls = registry.get("dataset", dname)
        dataset_defaults = dcls.param_defaults()
        for dparams in expand(daxes):
            dconfig = {**dataset_defaults, **dparams}
            for sname, saxes in suite.samplers.items():
                scls = samplers[sname]
                code = component_fingerprint([dcls, scls, *metric_classes])
                for sparams in expand(saxes):
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
