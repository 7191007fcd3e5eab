"""Fault injection: what the *machine* does to a run — a full disk, a store deleted mid-run, a
read-only store, an unwritable cache, a full disk while the leaderboard is written. Each fault is
injected in a subprocess; each test asserts the one-line message, the exit status, that nothing
finished is lost, and that the same command resumes to completion with no duplicate."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import FIXTURES, GENBENCH, results_json, run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX ulimit and permissions")

EX_IOERR = 74


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
    kept = int(line.split(" finished cells are kept")[0].rsplit(" ", 1)[1])
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
    suite = tmp_path / "faults.toml"
    suite.write_text(
        'name = "faults"\nrepetitions = 1\nn_samples = 100\nn_reference = 100\nmetrics = ["sliced_w2"]\n'
        "[datasets.gmm]\nn_train = 100\n[samplers.kde]\n[samplers.store_deleter]\n"
    )
    plugins = str(FIXTURES / "fault_plugins")
    args = ["run", "--suite", str(suite), "--store", str(store), "--plugin-dir", plugins]
    gone = _run(args, tmp_path, env={"GENBENCH_TEST_DELETE": str(store)})
    assert gone.returncode == EX_IOERR, gone.stderr
    line = _one_line(gone.stderr)
    assert "the store file was deleted" in line and "0 finished cells are kept" in line
    again = _run(args, tmp_path)  # a new store, every cell run again
    assert again.returncode == 0, again.stderr
    assert len(results_json(store)) == 2


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
