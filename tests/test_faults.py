"""Fault injection: what the *machine* does to a run — a full disk, a store deleted mid-run, a
read-only store, a lock held past the timeout, a SIGKILL in the middle of a commit, the kernel's
OOM killer, an unwritable cache, a full disk while the leaderboard is written (a lost Dask
scheduler and dead workers: tests/test_dask.py). Each fault is injected in a subprocess; each test
asserts the one-line message, the exit status, that nothing finished is lost, and that the same
command resumes to completion with no duplicate."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genbench.executors import isolation

from .conftest import FAILING_PLUGINS, FIXTURES, GENBENCH, results_json, run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX ulimit and permissions")

EX_IOERR = 74
FAULT_PLUGINS = str(FIXTURES / "fault_plugins")


def _suite(tmp_path: Path, sampler: str) -> Path:
    """A two-cell suite: kde, then ``sampler`` (a fault plugin)."""
    suite = tmp_path / "faults.toml"
    suite.write_text(
        'name = "faults"\nrepetitions = 1\nn_samples = 100\nn_reference = 100\nmetrics = ["sliced_w2"]\n'
        f"[datasets.gmm]\nn_train = 100\n[samplers.kde]\n[samplers.{sampler}]\n"
    )
    return suite


def _kept(line: str) -> int:
    return int(line.split(" finished cells are kept")[0].rsplit(" ", 1)[1])


def _run(args: list[str], cwd, *, kb: int | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``genbench ARGS`` in a subprocess; with ``kb``, under ``ulimit -f`` (no file written past ``kb``
    kB: a full disk) — set by the shell, not a ``preexec_fn``, which would fork this JAX-threaded process."""
    cmd = [*GENBENCH, *args]
    if kb:
        cmd = ["bash", "-c", f'ulimit -f {kb} && exec "$0" "$@"', *cmd]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _one_line(stderr: str) -> str:
    """The run's error: the last line of stderr, and no traceback anywhere."""
    assert "Traceback" not in stderr, stderr
    return stderr.strip().splitlines()[-1]


def test_a_full_disk_ends_the_run_in_one_line_and_the_same_command_resumes(tmp_path):
    store = tmp_path / "s.db"
    args = ["run", "--suite", "smoke", "--store", str(store), "-j", "2"]
    full = _run(args, tmp_path, kb=120)
    assert full.returncode == EX_IOERR, full.stderr
    line = _one_line(full.stderr)
    assert line.startswith(f"genbench: error: results store {store}: recording ")
    assert "disk may be full" in line and "finished cells are kept" in line
    kept = _kept(line)
    assert kept > 0 and f"resume with: genbench run --suite smoke --store {store} -j 2" in line
    rows = results_json(store)
    assert len(rows) == kept and all(r["status"] == "ok" for r in rows)  # what it says is kept, is
    again = _run(args, tmp_path)
    assert again.returncode == 0, again.stderr
    ids = [r["cell_id"] for r in results_json(store)]
    assert len(ids) == 18 and len(set(ids)) == 18  # complete, no duplicate
    assert f"{kept} already done" in again.stderr


def test_a_store_deleted_mid_run_is_said_not_written_into_a_ghost(tmp_path):
    store = tmp_path / "gone.db"
    suite = _suite(tmp_path, "store_deleter")
    args = ["run", "--suite", str(suite), "--store", str(store), "--plugin-dir", FAULT_PLUGINS]
    gone = _run(args, tmp_path, env={"GENBENCH_TEST_DELETE": str(store)})
    assert gone.returncode == EX_IOERR, gone.stderr
    line = _one_line(gone.stderr)
    assert "the store file was deleted" in line and "0 finished cells are kept" in line
    again = _run(args, tmp_path)  # a new store, every cell run again
    assert again.returncode == 0, again.stderr
    assert len(results_json(store)) == 2


def test_a_lock_held_past_the_timeout_ends_the_run_in_one_line_and_resumes(tmp_path):
    store = tmp_path / "locked.db"
    args = [
        "run",
        "--suite",
        str(_suite(tmp_path, "store_locker")),
        "--store",
        str(store),
        "--plugin-dir",
        FAULT_PLUGINS,
    ]
    # store_locker's fit has another process hold the store's write lock for 6 s; writes wait 1 s
    env = {"GENBENCH_TEST_LOCK": str(store), "GENBENCH_TEST_LOCK_S": "6", "GENBENCH_STORE_TIMEOUT": "1"}
    locked = _run(args, tmp_path, env=env)
    assert locked.returncode == EX_IOERR, locked.stderr
    line = _one_line(locked.stderr)
    assert line.startswith(f"genbench: error: results store {store}: recording ")
    assert "another process held the store's lock past the 1 s timeout (GENBENCH_STORE_TIMEOUT)" in line
    rows = results_json(store)  # readers are not blocked (WAL)
    assert _kept(line) == len(rows) == 1 and rows[0]["sampler"] == "kde"
    again = _run(args, tmp_path)  # waits (30 s at most) for the lock to go, then runs the rest
    assert again.returncode == 0, again.stderr
    assert sorted(r["sampler"] for r in results_json(store)) == ["kde", "store_locker"]
    assert "1 already done" in again.stderr


#: ``genbench`` whose store is SIGKILLed in the middle of its KILL_AT-th result's transaction: after
#: the UPDATE of the previous row, as the INSERT starts (SQLite's statement trace callback).
_KILLED_IN_COMMIT = """
import os, signal, sys
from genbench.results import store

opened = store.Store.__init__
inserts = []

def trace(sql):
    if sql.lstrip().startswith("INSERT INTO results"):
        inserts.append(sql)
        if len(inserts) == int(os.environ["KILL_AT"]):
            os.kill(os.getpid(), signal.SIGKILL)

def init(self, *args, **kwargs):
    opened(self, *args, **kwargs)
    self.conn.set_trace_callback(trace)

store.Store.__init__ = init
from genbench.cli import main
main()
"""


def test_a_sigkill_in_the_middle_of_a_commit_loses_no_finished_cell_and_resumes(tmp_path):
    store = tmp_path / "k.db"
    args = ["run", "--suite", "smoke", "--store", str(store), "-j", "2"]
    killed = subprocess.run([sys.executable, "-c", _KILLED_IN_COMMIT, *args], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "KILL_AT": "5"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with sqlite3.connect(store) as conn:  # the torn transaction rolled back; the file is sound
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM results WHERE current = 1").fetchone() == (4,)
    rows = results_json(store)
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    again = _run(args, tmp_path)
    assert again.returncode == 0, again.stderr
    ids = [r["cell_id"] for r in results_json(store)]
    assert len(ids) == 18 and len(set(ids)) == 18 and "4 already done" in again.stderr
    # killed while a --rerun replaces a row: its transaction had made the old row not current
    env = {**os.environ, "KILL_AT": "3"}
    rerun = subprocess.run([sys.executable, "-c", _KILLED_IN_COMMIT, *args, "--rerun"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert rerun.returncode == -signal.SIGKILL, rerun.stderr
    with sqlite3.connect(store) as conn:  # every cell keeps one current row: the old one, or its new one
        current = [r[0] for r in conn.execute("SELECT cell_id FROM results WHERE current = 1")]
        assert sorted(current) == sorted(ids)
        assert conn.execute("SELECT COUNT(*) FROM results").fetchone() == (18 + 2,)


def _eats_then_is_killed(vmstat: str, oom: bool) -> None:
    """An isolated target: holds 200 MB, then dies of SIGKILL — with the kernel's OOM-kill count
    (a stand-in file) raised first when ``oom``, as the OOM killer does."""
    import numpy as np

    block = np.ones(200 * 2**20 // 8)
    time.sleep(0.8)  # sampled at least once
    if oom:
        Path(vmstat).write_text("pgfault 1\noom_kill 8\n")
    os.kill(os.getpid(), signal.SIGKILL)
    del block


@pytest.mark.parametrize("oom", [True, False])
def test_a_sigkill_while_the_oom_kill_count_rises_is_an_oom_kill_with_its_peak(tmp_path, monkeypatch, oom):
    vmstat = tmp_path / "vmstat"
    vmstat.write_text("pgfault 1\noom_kill 7\n")
    monkeypatch.setattr(isolation, "_VMSTAT", str(vmstat))
    out = isolation.run_isolated(_eats_then_is_killed, (str(vmstat), oom), timeout=60, capture=False)
    if oom:
        assert out.state == "oom" and "kernel's out-of-memory killer" in out.message and "7 → 8" in out.message
        assert out.peak_mem_mb is not None and out.peak_mem_mb > 150 and f"{out.peak_mem_mb:.0f} MB" in out.message
    else:  # the planted case: the same SIGKILL with no OOM kill counted is a plain crash
        assert out.state == "died" and "SIGKILL" in out.message and "out-of-memory" not in out.message


def _memory_cgroup(limit_mb: int) -> Path | None:
    """A fresh cgroup-v1 memory group limited to ``limit_mb`` (``None`` where one cannot be made)."""
    root = Path("/sys/fs/cgroup/memory")
    if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
        return None
    group = root / f"genbench-test-{os.getpid()}-{time.monotonic_ns()}"
    try:
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(f"{limit_mb * 2**20}")
    except OSError:
        return None
    return group


def test_a_cell_the_kernels_oom_killer_ends_is_recorded_as_such(tmp_path):
    group = _memory_cgroup(700)
    if group is None:
        pytest.skip("needs a writable cgroup-v1 memory hierarchy (root on a cgroup-v1 host)")
    suite = tmp_path / "oom.toml"
    suite.write_text('name = "oom"\nn_samples = 40\nn_reference = 40\nmetrics = ["sliced_w2"]\n'
                     "[datasets.gmm]\n[samplers.memory_hog]\n[samplers.good]\n")  # fmt: skip
    store = tmp_path / "oom.db"
    cmd = ["bash", "-c", f'echo $$ > {group}/cgroup.procs && exec "$0" "$@"', *GENBENCH, "run", "--suite",
           str(suite), "--store", str(store), "--plugin-dir", str(FAILING_PLUGINS)]  # fmt: skip
    try:
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        oom_kills = int((group / "memory.oom_control").read_text().split("oom_kill ")[1].split()[0])
    finally:
        for _ in range(50):  # the forkserver leaves with the run
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)
    assert oom_kills >= 1
    rows = {r["sampler"]: r for r in results_json(store)}
    assert rows["good"]["status"] == "ok"
    hog = rows["memory_hog"]
    assert hog["status"] == "crashed" and "kernel's out-of-memory killer" in hog["message"], hog["message"]
    assert 300 < hog["peak_mem_mb"] < 700 and f"{hog['peak_mem_mb']:.0f} MB" in hog["message"]


def test_a_read_only_store_is_refused_before_any_cell_runs(tmp_path):
    store = tmp_path / "ro.db"
    assert run_cli("run", "--suite", "smoke", "--store", str(store), "--sampler", "kde[bandwidth=0.1]").returncode == 0
    before = results_json(store)
    store.chmod(0o444)
    try:
        if os.access(store, os.W_OK):
            pytest.skip("running as a user that ignores file permissions (root)")
        proc = run_cli("run", "--suite", "smoke", "--store", str(store), "--rerun")
        assert proc.returncode == 2, proc.stderr
        assert _one_line(proc.stderr).startswith(f"genbench: error: results store {store}")
    finally:
        store.chmod(0o644)
    assert results_json(store) == before


def test_an_unwritable_cache_degrades_to_computing_with_one_warning(tmp_path):
    store = tmp_path / "s.db"
    assert run_cli("run", "--suite", "smoke", "--store", str(store), "--dataset", "gmm").returncode == 0
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache folder should be")  # mkdir fails whoever we are
    proc = run_cli("leaderboard", "--store", str(store), env={"GENBENCH_CACHE": str(cache / "sub")})
    assert proc.returncode == 0, proc.stderr
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("genbench: warning:")]
    assert len(warnings) == 1 and "data-floor cache" in warnings[0] and "recomputed" in warnings[0]
    assert "data floor" in proc.stdout  # computed anyway


def test_a_full_disk_while_writing_the_leaderboard_leaves_the_previous_files_whole(tmp_path):
    store = tmp_path / "s.db"
    assert run_cli("run", "--suite", "smoke", "--store", str(store), "-j", "2").returncode == 0
    out = tmp_path / "board"
    args = ["leaderboard", "--store", str(store), "--out", str(out)]
    assert _run(args, tmp_path).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # a 40 kB disk: the store's 32 kB index, README.md and results.csv fit; the page does not
    assert len(before["index.html"]) > 40 * 1024 > max(len(before["README.md"]), len(before["results.csv"]))
    (out / "index.html").write_text("stale")  # a previous page
    before["index.html"] = b"stale"
    full = _run(args, tmp_path, kb=40, env={"GENBENCH_CACHE": str(tmp_path / "cache")})
    assert full.returncode == EX_IOERR, full.stderr
    line = _one_line(full.stderr)
    assert line.startswith(f"genbench: error: {out / 'index.html'}: writing failed")
    assert "previous one, whole" in line
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after.keys() == before.keys()  # no temporary file left behind
    assert after["index.html"] == b"stale"  # the page could not be written: the old one stays, not a cut one
    assert after["README.md"] == before["README.md"]  # rewritten whole (same content)
    assert oct((out / "README.md").stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # readable by others
