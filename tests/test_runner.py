"""Every failure mode of a plugin is isolated and recorded while the other cells finish."""

from __future__ import annotations

import math

import numpy as np
import pytest

import genbench
from genbench.evaluation import validate_samples

from .conftest import FAILING_PLUGINS, results_json, run_cli

FAILURES = """
name = "failures"
seed = 1
n_samples = 40
n_reference = 200
timeout = 4
metrics = ["sliced_w2", "broken_metric", "memorization"]
[datasets.blob]
[samplers.good]
[samplers.raises]
[samplers.returns_nan]
[samplers.wrong_shape]
[samplers.sleeps_forever]
[samplers.kills_itself]
[samplers.exits_abruptly]
[samplers.memory_hog]
[samplers.needs_conditional]
[samplers.allocates]
[samplers.reports_diagnostics]
"""


@pytest.fixture(scope="module")
def failure_rows(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("failures")
    suite = tmp / "failures.toml"
    suite.write_text(FAILURES)
    store = tmp / "r.db"
    proc = run_cli(
        "run",
        "--suite",
        str(suite),
        "--store",
        str(store),
        "-j",
        "2",
        "--max-memory",
        "800",
        "--plugin-dir",
        str(FAILING_PLUGINS),
    )
    assert proc.returncode == 0, proc.stderr  # failed cells are results, not a failed run
    rows = results_json(store)
    return {r["sampler"]: r for r in rows}, store


@pytest.mark.parametrize(
    ("sampler", "status", "message"),
    [
        ("good", "ok", ""),
        ("raises", "error", "fit: RuntimeError: deliberate failure in fit"),
        ("returns_nan", "invalid", "1 of 40 points with NaN or inf"),
        ("wrong_shape", "invalid", "returned shape (39, 2), expected (40, 2)"),
        ("sleeps_forever", "timeout", "killed after the 4 s timeout"),
        ("kills_itself", "crashed", "SIGKILL"),
        ("exits_abruptly", "crashed", "exited with status 3"),
        ("memory_hog", "crashed", "exceeded the 800 MB cap"),
        ("needs_conditional", "skipped", "dataset blob lacks conditional"),
    ],
)
def test_failure_is_isolated_and_recorded(failure_rows, sampler, status, message):
    rows, _ = failure_rows
    row = rows[sampler]
    assert row["status"] == status, row
    assert message in row["message"]


def test_error_keeps_the_traceback_tail(failure_rows):
    rows, _ = failure_rows
    assert "deliberate failure in fit" in rows["raises"]["traceback"]
    assert "failing.py" in rows["raises"]["traceback"]


def test_failing_metric_gives_nan_with_reason_not_a_failed_cell(failure_rows):
    rows, _ = failure_rows
    good = rows["good"]
    assert good["metrics"]["broken_metric"] is None
    assert "ZeroDivisionError: deliberate metric failure" in good["metric_notes"]["broken_metric"]
    assert good["metrics"]["sliced_w2"] > 0
    assert good["fit_s"] >= 0 and good["sample_s"] >= 0 and good["metric_s"] > 0


def test_peak_memory_is_what_the_cell_added(failure_rows):
    rows, _ = failure_rows
    assert 0 <= rows["good"]["peak_mem_mb"] < 50
    assert 195 <= rows["allocates"]["peak_mem_mb"] < 300


def test_timeout_is_hard(failure_rows):
    rows, _ = failure_rows
    assert 4 <= rows["sleeps_forever"]["wall_s"] < 6


def test_fail_on_error_exits_1(tmp_path, write_suite):
    suite = write_suite(FAILURES.replace("timeout = 4", "timeout = 1"))
    proc = run_cli(
        "run",
        "--suite",
        str(suite),
        "--store",
        str(tmp_path / "r.db"),
        "--sampler",
        "raises",
        "--sampler",
        "good",
        "--fail-on-error",
        "-q",
        "--plugin-dir",
        str(FAILING_PLUGINS),
    )
    assert proc.returncode == 1, proc.stderr


def test_torch_import_fits_under_a_resident_memory_cap(tmp_path, write_suite):
    """The cap watches resident memory, so torch's large virtual reservations do not trip it."""
    suite = write_suite(FAILURES)
    proc = run_cli(
        "run",
        "--suite",
        str(suite),
        "--store",
        str(tmp_path / "r.db"),
        "--sampler",
        "torch_user",
        "--max-memory",
        "1500",
        "--timeout",
        "120",
        "-q",
        "--plugin-dir",
        str(FAILING_PLUGINS),
    )
    assert proc.returncode == 0, proc.stderr
    (row,) = results_json(tmp_path / "r.db")
    assert row["status"] == "ok", row["message"]


def test_processes_a_cell_starts_do_not_outlive_it(tmp_path, write_suite):
    """A child process left by a cell is killed with it, whether the cell returned or crashed."""
    import os
    import time

    import psutil

    pidfile = tmp_path / "child"
    suite = write_suite(
        f"""
        name = "children"
        n_samples = 20
        n_reference = 50
        timeout = 60
        metrics = ["sliced_w2"]
        [datasets.blob]
        [samplers.leaves_child]
        pidfile = "{pidfile.as_posix()}"
        then = ["return", "crash"]
        """
    )
    proc = run_cli(
        "run", "--suite", str(suite), "--store", str(tmp_path / "r.db"), "-q", "--plugin-dir", str(FAILING_PLUGINS)
    )
    assert proc.returncode == 0, proc.stderr
    statuses = {r["sampler_params"]["then"]: r["status"] for r in results_json(tmp_path / "r.db")}
    assert statuses == {"return": "ok", "crash": "crashed"}
    for then in ("return", "crash"):
        pid = int((tmp_path / f"child.{then}").read_text())
        for _ in range(50):  # killed: gone once reaped, a zombie until then (if init is slow to reap)
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, 9)
            raise AssertionError(f"the child of the cell that did {then!r} outlived it")


def test_memory_cap_holds_even_when_the_cell_finishes_between_two_checks(tmp_path, write_suite):
    """`allocates` holds 200 MB for a moment: over a 150 MB cap every repetition is `crashed`."""
    suite = write_suite(FAILURES.replace('name = "failures"', 'name = "cap"\nrepetitions = 3'))
    args = ["run", "--suite", str(suite), "--store", str(tmp_path / "r.db"), "--sampler", "allocates"]
    proc = run_cli(*args, "--max-memory", "150", "-j", "2", "-q", "--plugin-dir", str(FAILING_PLUGINS))
    assert proc.returncode == 0, proc.stderr
    rows = results_json(tmp_path / "r.db")
    assert [r["status"] for r in rows] == ["crashed"] * 3
    assert all("exceeded the 150 MB cap" in r["message"] and r["peak_mem_mb"] > 150 for r in rows)


def test_diagnostics_are_stored_thinned_and_a_wall_clock_stop_is_not_silent(failure_rows):
    rows, _ = failure_rows
    row = rows["reports_diagnostics"]
    assert row["status"] == "ok"
    assert row["message"] == "training stopped at its wall-clock cap after 10000 of 20000 steps"
    diag = row["diagnostics"]
    curve = diag["loss"]
    assert len(curve) == 200  # thinned from 1,000 points, first and last kept
    assert curve[0] == [0.0, 1.0] and curve[-1][0] == 9990.0
    assert all(isinstance(v, float) or v is None for point in curve for v in point)
    assert diag["steps"] == 10_000 and diag["stopped"] == "wall_clock"
    assert isinstance(diag["device"], str)  # an object becomes its str, never a failed row
    assert rows["good"]["diagnostics"] == {}


def test_oversized_diagnostics_keep_only_their_scalars():
    from genbench.evaluation import DIAGNOSTIC_BYTES, collect_diagnostics

    big = {"steps": 3, "blob": ["x" * 1000] * 100, "nested": {"a": list(range(10))}}
    out = collect_diagnostics(big)
    assert out == {"steps": 3, "truncated": True}
    assert len(str(out)) < DIAGNOSTIC_BYTES
    assert collect_diagnostics([1, 2]) == {}
    assert collect_diagnostics({"x": np.float64("inf"), "y": np.arange(3)}) == {"x": None, "y": [0, 1, 2]}


def test_validate_samples_rejects_bad_output():
    assert validate_samples(np.zeros((3, 2)), 3, 2)[0] is not None
    assert "shape" in validate_samples(np.zeros((3, 1)), 3, 2)[1]
    assert "dtype" in validate_samples(np.array([["a", "b"]] * 3), 3, 2)[1]
    assert "inf" in validate_samples(np.full((3, 2), np.inf), 3, 2)[1]


def test_same_seed_same_numbers_and_other_seed_differs(tmp_path, write_suite):
    text = """
    name = "det"
    seed = {seed}
    repetitions = 2
    n_samples = 200
    n_reference = 500
    metrics = ["sliced_w2", "energy", "memorization"]
    [datasets.arc]
    n_train = 200
    [samplers.kde]
    bandwidth = [0.05, "scott"]
    """
    frames = []
    for i, seed in enumerate([7, 7, 8]):
        suite = write_suite(text.format(seed=seed), name=f"det{i}.toml")
        frames.append(genbench.run_suite(suite, store=tmp_path / f"r{i}.db", jobs=2))
    a, b, c = ([row for row in f["metrics"]] for f in frames)
    assert a == b
    assert all(math.isfinite(v) for row in a for v in row.values())
    assert a != c


def test_run_suite_returns_the_json_columns(tmp_path):
    df = genbench.run_suite("smoke", store=tmp_path / "r.db", samplers=["kde[bandwidth=0.1]"], datasets=["gmm"])
    expected = {
        "cell_id",
        "suite",
        "dataset",
        "dataset_params",
        "sampler",
        "sampler_params",
        "rep",
        "seed",
        "status",
        "message",
        "fit_s",
        "sample_s",
        "metric_s",
        "peak_mem_mb",
        "metrics",
    }
    assert expected <= set(df.columns)
    assert list(df["cell_id"]) == [
        "gmm[n_train=500]/kde[bandwidth=0.1]/rep=0",
        "gmm[n_train=500]/kde[bandwidth=0.1]/rep=1",
    ]
    assert (df["status"] == "ok").all()
    assert set(df["metrics"].iloc[0]) == {"sliced_w2", "energy", "memorization"}


def test_leaderboard_ranks_only_cells_with_values(failure_rows):
    _, store = failure_rows
    cols = "dataset,rank,ci,sampler,ok,sliced_w2,broken_metric,memorization"
    board = run_cli(
        "leaderboard", "--store", str(store), "--plugin-dir", str(FAILING_PLUGINS), "--columns", cols
    ).stdout
    table = board.split("\n---", 1)[1].split("\n", 1)[1]  # the lines below the header rule
    lines = {line.split()[-5]: line for line in table.splitlines() if line.startswith("blob")}  # by sampler name
    # good and allocates jitter their training points: values, but flagged as copying, so not ranked
    assert all("⚠ copies" in lines[s] and " 1/1 " in lines[s] for s in ("good", "allocates"))
    assert lines["raises"].split()[1:3] == ["n/a", "—"] and " 0/1 " in lines["raises"]  # no value: no rank
    assert "broken_metric ↓" in board and "memorization ·" in board  # a flag: no direction, never ranked
    default = run_cli("leaderboard", "--store", str(store), "--plugin-dir", str(FAILING_PLUGINS)).stdout
    assert "broken_metric" not in default.split("\n---")[0]  # a metric with no value anywhere: column dropped


def test_skipped_cells_are_not_recorded_again_on_resume(failure_rows, tmp_path):
    _, store = failure_rows
    suite = tmp_path / "failures.toml"
    suite.write_text(FAILURES)
    args = ["run", "--suite", str(suite), "--store", str(store), "--sampler", "needs_conditional"]
    proc = run_cli(*args, "--plugin-dir", str(FAILING_PLUGINS))
    assert "1 already done" in proc.stderr
    assert len(results_json(store, "--history", "--suite", "failures")) == 11


def test_a_metric_value_does_not_depend_on_the_other_metrics(tmp_path, write_suite):
    """Metric seeds are keyed by name: adding or reordering metrics changes no other value."""
    text = """
    name = "order{i}"
    seed = 3
    n_samples = 200
    n_reference = 400
    metrics = {metrics}
    [datasets.arc]
    n_train = 200
    [samplers.kde]
    """
    values = []
    for i, metrics in enumerate((["sliced_w2"], ["energy", "memorization", "sliced_w2"])):
        suite = write_suite(text.format(i=i, metrics=metrics).replace("'", '"'), name=f"o{i}.toml")
        (row,) = genbench.run_suite(suite, store=tmp_path / f"r{i}.db")["metrics"]
        values.append(row["sliced_w2"])
    assert values[0] == values[1]
