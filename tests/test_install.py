"""A lean, honest install: one file adds a built-in sampler; the core runs without the extras."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import JITTER_PKG, results_json, run_cli

ROOT = Path(__file__).parent.parent


def test_a_sampler_dropped_into_plugins_is_registered_after_reinstall(tmp_path):
    """Copy the project, add one file to plugins/, install it (not editable): nothing else to edit."""
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("genbench", "plugins", "datasets"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    (src / "plugins" / "dropped_in.py").write_text(
        (JITTER_PKG / "genbench_jitter.py").read_text().replace('name = "jitter"', 'name = "dropped_in"')
    )
    target = tmp_path / "site"
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    proc = subprocess.run([*cmd, "--target", str(target), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    listing = run_cli("plugins", "--json", env={"PYTHONPATH": str(target)}, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    sources = {i["name"]: i["source"] for i in json.loads(listing.stdout) if i["kind"] == "sampler"}
    assert sources["dropped_in"] == "genbench:samplers (genbench_plugins.dropped_in)"
    assert sources["kde"] == "genbench:samplers (genbench_plugins.kde)"


BLOCKER = '''
"""Test helper: make the optional stacks unimportable, as in an install without extras."""
import importlib.abc
import sys

BLOCKED = {"torch", "jax", "jaxlib", "sklearn", "dask", "distributed", "pytest"}


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, _Blocker())
'''


def test_the_core_runs_without_torch_jax_or_scikit_learn(tmp_path, write_suite):
    site = tmp_path / "blocker"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(BLOCKER))
    env = {"PYTHONPATH": str(site)}
    suite = write_suite(
        """
        name = "lean"
        n_samples = 100
        n_reference = 200
        timeout = 120
        metrics = ["sliced_w2", "sinkhorn", "memorization"]
        [datasets.arc]
        n_train = 200
        [datasets.lorenz63_closure]
        n_train = 200
        [samplers.kde]
        [samplers.bridge]
        steps = 30
        burn_in = 10
        thin = 1
        chains = 50
        """
    )
    store = tmp_path / "r.db"
    proc = run_cli("run", "--suite", str(suite), "--store", str(store), "-q", "--fail-on-error", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {(r["dataset"], r["sampler"]): r for r in results_json(store)}
    assert rows[("arc", "kde")]["status"] == "ok"
    bridge = rows[("arc", "bridge")]
    assert bridge["status"] == "ok" and bridge["backend"] == "numpy"  # no jax: the numpy chains
    closure = rows[("lorenz63_closure", "kde")]
    assert closure["status"] == "skipped" and "needs jax, which is not installed" in closure["message"]
    assert "pip install 'genbench[jax]'" in closure["message"]
    board = run_cli("leaderboard", "--store", str(store), env=env)
    assert board.returncode == 0 and "kde" in board.stdout, board.stderr
    dask = run_cli("run", "--suite", "smoke", "--executor", "dask", "--store", str(tmp_path / "d.db"), env=env)
    assert dask.returncode == 2 and "Traceback" not in dask.stderr
    assert "the dask executor needs dask, which is not installed (pip install 'genbench[dask]')" in dask.stderr
