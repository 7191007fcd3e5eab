"""One result model: stored columns, exports and their documentation come from one definition."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from genbench.errors import GenbenchError
from genbench.results.schema import AGGREGATE_FIELDS, FLAT_PREFIXES, ROW_FIELDS, describe_flat_column
from genbench.results.store import Store

from .conftest import FAILING_PLUGINS, JITTER_PKG, results_json, run_cli

# The documentation page of the columns (docs/results.md): every stored and exported column is described there.
RESULTS_DOC = (Path(__file__).parent.parent / "docs" / "results.md").read_text()


@pytest.fixture(scope="module")
def ula_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("ula") / "r.db"
    proc = run_cli("run", "--suite", "smoke", "--sampler", "ula", "--dataset", "gmm", "--store", str(store), "-q")
    assert proc.returncode == 0, proc.stderr
    return store


def test_export_has_the_config_with_defaults_and_the_run_context(ula_store):
    (row, *_) = results_json(ula_store)
    assert row["sampler_params"] == {} and row["suite"] == "smoke+adhoc"  # ula is not in smoke
    assert {"step", "steps", "chains", "score", "bandwidth"} <= set(row["sampler_config"])
    assert row["dataset_config"]["n_train"] == 500 and row["n_samples"] == 500 and row["n_reference"] == 2000
    assert row["device"] == "cpu" and row["versions"]["numpy"]
    text = run_cli("results", "--store", str(ula_store), "--format", "csv").stdout
    header = next(csv.reader(io.StringIO(text)))
    assert {"p_step", "p_steps", "d_n_train", "n_samples", "n_reference", "device", "m_sliced_w2", "v_numpy"} <= set(
        header
    )


def test_every_export_column_is_documented(ula_store):
    text = run_cli("results", "--store", str(ula_store), "--format", "csv").stdout
    header = next(csv.reader(io.StringIO(text)))
    undocumented = [c for c in header if not describe_flat_column(c)]
    assert not undocumented, undocumented
    for name in ROW_FIELDS:  # and the docs' table lists every column and prefix
        assert f"`{name}`" in RESULTS_DOC, f"docs/results.md does not document the column {name}"
    for prefix in FLAT_PREFIXES.values():
        assert f"`{prefix}<" in RESULTS_DOC, f"docs/results.md does not document the prefix {prefix}"


def test_every_leaderboard_column_is_documented(ula_store):
    text = run_cli("leaderboard", "--store", str(ula_store), "--format", "csv").stdout
    header = next(csv.reader(io.StringIO(text)))
    assert {"dataset_id", "sampler_id", "n_cells", "n_ok", "m_sliced_w2_mean", "m_sliced_w2_std"} <= set(header)
    assert [c for c in header if not describe_flat_column(c)] == []
    for name in AGGREGATE_FIELDS:
        assert f"`{name}`" in RESULTS_DOC, f"docs/results.md does not document the leaderboard column {name}"


def test_store_columns_are_the_row_model(tmp_path):
    with Store(tmp_path / "r.db") as db:
        cols = [r["name"] for r in db.conn.execute("PRAGMA table_info(results)")]
    assert [c for c in cols if c not in ("id", "config_hash", "current")] == list(ROW_FIELDS)


def test_a_store_from_before_the_model_gains_the_new_columns(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE results (id INTEGER PRIMARY KEY, suite TEXT, cell_id TEXT, current INTEGER)")
        conn.execute("INSERT INTO results VALUES (1, 'smoke', 'a/b/rep=0', 1)")
    with Store(path) as db:
        cols = {r["name"] for r in db.conn.execute("PRAGMA table_info(results)")}
        assert {"device", "log_tail", "dataset_config"} <= cols
        assert db.suites() == ["smoke"]


def test_a_store_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(GenbenchError, match=r"cannot create directory .*--store or GENBENCH_STORE"):
        Store(blocker / "sub" / "r.db")
    proc = run_cli("run", "--suite", "smoke", "--store", str(blocker / "r.db"), "--dataset", "gmm", "-q")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "GENBENCH_STORE" in proc.stderr and "Traceback" not in proc.stderr


def test_dry_run_lists_cells_and_writes_nothing(tmp_path):
    store = tmp_path / "r.db"
    proc = run_cli("run", "--suite", "smoke", "--dataset", "gmm", "--store", str(store), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 6 and all(line.startswith("run   gmm[n_train=500]/kde[") for line in lines)
    assert "6 to run, 0 already done, 0 skipped" in proc.stderr and not store.exists()
    assert run_cli("run", "--suite", "smoke", "--dataset", "gmm", "--sampler", "kde[bandwidth=0.1]",
                   "--store", str(store), "-q").returncode == 0  # fmt: skip
    before = store.read_bytes()
    again = run_cli("run", "--suite", "smoke", "--dataset", "gmm", "--store", str(store), "--dry-run")
    assert store.read_bytes() == before  # read only: no schema, no migration, no write
    assert "4 to run, 2 already done" in again.stderr
    assert "done  gmm[n_train=500]/kde[bandwidth=0.1]/rep=0" in again.stdout


def test_trial_runs_are_stored_apart_from_the_shipped_suite(tmp_path):
    store = tmp_path / "r.db"
    args = ["run", "--suite", "smoke", "--dataset", "gmm", "--store", str(store)]
    narrowed = run_cli(*args, "--sampler", "kde[bandwidth=0.1]")
    assert "the selectors leave out 16 cells of suite smoke" in narrowed.stderr
    fewer = run_cli(*args, "--sampler", "kde[bandwidth=0.05]", "--repetitions", "1")
    assert "stored as suite smoke+adhoc" in fewer.stderr and "--repetitions 1 (the suite has 2)" in fewer.stderr
    suites = {r["cell_id"]: r["suite"] for r in results_json(store)}
    assert suites == {
        "gmm[n_train=500]/kde[bandwidth=0.1]/rep=0": "smoke",
        "gmm[n_train=500]/kde[bandwidth=0.1]/rep=1": "smoke",
        "gmm[n_train=500]/kde[bandwidth=0.05]/rep=0": "smoke+adhoc",
    }


def test_a_sampler_whose_package_is_missing_is_listed_and_skipped(tmp_path, write_suite):
    listing = run_cli("list", "samplers", "--plugin-dir", str(FAILING_PLUGINS))
    lines = listing.stdout.splitlines()
    start = lines.index("needs_missing_package")
    block = [lines[start]]
    for x in lines[start + 1 :]:  # its indented lines, wrapped between words
        if not x.startswith(" "):
            break
        block.append(x.strip())
    line = " ".join(block)
    assert "unavailable: needs_missing_package needs genbench_no_such_package" in line
    assert "pip install 'genbench[neural]'" in line
    suite = write_suite(
        """
        name = "extras"
        n_samples = 20
        n_reference = 50
        metrics = ["sliced_w2"]
        [datasets.blob]
        [samplers.needs_missing_package]
        [samplers.good]
        """
    )
    args = ["run", "--suite", str(suite), "--store", str(tmp_path / "r.db"), "-q", "--fail-on-error"]
    proc = run_cli(*args, "--plugin-dir", str(FAILING_PLUGINS))
    assert proc.returncode == 0, proc.stderr
    rows = {r["sampler"]: r for r in results_json(tmp_path / "r.db")}
    assert rows["good"]["status"] == "ok"
    assert rows["needs_missing_package"]["status"] == "skipped"
    assert "genbench_no_such_package, which is not installed" in rows["needs_missing_package"]["message"]
    checks = run_cli("test", "needs_missing_package", "--plugin-dir", str(FAILING_PLUGINS))
    assert checks.returncode == 0 and "SKIP needs_missing_package: needs_missing_package needs" in checks.stdout


def test_a_skipped_cell_runs_once_its_package_is_installed(tmp_path, write_suite):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "needs_pkg.py").write_text(
        (JITTER_PKG / "genbench_jitter.py")
        .read_text()
        .replace('name = "jitter"', 'name = "needs_pkg"\n    requires_packages = ("genbench_late_pkg",)')
    )
    suite = write_suite(
        """
        name = "late"
        n_samples = 20
        n_reference = 50
        metrics = ["sliced_w2"]
        [datasets.gmm]
        [samplers.needs_pkg]
        """
    )
    args = ["run", "--suite", str(suite), "--store", str(tmp_path / "r.db"), "-q", "--plugin-dir", str(plugins)]
    assert run_cli(*args).returncode == 0
    assert [r["status"] for r in results_json(tmp_path / "r.db")] == ["skipped"]
    site = tmp_path / "site"
    site.mkdir()
    (site / "genbench_late_pkg.py").write_text("")  # installed since
    again = run_cli(*args, env={"PYTHONPATH": str(site)})
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in results_json(tmp_path / "r.db")] == ["ok"]
