"""`genbench report`: a suite's [paper] claims against its stored results, with one-line errors."""

from __future__ import annotations

import textwrap

import pytest

import genbench
from genbench.plugins import get_registry
from genbench.reports.paper import NOT_REPRODUCED, NOT_RUN, REPRODUCED, build_report, render_report, report_heading
from genbench.spec.suite import load_suite

from .conftest import run_cli

# A KDE on a 1-D Gaussian mixture: the sliced distance is smallest at the smallest bandwidths
# and grows with it, so the claims below have known verdicts.
SUITE = """
name = "tiny-paper"
seed = 3
repetitions = 2
n_samples = 300
n_reference = 600
timeout = 60
metrics = ["sliced_w1", "memorization"]
[datasets.gauss_pair]
n_train = 300
mu = 3.0
[samplers.kde]
bandwidth = [0.05, 0.2, 1.0, 3.0]
[profiles.quick]
repetitions = 1
[paper]
source = "a synthetic paper"
notes = ["a note on the metric"]
[[paper.claims]]
id = "best-h"
claim = "smallest sliced W1 at h = 0.2"
source = "Table 9"
paper = 0.2
check = "argmin"
metric = "sliced_w1"
sampler = "kde"
over = "bandwidth"
slip = "the paper prints 0.02 once"
[[paper.claims]]
id = "wrong-h"
claim = "smallest sliced W1 at h = 3"
paper = 3.0
check = "argmin"
metric = "sliced_w1"
sampler = "kde"
over = "bandwidth"
cause = "a planted wrong claim"
[[paper.claims]]
id = "w1-broad"
claim = "h = 3 is far from the law"
paper = "about 1.5"
check = "value"
metric = "sliced_w1"
sampler = "kde[bandwidth=3.0]"
bounds = [0.8, 3.0]
[[paper.claims]]
id = "order"
claim = "narrow kernels beat broad ones"
paper = "h = 0.2 < h = 3"
check = "ordering"
metric = "sliced_w1"
order = ["kde[bandwidth=0.2]", {sampler = "kde[bandwidth=3.0]", label = "broad"}]
[[paper.claims]]
id = "full-only"
claim = "checked by the default profile only"
paper = 0.0
check = "value"
metric = "memorization"
sampler = "kde[bandwidth=0.05]"
tolerance = 10.0
profiles = ["quick"]
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    suite = tmp / "tiny.toml"
    suite.write_text(SUITE)
    store = tmp / "r.db"
    proc = run_cli("run", "--suite", str(suite), "--store", str(store), "-j", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    return suite, store


def test_verdicts_follow_the_checks(ran):
    suite, store = ran
    report = build_report(suite, store)
    assert report.profile is None and report.n_ok == report.n_cells == 8
    got = {v.claim.id: v for v in report.verdicts}
    assert got["best-h"].verdict == REPRODUCED  # argmin 0.05, one grid step from 0.2
    assert "per rep: 0.05 ×2" in got["best-h"].measured
    assert got["wrong-h"].verdict == NOT_REPRODUCED
    assert got["w1-broad"].verdict == REPRODUCED and "(2 reps)" in got["w1-broad"].measured
    assert got["order"].verdict == REPRODUCED and "broad" in got["order"].measured
    assert got["full-only"].verdict == NOT_RUN and "quick" in got["full-only"].measured
    assert report.counts() == {REPRODUCED: 3, NOT_REPRODUCED: 1, NOT_RUN: 1}
    assert report_heading(report).endswith("1 not run (1 of them another profile's claims)")


def test_a_profile_not_run_reports_every_claim_not_run(ran):
    suite, store = ran
    report = build_report(suite, store, "quick")
    assert report.stored == "tiny-paper:quick" and report.n_cells == 0
    assert {v.verdict for v in report.verdicts} == {NOT_RUN}


def test_cli_prints_claim_paper_measured_verdict_and_notes(ran):
    suite, store = ran
    proc = run_cli("report", str(suite), "--store", str(store), env={"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for text in ("tiny-paper", "profile (no profile)", "best-h", "Table 9", "not reproduced", "reproduced", "not run"):
        assert text in out
    assert "slip in the paper: the paper prints 0.02 once" in out
    assert "believed cause: a planted wrong claim" in out
    md = run_cli("report", str(suite), "--store", str(store), "--format", "markdown").stdout
    assert md.startswith("## tiny-paper: paper vs measured")
    assert "| claim | source | paper | check | measured | verdict |" in md


def test_leaderboard_html_has_the_report_section(ran, tmp_path):
    suite, store = ran
    report = build_report(suite, store)
    assert "not reproduced" in render_report(report, "markdown")
    from genbench.reports.html import render_html
    from genbench.reports.leaderboard import load_board
    from genbench.reports.paper import report_html

    page = render_html(load_board(store, "tiny-paper"), paper=report_html(report))
    assert '<h2 id="paper">Paper vs measured</h2>' in page and 'href="#paper"' in page
    assert page.count('<tr class="bad">') == 1


def _suite_with(tmp_path, claim: str) -> str:
    text = SUITE.split("[[paper.claims]]")[0] + "[[paper.claims]]\n" + textwrap.dedent(claim)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return str(path)


BASE = 'id = "c"\nclaim = "x"\npaper = 0.2\n'


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        (BASE + 'check = "argmax"\nmetric = "sliced_w1"\n', "check must be one of argmin, value, ordering"),
        (BASE + 'check = "value"\nmetric = "sliced_w3"\ntolerance = 1\n', "did you mean 'sliced_w1'"),
        (BASE + 'check = "value"\nmetric = "sliced_w1"\n', "exactly one of tolerance"),
        (BASE + 'check = "value"\nmetric = "sliced_w1"\nbounds = [2, 1]\n', "bounds must be [low, high]"),
        (BASE + 'check = "argmin"\nmetric = "sliced_w1"\nsampler = "kde"\nover = "eps"\n', "'eps' is not a parameter"),
        (BASE + 'check = "argmin"\nmetric = "sliced_w1"\nsampler = "bridge"\nover = "eps"\n', "not a sampler of the"),
        (BASE + 'check = "value"\nmetric = "sliced_w1"\nsampler = "kde[bw=1]"\ntolerance = 1\n', "unknown parameter"),
        (BASE + 'check = "ordering"\nmetric = "sliced_w1"\norder = ["kde"]\n', "at least two groups"),
        (BASE + 'check = "value"\nmetric = "sliced_w1"\ntolerance = 1\nprofiles = ["paper"]\n', "unknown profile"),
        (BASE + 'check = "value"\nmetric = "sliced_w1"\ntolerance = 1\nslack = 2\n', "unknown key 'slack'"),
        ('claim = "x"\npaper = 1\ncheck = "value"\n', "needs 'id'"),
    ],
)
def test_bad_claims_are_one_line_errors(tmp_path, claim, message):
    path = _suite_with(tmp_path, claim)
    with pytest.raises(genbench.GenbenchError, match="paper") as exc:
        load_suite(path, get_registry())
    assert message in str(exc.value) and "\n" not in str(exc.value)
    proc = run_cli("report", path, "--store", str(tmp_path / "none.db"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr


def test_report_errors_name_what_is_missing(ran, tmp_path):
    suite, store = ran
    proc = run_cli("report", "smoke", "--store", str(store))
    assert proc.returncode == 2 and "has no [paper] table" in proc.stderr
    proc = run_cli("report", str(suite), "--store", str(store), "--profile", "quik")
    assert proc.returncode == 2 and "did you mean 'quick'" in proc.stderr
    proc = run_cli("report", str(suite), "--store", str(tmp_path / "missing.db"))
    assert proc.returncode == 2 and "no results store" in proc.stderr


PAPER_SUITES = [
    "paper-bistable",
    "paper-sb-table1",
    "paper-localized",
    "paper-sb-arc",
    "paper-sb-beta",
    "paper-generalisation",
    "paper-ndsm",
    "paper-sgm",
]


@pytest.mark.parametrize("name", PAPER_SUITES)
def test_shipped_paper_suites_have_quick_and_paper_profiles_and_claims(name):
    reg = get_registry()
    base = load_suite(name, reg)
    assert base.paper is not None and base.paper.claims and base.paper.source
    for profile in ("quick", "paper"):
        suite = load_suite(name, reg, profile)
        assert suite.name == f"{name}:{profile}" and suite.paper == base.paper
    for claim in base.paper.claims:  # a claim that can fail says why when it does, or its check is obvious
        assert claim.claim and claim.source and claim.criterion()
