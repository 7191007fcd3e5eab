"""``DIR/index.html``: one self-contained page — inline CSS, inline SVG plots, nothing fetched —
with the ranked tables, every configuration, and the figures. All plugin text is escaped."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from .figures import (
    axis_figures,
    commit_figures,
    pareto_figures,
    runtime_figures,
    sensitivity_figures,
    training_figures,
)
from .frame import COPIES, NO_VALUE, Board
from .tables import config_table, explanations, sampler_table, summary, summary_explanation, summary_table

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1200px;
color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1.02rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td.l,th.l{text-align:left}
tr.copies td{background:#fff3cd}tr.novalue td{color:#888}tr.ok td{background:#e8f5e9}tr.bad td{background:#fdecea}
code{background:#f4f4f4;padding:0 3px}
nav a{margin-right:.8rem}
figure{display:inline-block;margin:.4rem .6rem .8rem 0;vertical-align:top}
figcaption{font-size:12px;color:#555;max-width:560px}
svg.plot{background:#fff;font:11px sans-serif}svg .frame{fill:none;stroke:#999}svg .grid{stroke:#eee}
svg .t{font-weight:bold;font-size:12px}svg .tick{fill:#555}
details{margin:.4rem 0 1rem}div.scroll{overflow-x:auto}
"""

_LEFT = {"sampler", "best setting", "configuration", "first failure"}


def _code(text: str) -> str:
    """Escape, then turn `x` into <code>x</code> (the explanations' own markup)."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escape(text))


def html_table(headers: list[str], rows: list[list[str]]) -> str:
    left = [h in _LEFT for h in headers]
    out = ["<table><thead><tr>"]
    out += [f"<th{' class=l' if lf else ''}>{escape(h)}</th>" for h, lf in zip(headers, left, strict=True)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cls = ' class="copies"' if row[0] == COPIES else (' class="novalue"' if row[0] == NO_VALUE else "")
        out.append(f"<tr{cls}>")
        out += [f"<td{' class=l' if lf else ''}>{escape(v)}</td>" for v, lf in zip(row, left, strict=True)]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _figures(title: str, figs: list[tuple[str, str]], anchor: str) -> list[str]:
    if not figs:
        return []
    out = [f'<h2 id="{anchor}">{escape(title)}</h2>']
    out += [f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>" for caption, svg in figs]
    return out


def render_html(
    board: Board,
    *,
    command: str = "",
    asv_results: str | Path | None = None,
    generated: str = "",
    paper: str = "",
) -> str:
    """The page as one string; ``paper``: the paper-vs-measured section (already HTML, escaped)."""
    sections = [
        ("Sensitivity to the tuned parameter", sensitivity_figures(board), "sensitivity"),
        ("Accuracy against M", axis_figures(board, "n_train", "M (training points)"), "vs-m"),
        ("Accuracy against d", axis_figures(board, "dim", "d (dimension)"), "vs-d"),
        ("Runtime against M (empirical complexity)", runtime_figures(board), "runtime"),
        ("Accuracy against runtime (Pareto front)", pareto_figures(board), "pareto"),
        ("Training curves", training_figures(board), "training"),
        ("Over commits (asv)", commit_figures(asv_results), "commits"),
    ]
    title = f"genbench leaderboard: {board.suite}"
    body = [f"<h1>{escape(title)}</h1>", f"<p>{_code(summary(board))}</p>"]
    if command:
        body.append(
            f"<p>Regenerate: <code>{escape(command)}</code>{escape(f' ({generated})' if generated else '')}</p>"
        )
    nav = (
        (['<a href="#paper">paper vs measured</a>'] if paper else [])
        + ['<a href="#tables">tables</a>']
        + [f'<a href="#{a}">{escape(t)}</a>' for t, f, a in sections if f]
    )
    body.append(f"<nav>{''.join(nav)}</nav>")
    body.append(
        '<h2>Summary</h2><div class="scroll" id="summary">'
        + html_table(*summary_table(board))
        + f"</div><p>{_code(summary_explanation(board))}</p>"
    )
    body.append("<h2>How to read it</h2><ul>" + "".join(f"<li>{_code(x)}</li>" for x in explanations(board)) + "</ul>")
    if paper:
        body.append(paper)
    body.append('<h2 id="tables">Ranked samplers per dataset</h2>')
    for g in board.groups:
        body.append(f"<h3>{escape(g.dataset_id)}</h3>")
        body.append(f'<div class="scroll">{html_table(*sampler_table(board, g))}</div>')
        body.append(
            f"<details><summary>every configuration ({len(g.configs)})</summary>"
            f'<div class="scroll">{html_table(*config_table(board, g))}</div></details>'
        )
    for t, figs, a in sections:
        body += _figures(t, figs, a)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )
