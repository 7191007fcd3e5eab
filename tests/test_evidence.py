"""The committed evidence cannot go stale: every paper report committed with its store under
``leaderboard/`` is exactly what the current code and suite TOML render from that store. A change to
a claim, a control, a verdict rule or the renderer fails here and names the command that re-renders."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from genbench.reports.paper import build_report, render_report

BOARD = Path(__file__).resolve().parents[1] / "leaderboard"
REPORTS = sorted(p.parent.name for p in BOARD.glob("paper-*/REPORT.md") if (p.parent / "store.db.gz").exists())


def _rerender(suite: str) -> str:
    return render_report(build_report(suite, BOARD / suite / "store.db.gz"), "markdown")


def test_there_is_evidence_to_check():
    assert len(REPORTS) >= 5, REPORTS


@pytest.mark.parametrize("suite", REPORTS)
def test_a_committed_report_is_what_its_store_renders_today(suite):
    committed = (BOARD / suite / "REPORT.md").read_text()
    store, out = f"leaderboard/{suite}/store.db.gz", f"leaderboard/{suite}/REPORT.md"
    again = f"genbench report {suite} --store {store} --format markdown > {out}"
    assert _rerender(suite) == committed, f"leaderboard/{suite}/REPORT.md is stale: re-render it with `{again}`"


def test_a_changed_claim_makes_the_report_stale(monkeypatch):
    """Planted: the same store judged with one claim's bounds moved gives another report."""
    import genbench.reports.paper as paper

    suite = "paper-bistable"
    committed = (BOARD / suite / "REPORT.md").read_text()
    original = paper.evaluate

    def moved(table, rows, profile, registry=None):
        claims = [dataclasses.replace(c, bounds=(0.0, 1.0)) if c.bounds else c for c in table.claims]
        return original(dataclasses.replace(table, claims=claims), rows, profile, registry)

    monkeypatch.setattr(paper, "evaluate", moved)
    assert _rerender(suite) != committed
