"""Paper vs measured: each claim of a suite's ``[paper]`` table (:mod:`genbench.spec.claims`) checked
against the stored results of one profile — ``genbench report SUITE``. Every test and interval
comes from :mod:`genbench.stats`.

Verdicts:

* ``reproduced`` — the measurement meets the claim, and its negative control (if named) does not:
  an ordering whose every step is separated the claimed way by a paired t-test over the shared
  repetitions (two-sided 5 %); a value whose 95 % t-interval of the mean lies inside the claim's
  bounds; an argmin within the claim's tolerance in ≥ 90 % of paired bootstrap draws of the
  repetitions (and not on the grid's edge);
* ``not reproduced`` — the measurement contradicts it: a step separated the other way, an interval
  wholly outside the bounds, an argmin within tolerance in ≤ 10 % of the draws;
* ``not reproduced (tie)`` — an ordering with a step the test cannot separate, whichever way its
  means go;
* ``undetermined`` — a value whose interval straddles a bound, an argmin within tolerance in
  between 10 % and 90 % of the draws;
* ``too few repetitions`` — fewer than the check needs (2 for orderings and values, 3 for an
  argmin): no verdict is drawn from one run;
* ``not located`` — an argmin claim whose measured argmin lies on an edge of the swept grid: no
  minimum was found, whatever the paper's value;
* ``calibrated`` — met, but the claim's value was used to set a free parameter (``calibrates``);
* ``uninformative`` — met, and the negative control meets it too: the check cannot tell;
* ``not run`` — no finished cell the claim needs, or a claim the profile does not check.

Each claim is one test at 5 %, not corrected for the other claims of a report. Measured values are
the mean ± std over the selected cells (repetitions); an argmin claim also gives the argmin of
each repetition. The ``control`` column shows the control's measurement and whether it meets the
claim. A claim that does not reproduce shows the cause its suite states; a known slip of the paper
is shown beside it.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import stats
from ..errors import GenbenchError
from ..params import format_value
from ..spec.claims import Claim, PaperTable

REPRODUCED, NOT_REPRODUCED, NOT_RUN = "reproduced", "not reproduced", "not run"
TIE, NOT_LOCATED = "not reproduced (tie)", "not located"
CALIBRATED, UNINFORMATIVE = "calibrated", "uninformative"
UNDETERMINED, TOO_FEW = "undetermined", "too few repetitions"
#: Every verdict, in the order the report counts them.
VERDICTS = (
    REPRODUCED,
    CALIBRATED,
    UNINFORMATIVE,
    NOT_REPRODUCED,
    TIE,
    UNDETERMINED,
    NOT_LOCATED,
    TOO_FEW,
    NOT_RUN,
)


@dataclass
class Verdict:
    """One claim's outcome: the verdict, the measured value in words, and what it rests on."""

    claim: Claim
    verdict: str
    measured: str
    value: float | None = None
    n: int = 0
    #: the negative control's measurement and whether it meets the claim ("" without a control)
    control: str = ""
    #: what ran: ``paper`` (the sampler's settings are the paper's method), ``variant: …`` (the
    #: parameters that differ from it), or "" (a sampler that declares no paper method)
    method: str = ""


@dataclass
class Report:
    """Every claim of a suite checked against one stored profile."""

    suite: str
    profile: str | None
    stored: str  # the suite name the rows are stored under (``name:profile``)
    paper: PaperTable
    verdicts: list[Verdict] = field(default_factory=list)
    n_cells: int = 0
    n_ok: int = 0

    def counts(self) -> dict[str, int]:
        c = Counter(v.verdict for v in self.verdicts)
        return {k: c.get(k, 0) for k in VERDICTS if c.get(k) or k in (REPRODUCED, NOT_REPRODUCED, NOT_RUN)}


def _fmt(x: float) -> str:
    from .terminal import sig

    return sig(x)


def _percent(claim: Claim) -> str:
    """The unit the paper states the claim in, for the measured values too: ``" %"`` ("0.9 %"),
    ``" pp"`` (percentage points, "0.3 pp"), or "" (a plain number)."""
    text = claim.paper.strip() if isinstance(claim.paper, str) else ""
    return " %" if text.endswith("%") else " pp" if text.endswith(" pp") else ""


def _mean_std(values: list[float], unit: str = "") -> str:
    """``0.0520 ± 0.0091 (3 reps)``: the mean rounded to its spread (one value: 3 significant figures),
    in the paper's unit (× 100 for % and percentage points)."""
    from . import numbers

    k = 100.0 if unit else 1.0
    if len(values) == 1:
        return f"{numbers.mean_sd(k * values[0], None)}{unit} (1 rep)"
    mean, std = k * float(np.mean(values)), k * float(np.std(values, ddof=1))
    return f"{numbers.mean_sd(mean, std)}{unit} ({len(values)} reps)"


def _matches(sel, name: str, config: dict[str, Any]) -> bool:
    return sel is None or sel.matches(name, config)


def _select(rows: list[dict[str, Any]], dataset, sampler) -> list[dict[str, Any]]:
    return [
        r
        for r in rows
        if _matches(dataset, r["dataset"], r["dataset_config"]) and _matches(sampler, r["sampler"], r["sampler_config"])
    ]


def _values(rows: list[dict[str, Any]], metric: str) -> list[tuple[dict[str, Any], float]]:
    out = []
    for r in rows:
        v = (r.get("metrics") or {}).get(metric)
        if r["status"] == "ok" and v is not None and np.isfinite(v):
            out.append((r, float(v)))
    return out


def _configs(rows: list[dict[str, Any]]) -> set[str]:
    return {r["cell_id"].rsplit("/rep=", 1)[0] for r in rows}


def _not_run(claim: Claim, why: str) -> Verdict:
    """A claim left unjudged; its control, if it names one, is shown as not run either."""
    control = f"{claim.control.label} (not run)" if claim.control is not None else ""
    return Verdict(claim, NOT_RUN, why, control=control)


def _argmin(claim: Claim, rows: list[dict[str, Any]]) -> Verdict:
    vals = _values(_select(rows, claim.dataset, claim.sampler), claim.metric)
    if not vals:
        return _not_run(claim, "no finished cell")
    by_value: dict[float, list[float]] = {}
    by_rep: dict[int, dict[float, float]] = {}
    for r, v in vals:
        x = float(r["sampler_config"][claim.over])
        by_value.setdefault(x, []).append(v)
        by_rep.setdefault(r["rep"], {})[x] = v
    if len(_configs([r for r, _ in vals])) != len(by_value):
        return _not_run(claim, f"the selection varies more than {claim.over}: narrow its dataset/sampler selectors")
    grid = sorted(by_value)
    means = [float(np.mean(by_value[x])) for x in grid]
    best = int(np.argmin(means))
    paper = float(claim.paper)
    pos = float(np.searchsorted(grid, paper))  # between two grid points: half a step from each
    exact = [i for i, x in enumerate(grid) if format_value(x) == format_value(paper)]
    pos = float(exact[0]) if exact else pos - 0.5

    def within(x: float) -> bool:
        return abs(grid.index(x) - pos) <= claim.steps

    edge = len(grid) >= 2 and best in (0, len(grid) - 1)
    complete = {r: d for r, d in by_rep.items() if len(d) == len(grid)}
    per_rep = Counter(format_value(min(d.items(), key=lambda kv: kv[1])[0]) for d in complete.values())
    spread = ", ".join(f"{k} ×{n}" for k, n in sorted(per_rep.items(), key=lambda kv: (-kv[1], float(kv[0]))))
    text = f"{format_value(grid[best])} (mean {claim.metric} {_fmt(means[best])}"
    text += f"; per rep: {spread})" if spread else ")"
    text += f" on {format_value(grid[0])}…{format_value(grid[-1])} ({len(grid)} values)"
    if edge:
        return Verdict(claim, NOT_LOCATED, text + "; on the grid's edge", grid[best], len(vals))
    if len(complete) < stats.MIN_REPS_ARGMIN:
        few = stats.too_few(len(complete), stats.MIN_REPS_ARGMIN)
        return Verdict(claim, TOO_FEW, f"{text}; {few}", None, len(vals))
    share = stats.argmin_share(complete, within)
    text += f"; within tolerance in {share:.0%} of {stats.N_BOOT} paired bootstrap draws"
    if share >= stats.ARGMIN_ROBUST:
        verdict = REPRODUCED
    elif share <= 1 - stats.ARGMIN_ROBUST:
        verdict = NOT_REPRODUCED
    else:
        verdict = UNDETERMINED
    return Verdict(claim, verdict, text, grid[best], len(vals))


def _value(claim: Claim, rows: list[dict[str, Any]]) -> Verdict:
    vals = _values(_select(rows, claim.dataset, claim.sampler), claim.metric)
    if not vals:
        return _not_run(claim, "no finished cell")
    configs = _configs([r for r, _ in vals])
    if len(configs) > 1:
        return _not_run(claim, f"the selection matches {len(configs)} configurations: narrow its selectors")
    xs = [v for _, v in vals]
    mean = float(np.mean(xs))
    expected = math.nan if claim.expected is None else claim.expected  # a value claim always has one
    if claim.bounds is not None:
        lo, hi = claim.bounds
    elif claim.tolerance is not None:
        lo, hi = expected - claim.tolerance, expected + claim.tolerance
    else:
        tol = (claim.rel_tolerance or 0.0) * abs(expected)
        lo, hi = expected - tol, expected + tol
    where, iv = stats.interval_verdict(xs, lo, hi)
    unit = _percent(claim)
    text = _mean_std(xs, unit)
    if iv is None:
        return Verdict(claim, TOO_FEW, text + f"; {stats.too_few(len(xs))}", mean, len(xs))
    k = 100.0 if unit else 1.0
    text += f"; 95 % interval of the mean {_fmt(k * iv[1])}–{_fmt(k * iv[2])}{unit}"
    verdict = {"inside": REPRODUCED, "outside": NOT_REPRODUCED}.get(where, UNDETERMINED)
    return Verdict(claim, verdict, text, mean, len(xs))


def _ordering(claim: Claim, rows: list[dict[str, Any]]) -> Verdict:
    parts, n, by_rep = [], 0, []
    for g in claim.order:
        vals = _values(_select(rows, g.dataset, g.sampler), claim.metric)
        if not vals:
            return _not_run(claim, f"no finished cell for {g.label}")
        configs = _configs([r for r, _ in vals])
        if len(configs) > 1:
            return _not_run(claim, f"{g.label} matches {len(configs)} configurations: narrow its selectors")
        xs = [v for _, v in vals]
        parts.append(f"{g.label} {_mean_std(xs, _percent(claim))}")
        by_rep.append({int(r["rep"]): v for r, v in vals})
        n += len(xs)
    text = "; ".join(parts)
    increasing = claim.direction == "increasing"
    steps = [stats.step(a, b, increasing) for a, b in itertools.pairwise(by_rep)]
    outcomes = [o for o, _ in steps]
    if stats.FEW in outcomes:
        shared = min(c.n for _, c in steps)
        return Verdict(claim, TOO_FEW, text + f"; {stats.too_few(shared)} shared by neighbours", None, n)
    weakest = max(c.p for _, c in steps)
    text += f"; paired t-test, weakest step p = {weakest:.2g} (n = {min(c.n for _, c in steps)})"
    if stats.REVERSED in outcomes:
        return Verdict(claim, NOT_REPRODUCED, text + "; a step is separated the other way", None, n)
    if stats.TIE in outcomes:
        return Verdict(claim, TIE, text, None, n)
    return Verdict(claim, REPRODUCED, text, None, n)


def _with_control(claim: Claim, verdict: Verdict, run) -> Verdict:
    """Run the negative control (the same check on the control's selection) and settle the verdict:
    a met claim whose control meets it too is uninformative; a met calibration is calibrated."""
    met = verdict.verdict == REPRODUCED
    control = claim.control_claim()
    if control is not None:
        cv = run(control)
        meets = cv.verdict == REPRODUCED
        state = {NOT_RUN: "not run", UNDETERMINED: "undetermined", TOO_FEW: TOO_FEW}.get(
            cv.verdict, "meets the claim" if meets else "fails the claim"
        )
        label = claim.control.label if claim.control is not None else "the control"
        measured = cv.measured if claim.check == "ordering" else f"{label}: {cv.measured}"
        verdict.control = f"{measured} — {state}"  # an ordering's measurement names its groups already
        if met and meets:
            verdict.verdict = UNINFORMATIVE
            return verdict
    if met and claim.calibrates:
        verdict.verdict = CALIBRATED
    return verdict


def evaluate(paper: PaperTable, rows: list[dict[str, Any]], profile: str | None, registry: Any = None) -> list[Verdict]:
    """The verdict of every claim on ``rows`` (one profile's stored rows); with ``registry``, the
    method each claim's sampler ran (:func:`method_label`)."""
    out = []
    for claim in paper.claims:
        if not claim.checked_by(profile):
            shown = "default" if profile is None else profile
            out.append(_not_run(claim, f"checked by the {', '.join(claim.profiles or ())} profile, not {shown}"))
            continue
        check = {"argmin": _argmin, "value": _value, "ordering": _ordering}[claim.check]
        verdict = _with_control(claim, check(claim, rows), lambda c, check=check: check(c, rows))
        if registry is not None:
            verdict.method = method_label(_claim_rows(claim, rows), registry)
        out.append(verdict)
    return out


def _claim_rows(claim: Claim, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows a claim's own selection (not its control's) reads."""
    if claim.check == "ordering":
        return [r for g in claim.order for r in _select(rows, g.dataset, g.sampler)]
    return _select(rows, claim.dataset, claim.sampler)


def method_label(rows: list[dict[str, Any]], registry: Any) -> str:
    """What the rows' samplers ran, against the method their paper prints (a sampler class's
    ``paper_method``: the parameter values that make it that method): ``paper`` when every
    configuration has them, else ``variant: name k=v, …`` naming the parameters that differ; ""
    when no sampler of the rows declares a paper method."""
    from ..params import canonical

    labels: dict[str, None] = {}
    for r in rows:
        try:
            cls = registry.get("sampler", r["sampler"])
        except GenbenchError:
            continue
        wanted = getattr(cls, "paper_method", None)
        if wanted is None:
            continue
        config = r.get("sampler_config") or {}
        differ = [
            f"{k}={format_value(config.get(k))}" for k, v in wanted.items() if canonical(config.get(k)) != canonical(v)
        ]
        labels[f"variant: {r['sampler']} " + ", ".join(differ) if differ else "paper"] = None
    return "; ".join(labels)


def _latest_profile(name: str, stored: dict[str, str]) -> str | None:
    """The profile of ``name`` (``None``: no profile) whose rows finished last."""
    mine = {s: t for s, t in stored.items() if "+" not in s and (s == name or s.startswith(name + ":"))}
    if not mine:
        known = ", ".join(sorted(stored)) or "none"
        raise GenbenchError(
            f"no results for suite {name!r} (suites stored: {known}); run `genbench run --suite {name}`"
        )
    latest = max(mine, key=lambda s: mine[s])
    return latest.partition(":")[2] or None


def build_report(
    suite: str | Path, store: str | Path | None = None, profile: str | None = None, plugin_dirs=()
) -> Report:
    """Check ``suite``'s ``[paper]`` claims against the rows of ``profile`` in ``store`` (default
    profile: the one whose cells finished last). :class:`GenbenchError` on bad input."""
    from ..plugins import get_registry
    from ..results.export import open_store
    from ..spec.suite import load_suite

    registry = get_registry(plugin_dirs)
    base = load_suite(suite, registry)
    if base.paper is None:
        raise GenbenchError(f"suite {base.name!r} has no [paper] table: nothing to report")
    with open_store(store) as db:
        stored = {s: max((r.get("finished_at") or "" for r in db.rows(s)), default="") for s in db.suites()}
        if profile is None:
            profile = _latest_profile(base.name, stored)
        chosen = load_suite(suite, registry, profile)  # checks that the profile exists
        rows = db.rows(chosen.name) if chosen.name in stored else []
    report = Report(base.name, profile, chosen.name, chosen.paper or base.paper, n_cells=len(rows))
    report.n_ok = sum(r["status"] == "ok" for r in rows)
    report.verdicts = evaluate(report.paper, rows, profile, registry)
    return report


# ------------------------------------------------------------------------------ rendering

HEADERS = ["claim", "source", "paper", "check", "method", "measured", "control", "verdict"]


def report_rows(report: Report) -> list[list[str]]:
    """One list of cells per claim, in :data:`HEADERS` order."""
    return [
        [
            f"{v.claim.id}: {v.claim.claim}",
            v.claim.source,
            format_value(v.claim.paper),
            f"{v.claim.metric}: {v.claim.criterion(_percent(v.claim))}",
            v.method or "—",
            v.measured,
            v.control or "— (none named)",
            v.verdict + (f" ({v.claim.calibrates} set from it)" if v.verdict == CALIBRATED else ""),
        ]
        for v in report.verdicts
    ]


def report_heading(report: Report) -> str:
    profile = report.profile or "(no profile)"
    counts = ", ".join(f"{n} {k}" for k, n in report.counts().items())
    elsewhere = sum(not v.claim.checked_by(report.profile) for v in report.verdicts)
    if elsewhere:
        counts += f" ({elsewhere} of them another profile's claims)"
    return (
        f"{report.suite}: paper vs measured — profile {profile}, suite {report.stored} "
        f"({report.n_ok} of {report.n_cells} cells ok); {counts}"
    )


def report_notes(report: Report) -> list[str]:
    """The paper's source and notes, each claim's slip, and the cause of each claim not reproduced."""
    out = [f"Source: {report.paper.source}"] if report.paper.source else []
    out += list(report.paper.notes)
    for v in report.verdicts:
        if v.claim.slip:
            out.append(f"{v.claim.id} — slip in the paper: {v.claim.slip}")
        if v.verdict in (NOT_REPRODUCED, TIE, NOT_LOCATED, UNDETERMINED):
            cause = v.claim.cause or "no cause stated yet"
            out.append(f"{v.claim.id} — {v.verdict}; believed cause: {cause}")
        if v.verdict == UNINFORMATIVE and v.claim.control is not None:
            out.append(f"{v.claim.id} — uninformative: the negative control ({v.claim.control.label}) meets it too")
    missing = [v.claim.id for v in report.verdicts if v.claim.control is None]
    if missing:
        out.append(f"No negative control named (these verdicts could not have been told apart): {', '.join(missing)}")
    return out


def render_report(report: Report, fmt: str = "terminal", width: int | None = None) -> str:
    """The report as text: ``terminal`` (no line wider than ``width``, default the terminal's: a boxed
    table from :data:`STACK_BELOW` columns up, one block per claim below) or ``markdown``."""
    rows = report_rows(report)
    if fmt == "markdown":
        from .markdown import md_escape, md_table

        lines = [f"## {md_escape(report_heading(report))}", "", md_table(HEADERS, rows), ""]
        lines += [f"- {md_escape(n)}" for n in report_notes(report)]
        return "\n".join(lines) + "\n"
    import shutil

    width = width or shutil.get_terminal_size((120, 24)).columns
    body = _report_grid(rows, width) if width >= STACK_BELOW else None
    if body is None:  # narrow, or a grid that cannot fit: one block per claim
        body = _report_stacked(rows, width)
    lines = [_fill(report_heading(report), width), body]
    lines += [_fill(n, width, "  ") for n in report_notes(report)]
    return "\n".join(lines) + "\n"


#: Below this many terminal columns the report is one block per claim instead of a table.
STACK_BELOW = 120
#: The grid's least column widths (:data:`HEADERS` order), and how the rest of the width is shared.
_GRID_MIN = (16, 10, 8, 14, 8, 16, 14, 14)
_GRID_SHARE = (3, 1, 1, 2, 1, 3, 2, 1)


def _fill(text: str, width: int, indent: str = "") -> str:
    """``text`` wrapped to ``width`` between words; a word longer than the line is broken."""
    import textwrap

    return textwrap.fill(text, width=max(20, width), subsequent_indent=indent, break_on_hyphens=False)


def _report_grid(rows: list[list[str]], width: int) -> str | None:
    """The claims as a boxed table no wider than ``width`` (``None`` when it cannot be)."""
    import textwrap

    from tabulate import tabulate

    room = width - (3 * len(HEADERS) + 1) - sum(_GRID_MIN)  # borders and padding: "│ a │ b │"
    if room < 0:
        return None
    widths = [m + room * s // sum(_GRID_SHARE) for m, s in zip(_GRID_MIN, _GRID_SHARE, strict=True)]
    wrapped = [[textwrap.fill(c, w, break_on_hyphens=False) for c, w in zip(row, widths, strict=True)] for row in rows]
    table = tabulate(wrapped, headers=HEADERS, tablefmt="simple_grid", disable_numparse=True)
    return table if max(map(len, table.splitlines())) <= width else None


def _report_stacked(rows: list[list[str]], width: int) -> str:
    """One block per claim: the claim, then a labelled line (wrapped under its label) per column,
    the verdict first."""
    label = max(map(len, HEADERS[1:])) + 2
    blocks = []
    for claim, *rest in rows:
        fields = dict(zip(HEADERS[1:], rest, strict=True))
        order = ["verdict", *(h for h in HEADERS[1:] if h != "verdict")]
        lines = [_fill(claim, width, "  "), *(_labelled(h, fields[h], label, width) for h in order)]
        blocks.append("\n".join(lines))
    rule = "─" * min(width, 40)
    return f"{rule}\n" + f"\n{rule}\n".join(blocks) + f"\n{rule}"


def _labelled(name: str, value: str, label: int, width: int) -> str:
    """``  name:     value``, the value wrapped under itself."""
    import textwrap

    head = f"  {name + ':':<{label}}"
    return textwrap.fill(
        value,
        width=max(len(head) + 10, width),
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_on_hyphens=False,
    )


def report_html(report: Report) -> str:
    """The report as an HTML section (escaped), for the leaderboard's ``index.html``."""
    from html import escape

    head = "".join(f"<th class=l>{escape(h)}</th>" for h in HEADERS)
    body = []
    for row, v in zip(report_rows(report), report.verdicts, strict=True):
        cls = {
            REPRODUCED: "ok",
            NOT_REPRODUCED: "bad",
            TIE: "bad",
            NOT_LOCATED: "bad",
            NOT_RUN: "novalue",
            TOO_FEW: "novalue",
        }.get(v.verdict, "copies")
        body.append(f'<tr class="{cls}">' + "".join(f"<td class=l>{escape(c)}</td>" for c in row) + "</tr>")
    notes = "".join(f"<li>{escape(n)}</li>" for n in report_notes(report))
    return (
        f'<h2 id="paper">Paper vs measured</h2><p>{escape(report_heading(report))}</p>'
        f'<div class="scroll"><table class="wrap"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>" + (f"<ul>{notes}</ul>" if notes else "")
    )


def stored_suite_report(stored: str, store: str | Path | None, plugin_dirs=()) -> Report | None:
    """The report of a stored suite name (``paper-bistable:quick``) if it is a suite with a
    ``[paper]`` table; else ``None`` (for the leaderboard, which renders any suite)."""
    name, _, profile = stored.split("+", 1)[0].partition(":")
    if "+" in stored:
        return None
    try:
        return build_report(name, store, profile or None, plugin_dirs)
    except GenbenchError:
        return None
