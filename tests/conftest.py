"""Shared fixtures: paths to test plugins, a CLI runner in a subprocess, tiny suites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
FAILING_PLUGINS = FIXTURES / "failing_plugins"
JITTER_PKG = FIXTURES / "jitter_pkg"
GENBENCH = [sys.executable, "-m", "genbench.cli"]


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 300):
    """Run ``genbench ARGS`` in a fresh interpreter; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*GENBENCH, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout)


@pytest.fixture(autouse=True, scope="session")
def fixed_code_version():
    """Pin the code version (for every fixture scope) so that edits made while the tests run
    cannot invalidate a resume; plugin files still count through the cells' fingerprints."""
    old = os.environ.get("GENBENCH_CODE_VERSION")
    os.environ["GENBENCH_CODE_VERSION"] = "tests"
    yield
    if old is None:
        del os.environ["GENBENCH_CODE_VERSION"]
    else:
        os.environ["GENBENCH_CODE_VERSION"] = old


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def write_suite(tmp_path):
    """Write a suite TOML into tmp_path and return its path."""

    def write(text: str, name: str = "suite.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "results.db"


def results_json(store: Path, *extra: str) -> list[dict]:
    proc = run_cli("results", "--store", str(store), "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def mixture_moments(ds):
    """Exact mean and covariance of the ``gmm`` dataset ``ds``."""
    import numpy as np

    mu = ds.weights @ ds.means
    dm = ds.means - mu
    return mu, (ds.weights[:, None] * dm).T @ dm + ds.std**2 * np.eye(ds.means.shape[1])


def mixture_errors(ds, Y):
    """Mean error / overall std, relative Frobenius covariance error, max mode-weight error."""
    import numpy as np

    mu, cov = mixture_moments(ds)
    sd = np.sqrt(np.trace(cov) / len(mu))
    w = np.bincount(ds.component(Y), minlength=len(ds.weights)) / len(Y)
    return (
        np.linalg.norm(Y.mean(0) - mu) / sd,
        np.linalg.norm(np.cov(Y, rowvar=False) - cov) / np.linalg.norm(cov),
        np.abs(w - ds.weights).max(),
    )


@pytest.fixture(scope="session")
def gmm():
    """The 3-mode ``gmm`` dataset and 1,000 training points from it (seed 0)."""
    import numpy as np

    import genbench

    ds = genbench.make_dataset("gmm")
    return ds, ds.sample(1000, rng=np.random.default_rng(0))
