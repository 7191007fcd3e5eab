"""The Python API: ``make_sampler``, ``make_dataset``, ``make_metric``, ``run_suite``."""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import check_device
from .contracts import Component, Dataset, Metric, Sampler
from .errors import ClusterLostError, GenbenchError, StoreWriteError
from .params import validate_params
from .plugins import get_registry

if TYPE_CHECKING:
    import pandas as pd

    from .executors import Executor
    from .results.schema import Cell
    from .spec.suite import Suite


def _make(kind: str, name: str, params: dict[str, Any], plugin_dirs=None) -> Component:
    """The one validation path (:func:`genbench.params.validate_params`), then the instance."""
    cls = get_registry(plugin_dirs).get(kind, name)
    where = f"{kind} {name!r}"
    validate_params(cls, params, where, sep=": ")
    obj = cls(**params)
    try:
        obj.check_params()
    except ValueError as exc:
        raise GenbenchError(f"{where}: {exc}") from None
    return obj


def make_sampler(name: str, /, **params: Any) -> Sampler:
    """A ready :class:`Sampler` instance; unknown names or parameters raise :class:`ValueError`."""
    return _make("sampler", name, params)  # type: ignore[return-value]


def make_dataset(name: str, /, **params: Any) -> Dataset:
    """A ready :class:`Dataset` instance; unknown names or parameters raise :class:`ValueError`."""
    return _make("dataset", name, params)  # type: ignore[return-value]


def make_metric(name: str, /, **params: Any) -> Metric:
    """A ready :class:`Metric` instance; unknown names or parameters raise :class:`ValueError`."""
    return _make("metric", name, params)  # type: ignore[return-value]


@dataclass
class RunPlan:
    """What a run will do: the suite, every selected cell, and which ones are skipped/resumed.

    ``adhoc`` says why the run is stored apart from its suite (``NAME+adhoc``: cells a selector
    added, or another number of repetitions), ``narrowed`` how many of the suite's cells the
    selectors left out (those runs are stored with the suite: their cells are the suite's own).
    """

    suite: Suite
    cells: list[Cell]
    skipped: dict[str, str] = field(default_factory=dict)  # cell_id → reason
    done: set[str] = field(default_factory=set)  # cell ids already ok in the store
    adhoc: str = ""
    narrowed: int = 0

    @property
    def todo(self) -> list[Cell]:
        return [c for c in self.cells if c.cell_id not in self.done and c.cell_id not in self.skipped]


def _positive(name: str, value: Any, *, integer: bool = False) -> None:
    """The Python API checks its overrides as the CLI does: one-line :class:`GenbenchError`."""
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        what = "a positive integer" if integer else "a positive number"
        raise GenbenchError(f"{name} must be {what}, got {value!r}")


def plan_run(
    suite: str | Path,
    *,
    samplers: list[str] | tuple[str, ...] = (),
    datasets: list[str] | tuple[str, ...] = (),
    plugin_dirs: tuple[str, ...] = (),
    timeout: float | None = None,
    max_memory: float | None = None,
    repetitions: int | None = None,
    profile: str | None = None,
) -> RunPlan:
    """Load and validate a suite, apply selectors and overrides, expand it into cells."""
    from .spec.selectors import apply_selectors, filter_cells
    from .spec.suite import load_suite, suite_cells

    for name, value in (("timeout", timeout), ("max_memory", max_memory), ("repetitions", repetitions)):
        if value is not None:
            _positive(name, value, integer=name == "repetitions")
    registry = get_registry(plugin_dirs)
    s = load_suite(suite, registry, profile)
    shipped = {kind: set(getattr(s, kind)) for kind in ("samplers", "datasets")}
    full = s.n_cells()  # the suite as shipped, to say how many cells the selectors leave out
    reasons_adhoc = _apply_overrides(s, registry, timeout, max_memory, repetitions)
    s, ssel, dsel = apply_selectors(s, registry, list(samplers), list(datasets))
    added = sorted(n for kind in ("samplers", "datasets") for n in set(getattr(s, kind)) - shipped[kind])
    if added:
        reasons_adhoc.append(f"{', '.join(added)} not in the suite")
    if reasons_adhoc:
        s.name = f"{s.name}+adhoc"
    cells = filter_cells(suite_cells(s, registry), ssel, dsel)
    plan = RunPlan(s, cells, adhoc="; ".join(reasons_adhoc))
    if full and not reasons_adhoc:
        plan.narrowed = max(0, full - len(cells))
    plan.skipped = _skipped_cells(s, cells)
    return plan


def _apply_overrides(
    s: Suite, registry: Any, timeout: float | None, max_memory: float | None, repetitions: int | None
) -> list[str]:
    """``--timeout``, ``--max-memory`` and ``--repetitions`` applied to the suite; returns why the
    run is stored apart from the suite (another number of repetitions), if it is."""
    from .spec.suite import check_timeout

    reasons = []
    if timeout is not None:
        s.timeout = float(timeout)
        check_timeout(s, registry)
    if max_memory is not None:
        s.max_memory = float(max_memory)
    if repetitions is not None and int(repetitions) != s.repetitions:
        reasons.append(f"--repetitions {repetitions} (the suite has {s.repetitions})")
        s.repetitions = int(repetitions)
    return reasons


def _skipped_cells(s: Suite, cells: list[Cell]) -> dict[str, str]:
    """Cells that cannot run here (a missing package or capability), from the instances the suite
    built and checked once; decided per dataset × sampler configuration, not per repetition."""
    from .evaluation import skip_reason

    reasons: dict[str, str | None] = {}
    skipped: dict[str, str] = {}
    for c in cells:
        if c.base_id not in reasons:
            dataset = s.instance("datasets", c.dataset, c.dataset_params)
            sampler = s.instance("samplers", c.sampler, c.sampler_params)
            # A component that could not be built: the worker records its error.
            reasons[c.base_id] = None if dataset is None or sampler is None else skip_reason(c, dataset, sampler)
        reason = reasons[c.base_id]
        if reason:
            skipped[c.cell_id] = reason
    return skipped


def _preloads(cells: list[Cell], plugin_dirs: tuple[str, ...]) -> tuple[str, ...]:
    """The ``preload`` specs of every component the cells use, in a stable order."""
    registry = get_registry(plugin_dirs)
    classes = set()
    for c in cells:
        classes.add(registry.get("dataset", c.dataset))
        classes.add(registry.get("sampler", c.sampler))
        classes.update(registry.get("metric", name) for name, _ in c.metrics)
    return tuple(sorted({spec for cls in classes for spec in cls.preload}))


@dataclass
class RunSummary:
    run_id: str
    suite: str
    store: str
    total: int
    resumed: int
    counts: dict[str, int]
    interrupted: bool
    cell_ids: list[str]

    @property
    def failed(self) -> int:
        return sum(v for k, v in self.counts.items() if k not in ("ok", "skipped"))


def resolve_plan(plan: RunPlan, store: str | Path | None = None, *, rerun: bool = False) -> RunPlan:
    """Mark the plan's cells that the store already holds as final (unless ``rerun``)."""
    from .config import default_store_path
    from .results.store import Store
    from .results.versions import code_version

    if not rerun and Path(store or default_store_path()).exists():
        with Store(store, readonly=True) as db:
            final = db.completed(plan.suite.name, code_version())
        # A stored `skipped` is final only while its reason holds (an extra installed since makes it run).
        plan.done = set()
        for c in plan.cells:
            status = final.get((c.cell_id, c.config_hash()))
            if status == "ok" or (status == "skipped" and c.cell_id in plan.skipped):
                plan.done.add(c.cell_id)
    return plan


def execute_plan(
    plan: RunPlan,
    *,
    store: str | Path | None = None,
    jobs: int = 1,
    rerun: bool = False,
    plugin_dirs: tuple[str, ...] = (),
    progress: bool = True,
    executor: str | Executor = "local",
    device: str = "auto",
    executor_options: dict[str, Any] | None = None,
) -> RunSummary:
    """Run a plan's cells into the store through ``executor`` (a name, e.g. ``"local"``, or an
    :class:`~genbench.executors.Executor`), resuming unless ``rerun``. This process is the
    store's only writer: one transaction per result, as the executor yields it. Ctrl-C stops
    cleanly (running cells are killed; finished ones are kept). ``executor_options`` go to the
    executor's constructor (e.g. ``{"scheduler": "tcp://host:8786"}`` for ``"dask"``)."""
    from .results.store import Store
    from .results.versions import code_version, package_versions

    _positive("jobs", jobs, integer=True)
    check_device(device)
    version, versions = code_version(), package_versions()
    run_id = uuid.uuid4().hex[:12]
    resolve_plan(plan, store, rerun=rerun)
    todo = plan.todo
    skipped = [c for c in plan.cells if c.cell_id in plan.skipped and c.cell_id not in plan.done]
    executor = _executor_for(executor, todo, jobs, plugin_dirs, device, executor_options)
    with Store(store) as db:
        options = {"rerun": rerun, "pid": os.getpid(), "executor": executor.name}
        options.update(jobs=executor.jobs, device=executor.device)
        # the metrics with their parameters: what the leaderboard's data floor recomputes (reports.floor)
        options["metrics"] = [[name, params] for name, params in plan.suite.metrics]
        db.start_run(run_id, plan.suite.name, len(plan.cells), version, versions, options)
        counts, interrupted = _record_results(plan, skipped, todo, executor, db, run_id, progress)
    return RunSummary(
        run_id=run_id,
        suite=plan.suite.name,
        store=str(db.path),
        total=len(plan.cells),
        resumed=len(plan.done),
        counts=counts,
        interrupted=interrupted,
        cell_ids=[c.cell_id for c in plan.cells],
    )


def _executor_for(
    executor: str | Executor,
    todo: list[Cell],
    jobs: int,
    plugin_dirs: tuple[str, ...],
    device: str,
    options: dict[str, Any] | None,
) -> Executor:
    """The executor to run ``todo`` with: built from its name, or the one given, with the preloads of
    the components the cells use."""
    from .executors import Executor, make_executor

    if not isinstance(executor, Executor):
        preload = _preloads(todo, plugin_dirs)
        return make_executor(
            executor, jobs=jobs, plugin_dirs=plugin_dirs, device=device, preload=preload, **(options or {})
        )
    if not executor.preload:
        executor.preload = _preloads(todo, executor.plugin_dirs)
    return executor


def _record_results(
    plan: RunPlan, skipped: list[Cell], todo: list[Cell], executor: Executor, db: Any, run_id: str, progress: bool
) -> tuple[dict[str, int], bool]:
    """Store the skipped cells' rows, then each result as the executor yields it (one transaction
    each), with a progress line; returns the counts by status and whether Ctrl-C stopped the run.
    The run's status in the store is ``completed``, ``interrupted`` or ``failed`` (an error escaped)."""
    from .executors.progress import Progress
    from .results.schema import CellResult
    from .results.versions import code_version, package_versions

    version, versions = code_version(), package_versions()
    bar = Progress(len(todo) + len(skipped), enabled=progress)

    def record(cell: Cell, result: Any) -> None:
        db.add_result(run_id, cell, result, version, versions)
        bar.update(cell.cell_id, result)

    interrupted = False
    try:
        for c in skipped:
            record(c, CellResult.empty(c, "skipped", plan.skipped[c.cell_id]))
        results = executor.run(todo)
        try:
            for cell, result in results:
                record(cell, result)
        finally:  # an interrupted generator kills its running cells
            close = getattr(results, "close", None)
            if close is not None:
                close()
        status = "completed"
    except KeyboardInterrupt:
        interrupted = True
        status = "interrupted"
    except StoreWriteError as exc:  # the machine, not a plugin: running cells are stopped (above)
        with contextlib.suppress(StoreWriteError):
            db.finish_run(run_id, "failed")
        exc.kept = db.count_finished(plan.suite.name)
        raise
    except ClusterLostError as exc:  # the cluster, not a plugin: every finished cell is stored
        db.finish_run(run_id, "failed")
        exc.kept = db.count_finished(plan.suite.name)
        raise
    except BaseException:
        db.finish_run(run_id, "failed")
        raise
    finally:
        bar.close()
    db.finish_run(run_id, status)
    return bar.counts, interrupted


def run_suite(
    suite: str | Path,
    *,
    store: str | Path | None = None,
    samplers: list[str] | tuple[str, ...] = (),
    datasets: list[str] | tuple[str, ...] = (),
    jobs: int = 1,
    rerun: bool = False,
    timeout: float | None = None,
    max_memory: float | None = None,
    repetitions: int | None = None,
    plugin_dirs: tuple[str, ...] | list[str] = (),
    progress: bool = False,
    profile: str | None = None,
    executor: str | Executor = "local",
    device: str = "auto",
    executor_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run a suite (resuming from ``store``) and return its cells' results as a DataFrame.

    The columns are those of ``genbench results --format json`` (:data:`genbench.results.schema.ROW_FIELDS`);
    the parameter, config, ``metrics`` and ``versions`` columns hold dicts. Raises
    :class:`ValueError` on bad input (the same checks as the CLI) and :class:`KeyboardInterrupt`
    if interrupted (finished cells are kept in the store).
    """
    import pandas as pd

    from .results.store import COLUMNS, Store

    for name, value in (("samplers", samplers), ("datasets", datasets), ("plugin_dirs", plugin_dirs)):
        if isinstance(value, (str, Path)):
            raise GenbenchError(f"{name} must be a list of strings, got {value!r} (write [{str(value)!r}])")
    plugin_dirs = tuple(str(p) for p in plugin_dirs)
    plan = plan_run(
        suite,
        samplers=samplers,
        datasets=datasets,
        plugin_dirs=plugin_dirs,
        timeout=timeout,
        max_memory=max_memory,
        repetitions=repetitions,
        profile=profile,
    )
    summary = execute_plan(
        plan,
        store=store,
        jobs=jobs,
        rerun=rerun,
        plugin_dirs=plugin_dirs,
        progress=progress,
        executor=executor,
        device=device,
        executor_options=executor_options,
    )
    if summary.interrupted:
        raise KeyboardInterrupt
    with Store(summary.store) as db:
        rows = db.rows(plan.suite.name, cell_ids=summary.cell_ids)
    order = {cid: i for i, cid in enumerate(summary.cell_ids)}
    rows.sort(key=lambda r: order[r["cell_id"]])  # the suite's order, not the finishing order
    return pd.DataFrame(rows, columns=COLUMNS)
