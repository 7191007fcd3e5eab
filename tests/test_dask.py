"""The Dask executor keeps the local guarantees on a real cluster: same numbers, crashes and hangs
isolated, a lost worker loses no cell, plugin files reach the workers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from .conftest import FAILING_PLUGINS, GENBENCH, results_json, run_cli  # noqa: E402

DASK = str(Path(sys.executable).parent / "dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers, each its own process, as a user starts them."""
    tmp = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": tmp}
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                               "--no-dashboard"], **quiet)]  # fmt: skip
    for name in ("w1", "w2"):
        procs.append(subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--name", name,
                                       "--no-dashboard", "--local-directory", str(tmp / name)], **quiet))  # fmt: skip
    client = distributed.Client(address, timeout="60s")
    client.wait_for_workers(2, timeout=60)
    yield address, client
    client.close()
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def _metrics(store: Path) -> dict[str, dict]:
    return {r["cell_id"]: (r["status"], r["metrics"]) for r in results_json(store)}


def test_smoke_on_a_dask_cluster_gives_the_local_numbers(cluster, tmp_path):
    address, _ = cluster
    local = run_cli("run", "--suite", "smoke", "-j", "2", "-q", "--store", str(tmp_path / "local.db"))
    assert local.returncode == 0, local.stderr
    dask = run_cli("run", "--suite", "smoke", "--executor", "dask", "--scheduler", address, "-q",
                   "--store", str(tmp_path / "dask.db"))  # fmt: skip
    assert dask.returncode == 0, dask.stderr
    a, b = _metrics(tmp_path / "local.db"), _metrics(tmp_path / "dask.db")
    assert len(a) == 18 and all(status == "ok" for status, _ in a.values())
    assert a == b


HANG = """
name = "hang"
seed = 1
n_samples = 40
n_reference = 200
timeout = 3
metrics = ["sliced_w2"]
[datasets.blob]
[samplers.sleeps_forever]
[samplers.good]
[samplers.chatty]
megabytes = 1
"""


def test_a_hung_sampler_is_stopped_and_the_workers_stay_usable(cluster, tmp_path, write_suite):
    address, client = cluster
    suite = write_suite(HANG)
    store = tmp_path / "r.db"
    args = ["run", "--suite", str(suite), "--store", str(store), "-q", "--executor", "dask", "--scheduler", address]
    proc = run_cli(*args, "--plugin-dir", str(FAILING_PLUGINS))
    assert proc.returncode == 0, proc.stderr
    rows = {r["sampler"]: r for r in results_json(store)}
    assert rows["sleeps_forever"]["status"] == "timeout" and 3 <= rows["sleeps_forever"]["wall_s"] < 6
    assert rows["good"]["status"] == "ok" and rows["chatty"]["status"] == "ok"
    assert rows["chatty"]["log_bytes"] >= 2**20  # captured on the worker, tail in the store
    assert len(client.scheduler_info()["workers"]) == 2
    again = run_cli(*args, "--plugin-dir", str(FAILING_PLUGINS), "--rerun", "--sampler", "good")
    assert again.returncode == 0, again.stderr
    assert {r["sampler"]: r["status"] for r in results_json(store)} == {
        "sleeps_forever": "timeout",
        "good": "ok",
        "chatty": "ok",
    }


def test_plugin_files_are_sent_to_the_workers(cluster, tmp_path, write_suite):
    """The workers load the plugin from their own copy, not from the client's folder."""
    address, _ = cluster
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "where.py").write_text(
        "import genbench\n\n\nclass Where(genbench.Sampler):\n    name = 'where'\n\n"
        "    def fit(self, X, *, rng):\n        print('loaded from', __file__)\n"
        "        self.X_ = X\n        return self\n\n"
        "    def sample(self, n, *, rng):\n        return self.X_[rng.integers(len(self.X_), size=n)]\n\n\n"
        "@genbench.hookimpl\ndef genbench_samplers():\n    return [Where]\n"
    )
    store = tmp_path / "r.db"
    args = ["run", "--suite", "smoke", "--sampler", "where", "--dataset", "gmm", "--store", str(store), "-q"]
    proc = run_cli(*args, "--executor", "dask", "--scheduler", address, "--plugin-dir", str(plugins))
    assert proc.returncode == 0, proc.stderr
    rows = results_json(store)
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert all("genbench-plugins" in r["log_tail"] and str(plugins) not in r["log_tail"] for r in rows)


def test_a_component_a_worker_lacks_is_one_error_naming_worker_and_component(cluster, tmp_path):
    from genbench.executors.dask import DaskExecutor
    from genbench.results.schema import Cell

    address, _ = cluster
    cell = Cell(suite="s", dataset="gmm", dataset_params={}, sampler="only_on_the_client", sampler_params={},
                rep=0, seed=0, n_samples=10, n_reference=10, metrics=[], timeout=30)  # fmt: skip
    ((_, result),) = list(DaskExecutor(scheduler=address).run([cell]))
    assert result.status == "error"
    assert result.message.startswith("on Dask worker tcp://127.0.0.1:")
    assert "unknown sampler 'only_on_the_client'" in result.message and "--plugin-dir" in result.message


SLEEPY = """
name = "lose"
seed = 5
n_samples = 30
n_reference = 100
timeout = 60
metrics = ["sliced_w2"]
[datasets.blob]
[samplers.sleepy]
delay = 1.0
tag = [0, 1, 2, 3, 4, 5, 6, 7]
"""


def test_a_killed_worker_loses_no_cell(cluster, tmp_path, write_suite):
    address, client = cluster
    suite = write_suite(SLEEPY)
    store = tmp_path / "r.db"
    args = ["run", "--suite", str(suite), "--store", str(store), "-q", "--executor", "dask", "--scheduler", address]
    args += ["--plugin-dir", str(FAILING_PLUGINS)]
    run = subprocess.Popen([sys.executable, "-m", "genbench.cli", *args], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (store.exists() and len(_rows_or_none(store)) >= 2):
        time.sleep(0.1)
    pids = client.run(os.getpid)  # worker address → pid
    os.kill(next(iter(pids.values())), signal.SIGKILL)  # mid-cell: each cell sleeps 1 s
    try:
        _, err = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 0, err
    rows = results_json(store)
    assert sorted(r["cell_id"] for r in rows) == sorted({r["cell_id"] for r in rows})  # one row per cell
    assert len(rows) == 8 and len(results_json(store, "--history")) == 8
    assert all(r["status"] in ("ok", "crashed") for r in rows), [r["message"] for r in rows]
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in results_json(store)] == ["ok"] * 8


def _rows_or_none(store: Path) -> list:
    import sqlite3

    try:
        with sqlite3.connect(store) as conn:
            return conn.execute("SELECT id FROM results").fetchall()
    except sqlite3.OperationalError:
        return []


EX_UNAVAILABLE = 69


def _start_cluster(tmp_path: Path) -> tuple[str, subprocess.Popen, subprocess.Popen]:
    """A scheduler and one worker (with its nanny), each its own process group."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": tmp_path, "start_new_session": True}
    scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                  "--no-dashboard"], **quiet)  # fmt: skip
    worker = subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-dashboard"], **quiet)
    with distributed.Client(address, timeout="60s") as client:
        client.wait_for_workers(1, timeout=60)
    return address, scheduler, worker


def _cluster_fault(tmp_path: Path, write_suite, fault: str) -> None:
    """Run SLEEPY on a one-worker cluster, inject ``fault`` once 2 cells are stored ("scheduler":
    SIGKILL the scheduler; "workers": SIGKILL the worker and its nanny), check the one line, exit 69
    and the kept cells, then resume locally to 8 cells with no duplicate."""
    address, scheduler, worker = _start_cluster(tmp_path)
    try:
        store = tmp_path / "r.db"
        suite = str(write_suite(SLEEPY))
        args = ["run", "--suite", suite, "--store", str(store), "--plugin-dir", str(FAILING_PLUGINS)]
        env = {**os.environ, "GENBENCH_DASK_NO_WORKERS": "4"}
        run = subprocess.Popen([*GENBENCH, *args, "-q", "--executor", "dask", "--scheduler", address],
                               stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (store.exists() and len(_rows_or_none(store)) >= 2):
            time.sleep(0.1)
        os.killpg((scheduler if fault == "scheduler" else worker).pid, signal.SIGKILL)
        _, err = run.communicate(timeout=120)
        assert run.returncode == EX_UNAVAILABLE, err
        assert err.strip().count("\n") == 0 and "Traceback" not in err, err
        if fault == "scheduler":
            assert f"lost the connection to the Dask scheduler ({address})" in err
        else:
            assert f"no Dask worker on {address} for 4 s (GENBENCH_DASK_NO_WORKERS)" in err
        rows = results_json(store)
        assert len(rows) >= 2 and all(r["status"] == "ok" for r in rows)
        assert f"; {len(rows)} finished cells are kept. Bring the cluster back" in err
        assert "resume with: genbench run --suite" in err
    finally:
        for p in (scheduler, worker):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=20)
    again = run_cli(*args, "-j", "4")  # the same suite and store, resumed on the local executor
    assert again.returncode == 0, again.stderr
    ids = [r["cell_id"] for r in results_json(store)]
    assert len(ids) == 8 and len(set(ids)) == 8 and f"{len(rows)} already done" in again.stderr


def test_a_lost_scheduler_ends_the_run_in_one_line_and_the_store_resumes(tmp_path, write_suite):
    _cluster_fault(tmp_path, write_suite, "scheduler")


def test_a_cluster_whose_workers_all_died_ends_the_run_in_one_line_and_resumes(tmp_path, write_suite):
    _cluster_fault(tmp_path, write_suite, "workers")


def test_ctrl_c_stops_a_dask_run_cleanly_and_it_resumes(tmp_path, write_suite):
    store = tmp_path / "r.db"
    suite = write_suite(SLEEPY.replace("delay = 1.0", "delay = 3.0"))
    args = ["run", "--suite", str(suite), "--store", str(store), "--executor", "dask", "-j", "2"]
    args += ["--plugin-dir", str(FAILING_PLUGINS)]
    run = subprocess.Popen([sys.executable, "-m", "genbench.cli", *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (store.exists() and len(_rows_or_none(store)) >= 2):
        time.sleep(0.1)
    stopped_at = time.monotonic()
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground process group
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert time.monotonic() - stopped_at < 20  # the running cells were stopped, not waited for
    assert "interrupted:" in err and "Traceback" not in err, err
    assert 2 <= len(results_json(store)) < 8
    again = run_cli(*args, "-q")
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in results_json(store)] == ["ok"] * 8


KILLER = '''
import contextlib
import os
import signal

import psutil

import genbench


class KillsItsWorker(genbench.Sampler):
    """Kills the Dask worker process that runs it (cell → forkserver → worker), every time."""

    name = "kills_its_worker"

    def fit(self, X, *, rng):
        os.kill(psutil.Process(os.getppid()).ppid(), signal.SIGKILL)
        return self

    def sample(self, n, *, rng):
        raise AssertionError("unreachable")


@genbench.hookimpl
def genbench_samplers():
    return [KillsItsWorker]
'''


def test_a_cell_that_takes_its_worker_down_is_retried_once_then_crashed(cluster, tmp_path, write_suite):
    address, client = cluster
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "killer.py").write_text(KILLER)
    suite = write_suite(
        """
        name = "killer"
        n_samples = 20
        n_reference = 50
        timeout = 60
        metrics = ["sliced_w2"]
        [datasets.gmm]
        [samplers.kills_its_worker]
        [samplers.kde]
        """
    )
    store = tmp_path / "r.db"
    args = ["run", "--suite", str(suite), "--store", str(store), "-q", "--executor", "dask", "--scheduler", address]
    proc = run_cli(*args, "--plugin-dir", str(plugins))
    assert proc.returncode == 0, proc.stderr
    rows = {r["sampler"]: r for r in results_json(store)}
    assert rows["kde"]["status"] == "ok"
    assert rows["kills_its_worker"]["status"] == "crashed"
    assert "the Dask workers running it died" in rows["kills_its_worker"]["message"]
    assert "on 2 different workers" in rows["kills_its_worker"]["message"]  # tried, then retried once elsewhere
    client.wait_for_workers(2, timeout=60)  # the nannies restart the killed workers
