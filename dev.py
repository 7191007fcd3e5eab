#!/usr/bin/env python3
"""Set-up and the two everyday jobs, with nothing but Python ≥ 3.10 on the machine.

    python3 dev.py run     # .venv + install, run the manifolds suite (quick profile), print the leaderboard
    python3 dev.py test    # .venv + install, ruff (lint + format check), mypy, pytest (per-test timeout)
    python3 dev.py docs    # .venv + install, build the documentation site (docs/, mkdocs.yml) into site/
    python3 dev.py genbench ARGS   # any genbench command in .venv, e.g. `genbench results --format csv`

The virtual environment lives in ``.venv``; it is (re)installed when pyproject.toml or
.ci/constraints.txt changes. ``python3 dev.py genbench ARGS`` runs any genbench command in it
(or activate it: ``source .venv/bin/activate``).
Extra arguments after ``run`` go to ``genbench run`` (e.g. ``-j 2``); after ``test``, to pytest
(e.g. ``-m slow`` for the paper reproductions); after ``docs``, to ``mkdocs build`` (e.g. ``-d DIR``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".genbench-install"
CONSTRAINTS = ROOT / ".ci" / "constraints.txt"  # development pins: CPU torch, one ruff
SUITE, PROFILE = "manifolds", "quick"  # every sampler × every manifold, laptop-sized (cells and time: docs/install.md)


def sh(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    if code:
        sys.exit(code)


def ensure_env() -> None:
    """Create .venv and install genbench (editable) with every extra and the test tools, once per
    pyproject.toml / constraints."""
    if sys.version_info < (3, 10):  # noqa: UP036  (dev.py itself must run on an old Python to say so)
        sys.exit(f"genbench needs Python >= 3.10, this is {sys.version.split()[0]}")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + CONSTRAINTS.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    if not (BIN / "python").exists():
        sh(sys.executable, "-m", "venv", VENV)
    sh(BIN / "python", "-m", "pip", "install", "--upgrade", "--quiet", "pip")
    sh(BIN / "python", "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS, "-e", ".[all,test]")
    STAMP.write_text(want)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("run", "test", "docs", "genbench"):
        sys.exit(__doc__)
    ensure_env()
    job, extra = argv[0], argv[1:]
    if job == "genbench":
        sh(BIN / "genbench", *extra)
    elif job == "docs":  # offline: the built-in theme, no plugins; --strict fails on a broken link
        sh(BIN / "python", "-m", "mkdocs", "build", "--strict", *extra)
    elif job == "run":
        store = ROOT / "genbench.db"
        sh(BIN / "genbench", "run", "--suite", SUITE, "--profile", PROFILE, "--store", store, "-j", "2", *extra)
        sh(BIN / "genbench", "leaderboard", "--suite", f"{SUITE}:{PROFILE}", "--store", store)
    else:
        sh(BIN / "ruff", "check", ".")
        sh(BIN / "ruff", "format", "--check", ".")
        sh(BIN / "python", "-m", "mypy")  # genbench/, configured in pyproject.toml [tool.mypy]
        sh(BIN / "python", "-m", "pytest", *extra)


if __name__ == "__main__":
    main(sys.argv[1:])
