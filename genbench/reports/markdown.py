"""``DIR/README.md``: the leaderboard as Markdown, one ranked table per dataset configuration."""

from __future__ import annotations

import re

from .frame import Board, repetition_warning
from .tables import (
    explanations,
    matrix_explanation,
    matrix_table,
    provenance,
    sampler_table,
    summary,
    summary_explanation,
    summary_table,
)


def md_escape(text: str) -> str:
    """Plugin text made inert in Markdown: no table breaks, no HTML, no emphasis or links."""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([*`]|\]\(|(?<!\w)_|_(?!\w))", lambda m: "\\" + m.group(0), text)


def md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(md_escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(board: Board, *, command: str = "", generated: str = "") -> str:
    """The whole README: summary, how to read it, then one table per dataset configuration."""
    out = [f"# Leaderboard: {md_escape(board.suite)}", "", summary(board).replace(board.suite, md_escape(board.suite))]
    if command:
        out += ["", f"Regenerate: `{command}`" + (f" ({generated})" if generated else "")]
    out += [
        "",
        "Plots (sensitivity to the tuned parameter, M, d, runtime, Pareto fronts) and the samples: `index.html`. "
        "Rows: `results.csv`.",
        "",
        "Provenance: " + md_escape("; ".join(f"{k} {v}" for k, v in provenance(board))),
    ]
    warn = repetition_warning(board)
    if warn:
        out += ["", f"> **{md_escape(warn)}**"]
    out += ["", "## Summary", "", summary_explanation(board), "", md_table(*summary_table(board))]
    headers, rows = matrix_table(board)
    if rows:
        out += ["", "### Ranks per dataset", "", matrix_explanation(board), "", md_table(headers, rows)]
    out += ["", "## How to read it", ""] + [f"- {line}" for line in explanations(board)]
    from .rates import RATE_NOTE, board_rates, rate_table

    rates = board_rates(board)
    if rates:
        out += ["", "## How error and cost scale", "", RATE_NOTE, "", md_table(*rate_table(rates))]
    for g in board.groups:
        headers, rows = sampler_table(board, g)
        out += ["", f"## {md_escape(g.dataset_id)}", "", md_table(headers, rows)]
    return "\n".join(out) + "\n"
