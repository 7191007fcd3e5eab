"""The ``genbench`` command line: thin wrappers over the Python API.

Bad input prints one line (``genbench: error: …``) and exits with status 2.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from .config import DASK_SCHEDULER_ENV, DEVICES, PLUGIN_DIRS_ENV
from .errors import EXIT_IOERR, EXIT_UNAVAILABLE, ClusterLostError, FileWriteError, GenbenchError, StoreWriteError

EXIT_USAGE = 2


def _plugin_dir_option(f: Callable) -> Callable:
    return click.option(
        "--plugin-dir",
        "plugin_dirs",
        multiple=True,
        type=click.Path(file_okay=False),
        envvar=PLUGIN_DIRS_ENV,
        help="Load every *.py in DIR as a plugin (repeatable; env GENBENCH_PLUGIN_DIRS).",
        metavar="DIR",
    )(f)


#: ``--store`` help: where a run writes; where the reading commands read (a store, compressed, or a results.csv).
READ_OR_WRITE = "SQLite results file [default: $GENBENCH_STORE or ./genbench.db]."
READ = (
    "Results to read: a SQLite store, a compressed one (.db.gz) or an exported results.csv "
    "[default: $GENBENCH_STORE or ./genbench.db]."
)


def _store_option(help_text: str) -> Callable:
    """The ``--store`` option of a command, with its help."""
    return click.option("--store", type=click.Path(dir_okay=False), default=None, help=help_text)


#: Exit status after an interruption: 130 for Ctrl-C (SIGINT), 143 once SIGTERM arrived.
_stop_status = 130


def _fault_line(exc: StoreWriteError | ClusterLostError) -> str:
    """One line for a run the machine stopped (a store it could not write, a cluster that went away):
    what failed, what is kept, how to resume."""
    import shlex

    kept = "its finished cells are kept" if exc.kept is None else f"{exc.kept} finished cells are kept"
    again = shlex.join(["genbench", *sys.argv[1:]])
    if isinstance(exc, ClusterLostError):
        return f"{exc}; {kept}. Bring the cluster back (or drop --scheduler), then resume with: {again}"
    return f"{exc}; {kept}. Free space or fix the store's file, then resume with: {again}"


def _friendly(f: Callable) -> Callable:
    """Turn GenbenchError into one line on stderr and exit status 2; a store the machine stopped
    writing (disk full, I/O error, deleted) into one line and exit status 74; a cluster that went away
    (the Dask scheduler, or every worker) into one line and 69; an interruption outside
    the run loop (e.g. while a suite is planned) into one line and 130 / 143, not a traceback."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except GenbenchError as exc:
            click.echo(f"genbench: error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except StoreWriteError as exc:
            click.echo(f"genbench: error: {_fault_line(exc)}", err=True)
            sys.exit(EXIT_IOERR)
        except ClusterLostError as exc:
            click.echo(f"genbench: error: {_fault_line(exc)}", err=True)
            sys.exit(EXIT_UNAVAILABLE)
        except FileWriteError as exc:
            click.echo(f"genbench: error: {exc}; the file there, if any, is the previous one, whole", err=True)
            sys.exit(EXIT_IOERR)
        except KeyboardInterrupt:
            click.echo("genbench: interrupted", err=True)
            sys.exit(_stop_status)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="genbench")
def main() -> None:
    """Benchmark generative samplers on a standard grid, fairly and fast.

    \b
    Quick start:
      genbench run --suite smoke      run a suite into the results store
      genbench leaderboard            rank the samplers of the last suite
      genbench results --format csv   every result row
      genbench report paper-bistable  a paper's claims against the measured values
    """


@main.command()
@click.option("--suite", "-s", "suite", required=True, help="Shipped suite name or path to a TOML file.")
@click.option("--profile", default=None, help="Apply the suite's [profiles.NAME] overrides (e.g. quick).")
@click.option(
    "--sampler",
    "samplers",
    multiple=True,
    metavar="SEL",
    help="Only cells of this sampler, e.g. 'kde[bandwidth=0.1]' (repeatable).",
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    metavar="SEL",
    help="Only cells of this dataset, e.g. 'arc[n_train=250]' (repeatable).",
)
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(min=1), help="Cells run at once.")
@_store_option(READ_OR_WRITE)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds per cell, hard (overrides the suite).",
)
@click.option(
    "--max-memory",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="MB",
    help="Kill a cell whose resident memory grows by more than MB megabytes.",
)
@click.option("--repetitions", type=click.IntRange(min=1), default=None, help="Override the suite's repetitions.")
@click.option("--rerun", is_flag=True, help="Run every cell again, even those already ok in the store.")
@click.option("--fail-on-error", is_flag=True, help="Exit 1 if any cell failed (error/invalid/timeout/crashed).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option(
    "--executor",
    default="local",
    show_default=True,
    metavar="NAME",
    help="Where cells run: local (this machine, -j at once), or another executor module.",
)
@click.option(
    "--scheduler",
    default=None,
    envvar=DASK_SCHEDULER_ENV,
    metavar="ADDRESS",
    help="With --executor dask: a running scheduler (tcp://HOST:PORT) [default: start a local cluster].",
)
@click.option(
    "--device",
    type=click.Choice(list(DEVICES)),
    default="auto",
    show_default=True,
    help="Device for samplers that can use a GPU; cpu hides the GPUs from every cell.",
)
@click.option("--dry-run", is_flag=True, help="List the cells the command would run (and those done or skipped).")
@_plugin_dir_option
@_friendly
def run(
    suite,
    profile,
    samplers,
    datasets,
    jobs,
    store,
    timeout,
    max_memory,
    repetitions,
    rerun,
    fail_on_error,
    quiet,
    executor,
    scheduler,
    device,
    dry_run,
    plugin_dirs,
) -> None:
    """Run a suite's grid, resuming from the store; every cell in its own process."""
    from .api import execute_plan, plan_run, resolve_plan

    _stop_cleanly_on_signals()
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
    if not dry_run:
        from .results.store import Store

        Store.check_writable(store)
    _print_plan_notes(plan, quiet)
    if dry_run:
        _print_dry_run(resolve_plan(plan, store, rerun=rerun))
        return
    if not quiet:
        click.echo(f"suite {plan.suite.name}: {len(plan.cells)} cells", err=True)
    summary = execute_plan(
        plan,
        store=store,
        jobs=jobs,
        rerun=rerun,
        plugin_dirs=tuple(plugin_dirs),
        progress=not quiet,
        executor=executor,
        device=device,
        executor_options={"scheduler": scheduler} if executor == "dask" else None,
    )
    _finish_run(summary, rerun=rerun, quiet=quiet, fail_on_error=fail_on_error)


def _stop_cleanly_on_signals() -> None:
    """SIGTERM and a hang-up stop a run as cleanly as Ctrl-C (running cells killed, finished kept);
    the exit status says which signal (128 + its number; 130 for Ctrl-C)."""
    import signal

    global _stop_status
    _stop_status = 130

    def terminate(signum: int, frame: object) -> None:
        global _stop_status
        _stop_status = 128 + signum
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    if hasattr(signal, "SIGHUP"):  # a closed terminal: workers are in their own process groups
        signal.signal(signal.SIGHUP, terminate)


def _print_plan_notes(plan, quiet: bool) -> None:
    """Say where a run that is not the shipped suite is stored, or how many cells selectors leave out."""
    if plan.adhoc:
        click.echo(f"note: stored as suite {plan.suite.name}, apart from the shipped suite ({plan.adhoc})", err=True)
    elif plan.narrowed and not quiet:
        click.echo(
            f"note: the selectors leave out {plan.narrowed} cells of suite {plan.suite.name}; "
            "its leaderboard shows only the cells that have run",
            err=True,
        )


def _finish_run(summary, *, rerun: bool, quiet: bool, fail_on_error: bool) -> None:
    """The run's last line, and its exit status (interrupted: 128 + signal; failed cells with
    ``--fail-on-error``: 1)."""
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary.counts.items())) or "nothing to run"
    resumed = f"; {summary.resumed} already done (use --rerun to repeat)" if summary.resumed else ""
    if summary.interrupted:
        again = "the same command without --rerun" if rerun else "the same command"
        click.echo(f"interrupted: {counts}{resumed}. Run {again} again to resume.", err=True)
        sys.exit(_stop_status)
    if not quiet:
        click.echo(f"done: {counts}{resumed} → {summary.store}", err=True)
    if fail_on_error and summary.failed:
        sys.exit(1)


def _print_dry_run(plan) -> None:
    """One line per cell: what a run would do with it (stdout), and a count (stderr)."""
    counts = {"run": 0, "done": 0, "skip": 0}
    for c in plan.cells:
        what = "done" if c.cell_id in plan.done else "skip" if c.cell_id in plan.skipped else "run"
        counts[what] += 1
        why = f"  ({plan.skipped[c.cell_id]})" if what == "skip" else ""
        click.echo(f"{what:<4}  {c.cell_id}{why}")
    click.echo(
        f"dry run: {counts['run']} to run, {counts['done']} already done, {counts['skip']} skipped "
        f"(suite {plan.suite.name}, {len(plan.cells)} cells)",
        err=True,
    )


@main.command()
@click.option("--suite", "-s", default=None, help="Only this suite [default: all].")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--history", is_flag=True, help="Include superseded rows, not just each cell's current one.")
@_store_option(READ)
@click.option("--cell", "cell_id", default=None, metavar="ID", help="Only this cell (with --log: its output).")
@click.option("--log", "show_log", is_flag=True, help="Print the captured stdout/stderr of --cell ID.")
@click.option(
    "--columns",
    default=None,
    metavar="A,B,…",
    help="Table columns: cell_id, dataset, sampler, rep, status, fit_s, sample_s, metric_s, time, peak_mem_mb, "
    "device, or a metric name [default: dataset, sampler, rep, status, time and the metrics that fit].",
)
@_friendly
def results(suite, fmt, history, store, cell_id, show_log, columns) -> None:
    """Print result rows (one per cell) as a table, CSV or JSON; or one cell's captured output."""
    from .results.export import cell_log, results_rows, rows_to_csv

    if show_log:
        if not cell_id:
            raise GenbenchError("--log needs --cell ID (ids are listed by `genbench results`)")
        for row in cell_log(store, cell_id, suite):
            size, kept = row["log_bytes"] or 0, len((row["log_tail"] or "").encode())
            part = f"last {kept} of {size} bytes" if kept < size else f"{size} bytes"
            click.echo(f"== {row['suite']} {row['cell_id']} ({row['status']}): output, {part}", err=True)
            click.echo(row["log_tail"] or "", nl=False)
        return
    rows = results_rows(store, suite, history=history)
    if cell_id:
        rows = [r for r in rows if r["cell_id"] == cell_id]
        if not rows:
            raise GenbenchError(f"no cell {cell_id!r} in the store (ids are listed by `genbench results`)")
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1, default=str))
    elif fmt == "csv":
        click.echo(rows_to_csv(rows), nl=False)
    else:
        from .reports.terminal import results_table

        cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        click.echo(results_table(rows, cols))


@main.command()
@click.option("--suite", "-s", default=None, help="Suite to rank [default: the most recently run].")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "csv"]), default="table", show_default=True)
@_store_option(READ)
@click.option("--metric", default=None, help="Rank by this metric [default: the suite's primary_metric].")
@click.option(
    "--columns",
    default=None,
    metavar="A,B,…",
    help="Terminal columns to show: dataset, rank, ci, sampler, ok, a metric name, time, mem.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Write DIR/README.md, DIR/index.html (plots, opens offline) and DIR/results.csv.",
)
@click.option(
    "--asv-results",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="asv results to plot over commits in index.html [default: .asv/results if present].",
)
@_plugin_dir_option
@_friendly
def leaderboard(suite, fmt, store, metric, columns, out, asv_results, plugin_dirs) -> None:
    """Rank samplers per dataset: mean ± std over repetitions, rank intervals, copying flags, runtime."""
    from pathlib import Path

    from .reports.leaderboard import leaderboard_table, write_leaderboard

    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if out is None:
        click.echo(leaderboard_table(store, suite, fmt=fmt, metric=metric, columns=cols, plugin_dirs=plugin_dirs))
        return
    if asv_results is None and Path(".asv/results").is_dir():
        asv_results = ".asv/results"
    for path in write_leaderboard(out, store, suite, metric=metric, asv_results=asv_results, plugin_dirs=plugin_dirs):
        click.echo(f"wrote {path}")


@main.command()
@click.argument("suite")
@_store_option(READ)
@click.option("--profile", default=None, help="The profile whose results to check [default: the one run last].")
@click.option("--format", "fmt", type=click.Choice(["terminal", "markdown"]), default="terminal", show_default=True)
@_plugin_dir_option
@_friendly
def report(suite, store, profile, fmt, plugin_dirs) -> None:
    """Paper vs measured: each claim of SUITE's [paper] table, the paper's value, the measured one
    (mean ± std over repetitions) and the verdict: reproduced, not reproduced or not run."""
    from .reports.paper import build_report, render_report

    click.echo(render_report(build_report(suite, store, profile, plugin_dirs), fmt), nl=False)


LIST_KINDS = ("samplers", "datasets", "metrics", "suites")


@main.command("list")
@click.argument("kind", type=click.Choice(LIST_KINDS), required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_plugin_dir_option
@_friendly
def list_(kind, as_json, plugin_dirs) -> None:
    """List registered samplers, datasets, metrics or suites (default: all four) with a one-line
    description and their parameters."""
    from .plugins import describe_components

    kinds = [kind] if kind else list(LIST_KINDS)
    items = {k: describe_components(k[:-1], plugin_dirs) for k in kinds}
    if as_json:
        click.echo(json.dumps(items[kind] if kind else items, indent=1, default=str))
        return
    for i, k in enumerate(kinds):
        if not kind:  # everything: each kind under a heading
            click.echo(f"\n{k}:" if i else f"{k}:")
        for it in items[k]:
            _print_listed(k, it)


def _print_listed(kind: str, it: dict[str, Any]) -> None:
    """One listed component: its name, then indented lines wrapped to the terminal between words."""
    import shutil
    import textwrap

    width = max(40, shutil.get_terminal_size((100, 24)).columns)

    def fill(text: str) -> str:  # wrap between words (and after commas), never inside one
        return textwrap.fill(text, width, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)

    click.echo(it["name"])
    if it.get("unavailable"):
        click.echo(fill(f"    unavailable: {it['unavailable']}"))
    if kind == "suites":
        click.echo(fill(f"    {it.get('description', '')}"))
        profiles = ", ".join(it.get("profiles") or []) or "none"
        click.echo(fill(f"    profiles: {profiles} (genbench run --suite {it['name']} --profile NAME)"))
    else:
        if it.get("summary"):
            click.echo(fill(f"    {it['summary'].replace('``', '')}"))
        params = ", ".join(f"{k}={v!r}" for k, v in it.get("params", {}).items())
        click.echo(fill(f"    {params}" if params else "    (no parameters)"))
    click.echo(fill(f"    from {it['source']}"))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_plugin_dir_option
@_friendly
def plugins(as_json, plugin_dirs) -> None:
    """Show every loaded component with its kind and the plugin it came from."""
    from .plugins import get_registry

    reg = get_registry(plugin_dirs)
    items = [{"name": e.name, "kind": e.kind, "source": e.source} for e in reg.entries()]
    if as_json:
        click.echo(json.dumps(items, indent=1))
        return
    from tabulate import tabulate

    click.echo(tabulate([[i["kind"], i["name"], i["source"]] for i in items], headers=["kind", "name", "source"]))


@main.command()
@click.argument("sampler", required=False)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=300.0, show_default=True,
              help="Seconds for all checks of one sampler (hard: the process is killed).")  # fmt: skip
@_plugin_dir_option
@_friendly
def test(sampler, timeout, plugin_dirs) -> None:
    """Conformance checks for SAMPLER (default: every registered sampler), each in its own process."""
    from .conformance.checks import check_sampler_isolated
    from .plugins import get_registry, unavailable_reason

    reg = get_registry(plugin_dirs)
    names = [sampler] if sampler else reg.names("sampler")
    for name in names:
        if name not in reg.components["sampler"]:  # one-line error before any work
            from .errors import did_you_mean

            hint = "" if plugin_dirs else " (a single-file plugin needs --plugin-dir DIR)"
            raise GenbenchError(f"unknown sampler {name!r}{did_you_mean(name, reg.names('sampler'))}{hint}")
    failures = 0
    for name in names:
        missing = unavailable_reason(reg.get("sampler", name))
        if missing:  # a lean install: not a failure of the sampler
            click.echo(f"SKIP {name}: {missing}")
            continue
        for check in check_sampler_isolated(name, tuple(plugin_dirs), timeout):
            mark = "PASS" if check.passed else "FAIL"
            failures += not check.passed
            detail = f" — {check.message}" if check.message else ""
            click.echo(f"{mark} {name}: {check.name}{detail}")
    click.echo(f"{failures} failed" if failures else "all checks passed")
    sys.exit(1 if failures else 0)


@main.command()
@click.argument("a")
@click.argument("b", required=False)
@click.option("--sampler", "sampler", default=None, help="On one board (A alone): the sampler to judge ...")
@click.option("--against", default=None, help="... against this one, each at its selected setting.")
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    help="Metrics to compare (repeatable; default: every one with a direction). The first decides the summary "
    "and --fail-on-worse (default: the suite's primary).",
)
@click.option("--suite", default=None, help="The suite to read from a store holding several (default: its last).")
@_store_option("The store a suite name (A or B) is read from [default: $GENBENCH_STORE or ./genbench.db].")
@click.option("--fail-on-worse", is_flag=True, help="Exit with status 1 when B is worse on any configuration.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@_plugin_dir_option
@_friendly
def compare(a, b, sampler, against, metrics, suite, store, fail_on_worse, fmt, plugin_dirs) -> None:
    """Did B do better than A? Per dataset and sampler configuration and metric, B − A over the
    repetitions both ran, its 95 % interval and a verdict (better / tied / worse: paired t-tests,
    Holm over the configurations). A and B: results stores, suites in --store, or results.csv files;
    or one of them with --sampler X --against Y.

    \b
      genbench compare before.db after.db --fail-on-worse
      genbench compare leaderboard/store.db.gz --sampler kde --against bridge
    """
    import csv
    import io

    from .reports.compare import run_compare, table_rows, to_json

    result = run_compare(
        a, b, store=store, suite=suite, sampler=sampler, against=against, metrics=metrics, plugin_dirs=plugin_dirs
    )
    shown = result.lines if metrics or fmt != "table" else [ln for ln in result.lines if ln.metric == result.primary]
    if fmt == "json":
        click.echo(to_json(shown))
    elif fmt == "csv":
        headers, rows = table_rows(shown)
        buf = io.StringIO()
        csv.writer(buf).writerows([headers, *rows])
        click.echo(buf.getvalue(), nl=False)
    else:
        from tabulate import tabulate

        headers, rows = table_rows(shown)
        click.echo(tabulate(rows, headers, tablefmt="simple", disable_numparse=True))
    click.echo(result.summary, err=True)
    if fail_on_worse and result.worse:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
