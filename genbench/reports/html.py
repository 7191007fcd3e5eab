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
    rate_figures,
    runtime_figures,
    sensitivity_figures,
    summary_figure,
    training_figures,
)
from .floor import FLOOR
from .frame import COPIES, NO_VALUE, Board, MatrixCell, rank_matrix, repetition_warning, summarize
from .gallery import gallery_html
from .tables import (
    config_table,
    explanations,
    matrix_explanation,
    provenance,
    sampler_table,
    secondary_table,
    summary,
    summary_explanation,
    summary_table,
)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1360px;
color:#222;padding:0 1rem;overflow-wrap:anywhere}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1.02rem}
table{border-collapse:separate;border-spacing:0;margin:.5rem 0 1rem;font-size:13px;border-top:1px solid #ddd;
border-left:1px solid #ddd}
th,td{border-right:1px solid #ddd;border-bottom:1px solid #ddd;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td.l,th.l{text-align:left}
tr.copies td{background:#fff3cd}tr.novalue td{color:#888}tr.ok td{background:#e8f5e9}tr.bad td{background:#fdecea}
tr.floor td{background:#f0f4f8;font-style:italic}
table.wrap td{white-space:normal;min-width:5rem;max-width:26rem;vertical-align:top}
td.pin,th.pin{position:sticky;left:0;background:#fff;z-index:1;box-shadow:1px 0 0 #ddd}th.pin{background:#f4f4f4}
tr.copies td.pin{background:#fff3cd}tr.floor td.pin{background:#f0f4f8}
dl.prov{display:grid;grid-template-columns:max-content auto;gap:0 .8rem;font-size:12.5px;color:#444;margin:.4rem 0}
dl.prov dt{font-weight:600}dl.prov dd{margin:0}
p.warn{background:#fff3cd;border:1px solid #e6c96b;padding:.4rem .6rem}
figure.thumb{margin:.15rem .25rem .35rem 0}figure.thumb figcaption{font-size:11px;max-width:132px}
div.gallery{display:flex;flex-wrap:wrap}p.note{font-size:12px;color:#666;margin:0}
svg .pl{font-size:11px;font-weight:600}
svg{max-width:100%;height:auto}
code{background:#f4f4f4;padding:0 3px}
nav a{margin-right:.8rem}
figure{display:inline-block;margin:.4rem .6rem .8rem 0;vertical-align:top}
figcaption{font-size:12px;color:#555;max-width:560px}
svg.plot{background:#fff;font:11px sans-serif}svg .frame{fill:none;stroke:#999}svg .grid{stroke:#eee}
svg .t{font-weight:bold;font-size:12px}svg .tick{fill:#555}
details{margin:.4rem 0 1rem}div.scroll{overflow-x:auto}
details table{font-size:12px}details td,details th{padding:2px 5px}
details td.l{white-space:normal;min-width:9rem;max-width:15rem}details th{white-space:normal}
table.matrix td{text-align:center;min-width:3.2rem}table.matrix td.l{text-align:left}
table.matrix td.top{font-weight:700}
div.rates td.l{white-space:normal;max-width:26rem}
table.matrix td.copies{background:#fff3cd}table.matrix th.s{writing-mode:vertical-rl;
transform:rotate(180deg);text-align:left;padding:6px 2px;font-weight:600}
"""

_LEFT = {"sampler", "setting", "at default", "configuration", "first failure", "data", "fitted over", "note"}
#: Columns that stay in view while a wide table scrolls sideways.
_PIN = {"sampler", "configuration"}


def _code(text: str) -> str:
    """Escape, then turn `x` into <code>x</code> (the explanations' own markup)."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escape(text))


def _cls(header: str) -> str:
    names = (["l"] if header in _LEFT else []) + (["pin"] if header in _PIN else [])
    return f' class="{" ".join(names)}"' if names else ""


def html_table(headers: list[str], rows: list[list[str]]) -> str:
    cls = [_cls(h) for h in headers]
    out = ["<table><thead><tr>"]
    out += [f"<th{c}>{escape(h)}</th>" for h, c in zip(headers, cls, strict=True)]
    out.append("</tr></thead><tbody>")
    row_class = {COPIES: ' class="copies"', NO_VALUE: ' class="novalue"', FLOOR: ' class="floor"'}
    for row in rows:
        out.append(f"<tr{row_class.get(row[0], '')}>")
        out += [f"<td{c}>{escape(v)}</td>" for v, c in zip(row, cls, strict=True)]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _heat(cell: MatrixCell, k: int) -> str:
    """A matrix cell's colour: rank 1 dark green to rank ``k`` near white (text white on dark)."""
    if cell.rank is None:
        return ""
    t = (cell.rank - 1) / max(1, k - 1)
    light = 28 + 68 * t  # HSL lightness, %
    ink = "#fff" if light < 52 else "#222"
    return f' style="background:hsl(140,40%,{light:.0f}%);color:{ink}"'


def matrix_html(board: Board) -> str:
    """The dataset × sampler rank matrix (a heatmap of the tables' ranks, marks as text as well)."""
    order, rows = rank_matrix(board)
    if not rows:
        return ""
    out = ['<table class="matrix"><thead><tr><th class="l">dataset</th>']
    out += [f'<th class="s">{escape(name)}</th>' for name in order]
    out.append("</tr></thead><tbody>")
    for did, cells in rows:
        k = sum(1 for c in cells if c is not None and c.rank is not None)
        out.append(f'<tr><td class="l pin">{escape(did)}</td>')
        for name, c in zip(order, cells, strict=True):
            if c is None:
                out.append("<td></td>")
                continue
            cls = " ".join(x for x, on in (("top", c.top), ("copies", c.copies)) if on)
            tip = f"{name} on {did}: rank {c.label}" + (" · top group" if c.top else "")
            tip += " · at the data floor" if c.floor else ""
            attr = f' class="{cls}"' if cls else ""
            out.append(f'<td{attr}{_heat(c, k)} title="{escape(tip)}">{escape(c.text())}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _short_provenance(board: Board) -> str:
    p = dict(provenance(board))
    return f"commit {p['commit']}, {p['CPU']} ({p['cores']} cores), GPU {p['GPU']}, {p['run']}"


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
    from .rates import RATE_NOTE, board_rates, rate_table

    rates = board_rates(board)
    sections = [
        ("Error against M and d (fitted rates)", rate_figures(board, rates), "rate-plots"),
        ("Sensitivity to the tuned parameter", sensitivity_figures(board), "sensitivity"),
        ("Accuracy against M", axis_figures(board, "n_train", "M (training points)"), "vs-m"),
        ("Accuracy against d", axis_figures(board, "dim", "d (dimension)"), "vs-d"),
        ("Runtime against M (empirical complexity)", runtime_figures(board), "runtime"),
        ("Accuracy against runtime (Pareto front)", pareto_figures(board), "pareto"),
        ("Training curves", training_figures(board), "training"),
        ("Over commits (asv)", commit_figures(asv_results), "commits"),
    ]
    title = f"genbench leaderboard: {board.suite}"
    prov = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in provenance(board))
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{_code(summary(board))}</p>",
        f'<details id="provenance"><summary>Provenance: {escape(_short_provenance(board))}</summary>'
        f'<dl class="prov">{prov}</dl></details>',
    ]
    gallery = gallery_html(board)
    nav = (
        ['<a href="#summary">summary</a>', '<a href="#matrix">ranks per dataset</a>']
        + (['<a href="#samples">samples</a>'] if gallery else [])
        + (['<a href="#paper">paper vs measured</a>'] if paper else [])
        + (['<a href="#rates">rates</a>'] if rates else [])
        + ['<a href="#tables">tables</a>']
        + [f'<a href="#{a}">{escape(t)}</a>' for t, f, a in sections if f]
    )
    body.append(f"<nav>{''.join(nav)}</nav>")
    warn = repetition_warning(board)
    if warn:
        body.append(f'<p class="warn">{escape(warn)}</p>')
    body.append(
        '<h2>Summary</h2><div class="scroll" id="summary">'
        + html_table(*summary_table(board))
        + f"</div><p>{_code(summary_explanation(board))}</p>"
    )
    matrix = matrix_html(board)
    if matrix:
        body.append(
            f'<h3 id="matrix">Ranks per dataset</h3><div class="scroll">{matrix}</div>'
            f'<p class="note">{_code(matrix_explanation(board))}</p>'
        )
    body += [f"<figure>{svg}<figcaption>{escape(cap)}</figcaption></figure>" for cap, svg in summary_figure(
        board, summarize(board))]  # fmt: skip
    if command:
        body.append(
            f"<p>Regenerate: <code>{escape(command)}</code>{escape(f' ({generated})' if generated else '')}</p>"
        )
    if gallery:
        body.append(gallery)
    body.append("<h2>How to read it</h2><ul>" + "".join(f"<li>{_code(x)}</li>" for x in explanations(board)) + "</ul>")
    if paper:
        body.append(paper)
    if rates:
        body.append(
            '<h2 id="rates">How error and cost scale</h2><div class="scroll rates">'
            + html_table(*rate_table(rates))
            + f"</div><p>{_code(RATE_NOTE)}</p>"
        )
    body.append('<h2 id="tables">Ranked samplers per dataset</h2>')
    for g in board.groups:
        body.append(f"<h3>{escape(g.dataset_id)}</h3>")
        body.append(f'<div class="scroll">{html_table(*sampler_table(board, g, secondary=False))}</div>')
        headers, rows = secondary_table(board, g)
        if rows:
            body.append(
                f"<details><summary>other metrics ({', '.join(headers[2:])})</summary>"
                f'<div class="scroll">{html_table(headers, rows)}</div></details>'
            )
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
