"""The documentation: a README a newcomer reads in five minutes, the rest a site that builds offline
from docs/ and mkdocs.yml with one command (``python3 dev.py docs``), every link between pages whole."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def _section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_is_short():
    lines = README.read_text().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; move detail to docs/"


def test_no_issue_numbers_in_user_facing_text():
    pattern = re.compile(r"issues? \d+", re.IGNORECASE)
    for path in [README, *sorted(DOCS.rglob("*.md"))]:
        hits = [f"{path.relative_to(ROOT)}:{n}: {line}" for n, line in enumerate(path.read_text().splitlines(), 1)]
        hits = [h for h in hits if pattern.search(h.split(": ", 1)[1])]
        assert not hits, "say what the change is, not its issue number:\n" + "\n".join(hits)


def test_the_readme_names_the_quickstart_and_the_docs_build():
    text = README.read_text()
    quick = _section(text, "Quickstart")
    commands = [line.split("#")[0].strip() for line in quick.split("```sh\n", 1)[1].split("```")[0].splitlines()]
    assert commands == ["python3 dev.py run", "python3 dev.py test"]  # .ci/run calls the second
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text()
    assert "python3 dev.py docs" in _section(text, "Building the docs")
    assert '"docs"' in (ROOT / "dev.py").read_text()  # the job exists


def test_the_install_page_repeats_the_readme_s_quickstart_and_install():
    """docs/install.md is the site's copy of the README's two sections: their commands and tables agree."""
    readme, page = README.read_text(), (DOCS / "install.md").read_text()
    for heading in ("Quickstart", "Install"):
        for line in _section(readme, heading).splitlines():
            if line.startswith(("python3 dev.py", "pip install", "| ")):
                assert line.replace("the documentation site", "this documentation site") in page, line


def test_the_readme_links_resolve():
    text = README.read_text()
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert local, "the README links to the docs pages"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, missing


def test_the_board_excerpt_is_the_committed_board():
    """The summary shown in the README is copied from leaderboard/README.md, not typed: when the board
    is re-rendered, copy its summary table again."""
    excerpt = [line for line in _section(README.read_text(), "Reading the board").splitlines() if line.startswith("|")]
    board = (ROOT / "leaderboard" / "README.md").read_text().splitlines()
    assert len(excerpt) >= 3
    start = board.index(excerpt[0]) if excerpt[0] in board else -1
    assert start >= 0 and board[start : start + len(excerpt)] == excerpt, "README's board excerpt is stale"


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None,
    reason="mkdocs is not installed (pip install -e '.[docs]', part of [all])",
)
def test_the_docs_build_offline_and_strict(tmp_path):
    site = tmp_path / "site"
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml")]
    proc = subprocess.run(
        [*cmd, "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pages = {p.relative_to(DOCS).with_suffix(".html") for p in DOCS.rglob("*.md")}
    assert pages and all((site / p).is_file() for p in pages)
    for page in pages:  # nothing is fetched when a page opens: no remote script or stylesheet
        html = (site / page).read_text()
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html), page
