"""The paper suites' quick profiles, end to end (``pytest -m slow``).

Each test runs one suite's ``quick`` profile into a fresh store (minutes on 2 cores; see
docs/papers.md) and checks properties of ``genbench report`` that hold whatever the
science turns out to be — not today's verdicts copied in (those are in docs/papers.md and the committed
reports, and change when a sampler improves):

- every cell finishes;
- every claim the quick profile checks is judged (a verdict other than ``not run``) with the
  verdict vocabulary, and its negative control was measured;
- a claim whose control meets it is never ``reproduced``; a ``calibrates`` claim never either;
- the report is a pure function of the store: judged twice, the same table.

The engine's verdicts themselves (a known-true claim passes, a known-false one fails, a control that
meets a claim makes it ``uninformative``, a tie, an argmin on the grid's edge) are asserted on a
planted toy suite in ``tests/test_report.py`` (fast, part of the default run).
"""

from __future__ import annotations

import pytest

from genbench.reports.paper import NOT_RUN, REPRODUCED, VERDICTS, build_report

from ..conftest import run_cli

pytestmark = pytest.mark.slow

SUITES = [
    "paper-bistable",
    "paper-closure",
    "paper-dmps",
    "paper-generalisation",
    "paper-l96",
    "paper-localized",
    "paper-ndsm",
    "paper-sb-arc",
    "paper-sb-beta",
    "paper-sb-table1",
    "paper-sgm",
    "paper-sgm-beta",
]


@pytest.mark.parametrize("suite", SUITES)
def test_quick_profile_judges_every_claim_against_its_control(suite, tmp_path):
    store = tmp_path / "paper.db"
    proc = run_cli("run", "--suite", suite, "--profile", "quick", "-j", "2", "-q", "--store", str(store), timeout=1800)
    assert proc.returncode == 0, proc.stderr
    report = build_report(suite, store, "quick")
    assert report.n_ok == report.n_cells > 0
    detail = "\n".join(f"{v.claim.id}: {v.verdict} | {v.measured} | {v.control}" for v in report.verdicts)
    for v in report.verdicts:
        assert v.verdict in VERDICTS, detail
        if not v.claim.checked_by("quick"):
            assert v.verdict == NOT_RUN, detail
            continue
        assert v.verdict != NOT_RUN, detail
        if v.claim.control is not None:
            assert v.control and not v.control.endswith("not run"), detail
            if v.control.endswith("meets the claim"):
                assert v.verdict != REPRODUCED, detail
        if v.claim.calibrates:
            assert v.verdict != REPRODUCED, detail
    again = build_report(suite, store, "quick")
    assert [(v.verdict, v.measured, v.control) for v in again.verdicts] == [
        (v.verdict, v.measured, v.control) for v in report.verdicts
    ]
