"""A committed results.csv re-renders the board as its store does: the same rows back, typed, and the
same ranked tables; a file that is not a results.csv is one line of error."""

from __future__ import annotations

from pathlib import Path

import pytest

from genbench.errors import GenbenchError
from genbench.reports.leaderboard import build_board
from genbench.reports.markdown import render_markdown
from genbench.results.csvstore import CsvStore, parse_component_id, parse_value
from genbench.results.export import results_rows

BOARD = Path(__file__).resolve().parents[1] / "leaderboard"
SUITE = "manifolds:reference"


def test_the_committed_csv_gives_back_the_stored_rows():
    from_csv = {r["cell_id"]: r for r in CsvStore(BOARD / "results.csv").rows(SUITE)}
    stored = {r["cell_id"]: r for r in results_rows(BOARD / "store.db.gz", SUITE)}
    assert from_csv.keys() == stored.keys() and len(stored) == 990
    keys = ("dataset", "dataset_params", "sampler", "sampler_params", "rep", "status", "metrics", "fit_s")
    keys += ("sample_s", "peak_mem_mb", "seed", "n_samples", "n_reference")
    for cid, row in stored.items():
        assert {k: from_csv[cid][k] for k in keys} == {k: row[k] for k in keys}, cid
        for config in ("sampler_config", "dataset_config"):  # a parameter at None is an empty cell: left out
            assert from_csv[cid][config] == {k: v for k, v in row[config].items() if v is not None}, cid


def test_the_board_from_the_csv_is_the_board_from_the_store():
    def board(rows):
        return render_markdown(build_board(rows, SUITE, directions=None, primary_metric="sinkhorn"))

    assert board(CsvStore(BOARD / "results.csv").rows(SUITE)) == board(results_rows(BOARD / "store.db.gz", SUITE))


def test_values_and_ids_come_back_typed():
    assert [parse_value(t) for t in ("", "3", "0.05", "True", "scott", "[128, 128]")] == [
        None, 3, 0.05, True, "scott", [128, 128]]  # fmt: skip
    assert parse_component_id("kde[bandwidth=0.05]") == ("kde", {"bandwidth": 0.05})
    assert parse_component_id("ou_sgm[hidden=[64,64],steps=2000]") == ("ou_sgm", {"hidden": [64, 64], "steps": 2000})
    assert parse_component_id("arc") == ("arc", {})


def test_a_file_that_is_not_a_results_csv_is_one_line_of_error(tmp_path):
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(GenbenchError, match=r"not a genbench results\.csv"):
        CsvStore(bad)
    with pytest.raises(GenbenchError, match="cannot read"):
        CsvStore(tmp_path / "missing.csv")


def test_genbench_report_re_renders_from_a_committed_results_csv():
    from .conftest import run_cli

    suite = "paper-bistable"
    proc = run_cli("report", suite, "--store", str(BOARD / suite / "results.csv"), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (BOARD / suite / "REPORT.md").read_text()  # what its store gives
