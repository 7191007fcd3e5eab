"""asv benchmarks of the samplers: the cells are the suite's own, the track_* values are the stored
numbers, and the recipe in docs/asv.md records commits offline (slow: ``pytest -m slow``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import results_json, run_cli

ROOT = Path(__file__).parent.parent
SUITE = ROOT / "benchmarks" / "asv_cells.toml"


@pytest.fixture(scope="module")
def bench():
    """The benchmark module, imported as asv does; its process-wide settings (one thread for
    BLAS, OpenMP and torch) are undone afterwards so that later tests run as before."""
    omp = os.environ.get("OMP_NUM_THREADS")
    torch_threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_cells
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    yield bench_cells
    for limits in bench_cells._LIMITS:
        limits.restore_original_limits()
    if omp is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = omp
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(torch_threads or os.cpu_count() or 1)


def test_every_registered_available_sampler_is_benchmarked(bench):
    from genbench.plugins import get_registry, unavailable_reason

    reg = get_registry()
    available = {n for n in reg.names("sampler") if unavailable_reason(reg.get("sampler", n)) is None}
    assert set(bench.SAMPLERS) == available
    assert len(bench.DATASETS) >= 2 and set(bench.CELLS) == {(s, d) for s in bench.SAMPLERS for d in bench.DATASETS}
    for name in ("time_fit", "peakmem_fit", *(f"track_{m}" for m in bench.METRICS)):
        assert callable(getattr(bench.Cells, name)), name
    assert callable(bench.Sampling.time_sample) and bench.Cells.timeout <= 300
    assert "lower is better" in bench.Cells.track_sliced_w2.unit


def test_track_values_equal_what_genbench_run_stores(bench, tmp_path):
    keys = [("kde", "arc"), ("bridge", "circle")]
    results = bench.run_cells(keys)
    store = tmp_path / "r.db"
    args = ["run", "--suite", str(SUITE), "--store", str(store), "-q", "--sampler", "kde", "--sampler", "bridge"]
    proc = run_cli(*args, "--dataset", "arc", "--dataset", "circle", "--repetitions", "1")
    assert proc.returncode == 0, proc.stderr
    stored = {(r["sampler"], r["dataset"]): r for r in results_json(store) if r["rep"] == 0}
    cells = bench.Cells()
    for s, d in keys:
        assert stored[(s, d)]["cell_id"] == bench.CELLS[(s, d)].cell_id
        for m in bench.METRICS:
            tracked = getattr(cells, f"track_{m}")(results, s, d)
            # same cell, same seeds; only BLAS's summation order may differ (asv runs single-threaded)
            assert tracked == pytest.approx(stored[(s, d)]["metrics"][m], rel=1e-9, abs=1e-12), (s, d, m)


def test_every_repetition_is_recorded_for_genbench_compare(bench, tmp_path):
    """asv tracks repetition 0; the per-commit results.csv keeps all three, and ``genbench compare``
    judges two commits from them: the same values tie, a planted worsening beyond the noise is worse."""
    from genbench.reports.compare import TIED, WORSE, run_compare

    results = bench.run_cells([("kde", "arc")], reps=(0, 1, 2))
    path = bench.record_repetitions(results, tmp_path / "a")
    rows = path.read_text().splitlines()
    assert rows[0].startswith("cell_id,suite,status,rep,m_sliced_w2") and len(rows) == 4
    assert path.name == f"{bench.commit()}.csv"
    worse = {
        k: {**r, "metrics": {**r["metrics"], "sliced_w2": r["metrics"]["sliced_w2"] * 3}} for k, r in results.items()
    }
    later = bench.record_repetitions(worse, tmp_path / "b")
    same = run_compare(str(path), str(path), metrics=("sliced_w2",))
    assert [ln.verdict for ln in same.lines] == [TIED]
    judged = run_compare(str(path), str(later), metrics=("sliced_w2",))
    assert [ln.verdict for ln in judged.lines] == [WORSE] and judged.lines[0].n == 3


@pytest.mark.slow
def test_history_records_three_commits_offline_and_publishes(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    proc = subprocess.run(
        [sys.executable, "benchmarks/history.py", "3", "--bench", "bench_cells.Cells.track"],
        cwd=clone, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = [p for p in (clone / ".asv" / "results").glob("*/*.json") if p.name != "machine.json"]
    assert len({json.loads(p.read_text())["commit_hash"] for p in files}) == 3
    pub = subprocess.run([sys.executable, "-m", "asv", "publish"], cwd=clone, capture_output=True, text=True)
    assert pub.returncode == 0, pub.stderr
    assert (clone / ".asv" / "html" / "index.html").exists()
