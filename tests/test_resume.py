"""A run killed with SIGKILL part-way loses nothing and the re-run finishes the rest."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import psutil

from .conftest import FAILING_PLUGINS, GENBENCH, results_json, run_cli

SUITE = """
name = "resume"
seed = 5
n_samples = 30
n_reference = 100
timeout = 30
metrics = ["sliced_w2"]
[datasets.blob]
[samplers.sleepy]
delay = 0.6
tag = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
"""


def _ok_rows(store) -> list[tuple]:
    try:
        with sqlite3.connect(store) as conn:
            sql = "SELECT id, cell_id, run_id FROM results WHERE status = 'ok' ORDER BY id"
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the run has created the file but not its tables yet
        return []


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path, write_suite):
    suite = write_suite(SUITE)
    store = tmp_path / "r.db"
    args = [
        "run",
        "--suite",
        str(suite),
        "--store",
        str(store),
        "-j",
        "2",
        "-q",
        "--plugin-dir",
        str(FAILING_PLUGINS),
    ]
    proc = subprocess.Popen([*GENBENCH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if store.exists() and len(_ok_rows(store)) >= 3:
            break
        time.sleep(0.05)
    workers = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _ok_rows(store)
    assert 3 <= len(before) < 10, "the run should have been killed part-way"

    # No orphan keeps computing (or could write) once the run's process is gone.
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, f"orphaned workers: {alive}"

    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    after = _ok_rows(store)
    assert after[: len(before)] == before, "finished cells were lost or rewritten"
    assert len(after) == 10, "cells ran twice or not at all"
    rows = results_json(store)
    assert sorted(r["cell_id"] for r in rows) == sorted({r[1] for r in after})
    assert all(r["status"] == "ok" for r in rows) and len(rows) == 10

    # A third run has nothing left to do; --rerun repeats every cell but keeps one current row each.
    third = run_cli(*args)
    assert third.returncode == 0 and len(_ok_rows(store)) == 10
    forced = run_cli(*args, "--rerun", "--sampler", "sleepy[tag=0]")
    assert forced.returncode == 0, forced.stderr
    rows = results_json(store)
    assert len(rows) == 10 and len(results_json(store, "--history")) == 11


def test_ctrl_c_stops_cleanly_and_keeps_finished_cells(tmp_path, write_suite):
    suite = write_suite(SUITE)
    store = tmp_path / "r.db"
    args = ["run", "--suite", str(suite), "--store", str(store), "-j", "2", "--rerun"]
    args += ["--plugin-dir", str(FAILING_PLUGINS)]
    proc = subprocess.Popen(
        [*GENBENCH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (store.exists() and len(_ok_rows(store)) >= 2):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground process group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted:" in err and "Run the same command without --rerun again to resume" in err
    assert "Traceback" not in err
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    assert len(_ok_rows(store)) >= 2


def test_editing_a_plugin_invalidates_its_stored_results(tmp_path):
    from .test_plugins import JITTER_SOURCE

    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "jitter.py").write_text(JITTER_SOURCE)
    args = ["run", "--suite", "smoke", "--dataset", "gmm", "--sampler", "jitter"]
    args += ["--store", str(tmp_path / "r.db"), "--plugin-dir", str(plugin_dir)]
    assert run_cli(*args).returncode == 0
    assert "2 already done" in run_cli(*args).stderr
    edited = JITTER_SOURCE.replace("return self.X_[idx] +", "return 1 + self.X_[idx] +")
    (plugin_dir / "jitter.py").write_text(edited)
    again = run_cli(*args)
    assert "already done" not in again.stderr and "done: 2 ok" in again.stderr
