"""One isolation layer: captured output, the executor interface, GPU-safe worker environments."""

from __future__ import annotations

import io
import re

import pytest

import genbench
from genbench.executors import Executor, run_cell
from genbench.executors.isolation import worker_environment
from genbench.executors.progress import Progress
from genbench.results.schema import LOG_TAIL_BYTES, CellResult

from .conftest import FAILING_PLUGINS, results_json, run_cli

SUITE = """
name = "iso"
seed = 2
n_samples = 40
n_reference = 200
timeout = 60
metrics = ["sliced_w2", "memorization"]
[datasets.blob]
[samplers.{sampler}]
"""


def test_a_plugin_printing_50_mb_leaves_the_run_output_small_and_its_tail_in_the_store(tmp_path, write_suite):
    suite = write_suite(SUITE.format(sampler="chatty"))
    store = tmp_path / "r.db"
    proc = run_cli("run", "--suite", str(suite), "--store", str(store), "--plugin-dir", str(FAILING_PLUGINS))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(proc.stdout) + len(proc.stderr) < 2**20  # the run's own output: progress only
    (row,) = results_json(store)
    assert row["status"] == "ok"
    assert row["log_bytes"] >= 50 * 2**20
    assert len(row["log_tail"].encode()) == LOG_TAIL_BYTES
    assert row["log_tail"].endswith("chatty: the last line\n")
    log = run_cli("results", "--store", str(store), "--cell", row["cell_id"], "--log")
    assert log.returncode == 0, log.stderr
    assert log.stdout == row["log_tail"] and f"of {row['log_bytes']} bytes" in log.stderr


def test_unknown_cell_log_is_one_line(tmp_path, write_suite):
    suite = write_suite(SUITE.format(sampler="good"))
    store = tmp_path / "r.db"
    assert run_cli("run", "--suite", str(suite), "--store", str(store), "-q", "--plugin-dir", str(FAILING_PLUGINS))
    proc = run_cli("results", "--store", str(store), "--cell", "blob/nosuch/rep=0", "--log")
    assert proc.returncode == 2 and "no cell 'blob/nosuch/rep=0'" in proc.stderr and proc.stderr.count("\n") == 1


def test_worker_environment_shares_the_gpu_and_caches_compiles(tmp_path, write_suite):
    suite = write_suite(SUITE.format(sampler="reports_env"))
    store = tmp_path / "r.db"
    env = {"GENBENCH_CACHE": str(tmp_path / "cache")}
    args = ["run", "--suite", str(suite), "--store", str(store), "-q", "--plugin-dir", str(FAILING_PLUGINS)]
    assert run_cli(*args, "--device", "cpu", env=env).returncode == 0
    (row,) = results_json(store)
    assert row["device"] == "cpu"
    log = row["log_tail"]
    assert "XLA_PYTHON_CLIENT_PREALLOCATE=false" in log
    assert f"JAX_COMPILATION_CACHE_DIR={tmp_path / 'cache' / 'jax'}" in log
    assert "GENBENCH_DEVICE=cpu" in log and "CUDA_VISIBLE_DEVICES=''" in log  # cpu: GPUs hidden from CUDA


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cell_ids_with_brackets_print_intact_on_a_rich_terminal():
    stream = _TTY()
    bar = Progress(2, stream=stream)
    for cid in ("arc[n_train=250]/badshape/rep=0", "arc[n_train=500]/badshape/rep=0"):
        bar.update(cid, CellResult("invalid", message="sample() returned shape [3, 2] with [red]markup[/red]"))
    bar.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())  # drop the terminal's colour codes
    assert "arc[n_train=250]/badshape/rep=0" in text and "arc[n_train=500]/badshape/rep=0" in text
    assert "[red]markup[/red]" in text


class SerialExecutor(Executor):
    """The smallest executor: one isolated cell after another, through the shared isolation layer."""

    name = "serial"

    def run(self, cells):
        for cell in cells:
            yield cell, run_cell(cell, self)


_MEASURED = ("fit_s", "sample_s", "metric_s", "wall_s", "peak_mem_mb", "run_id", "finished_at")


def test_a_second_executor_gives_identical_rows(tmp_path):
    common = {"samplers": ["kde[bandwidth=0.1]", "kde[bandwidth=scott]"], "datasets": ["gmm"]}
    local = genbench.run_suite("smoke", store=tmp_path / "a.db", jobs=2, **common)
    serial = genbench.run_suite("smoke", store=tmp_path / "b.db", executor=SerialExecutor(), **common)
    assert len(local) == 4 and (local["status"] == "ok").all()
    strip = lambda df: df.drop(columns=list(_MEASURED)).to_dict("records")  # noqa: E731
    assert strip(local) == strip(serial)


def test_unknown_executor_and_bad_api_overrides_are_one_line_errors(tmp_path):
    with pytest.raises(genbench.GenbenchError, match="unknown executor 'locl' — did you mean 'local'"):
        genbench.run_suite("smoke", store=tmp_path / "r.db", executor="locl")
    with pytest.raises(genbench.GenbenchError, match="timeout must be a positive number, got -1"):
        genbench.run_suite("smoke", store=tmp_path / "r.db", timeout=-1)
    with pytest.raises(genbench.GenbenchError, match=r"repetitions must be a positive integer, got 1\.5"):
        genbench.run_suite("smoke", store=tmp_path / "r.db", repetitions=1.5)
    with pytest.raises(genbench.GenbenchError, match="jobs must be a positive integer, got 0"):
        genbench.run_suite("smoke", store=tmp_path / "r.db", jobs=0)
    with pytest.raises(genbench.GenbenchError, match=r"samplers must be a list of strings, got 'kde'"):
        genbench.run_suite("smoke", store=tmp_path / "r.db", samplers="kde")
    with pytest.raises(genbench.GenbenchError, match="device must be one of auto, cpu, cuda"):
        genbench.run_suite("smoke", store=tmp_path / "r.db", device="tpu")
    assert not (tmp_path / "r.db").exists()


def test_a_process_that_cannot_start_leaves_nothing_behind(tmp_path, monkeypatch):
    from genbench.executors.isolation import IsolatedProcess

    monkeypatch.setenv("GENBENCH_CACHE", str(tmp_path))
    with pytest.raises(Exception) as info:  # a lambda cannot be sent to the forkserver
        IsolatedProcess(lambda: 1, timeout=5).start()
    assert not isinstance(info.value, TypeError), info.value
    assert list((tmp_path / "logs").glob("*.log")) == []


def test_logs_of_a_killed_run_are_removed_by_the_next(tmp_path, monkeypatch):
    from genbench.executors.isolation import run_isolated

    monkeypatch.setenv("GENBENCH_CACHE", str(tmp_path))
    logs = tmp_path / "logs"
    logs.mkdir()
    stale = logs / "999999999-abc.log"  # no such process: its run was killed
    stale.write_text("left behind")
    out = run_isolated(print, ("hello",), timeout=30)
    assert out.state == "returned" and out.log_tail == "hello\n" and out.log_bytes == 6
    assert not stale.exists() and list(logs.glob("*.log")) == []


def test_cuda_workers_keep_jax_cpu_device_for_host_work(monkeypatch):
    monkeypatch.delenv("JAX_PLATFORMS", raising=False)
    platforms = worker_environment("cuda")["JAX_PLATFORMS"].split(",")
    # CUDA first (jax's default device), the CPU kept: the closure datasets integrate on it.
    assert platforms[0] == "cuda" and "cpu" in platforms
    assert worker_environment("cpu")["JAX_PLATFORMS"] == "cpu"
