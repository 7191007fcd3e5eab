"""The plugin host: entry points, plugin dirs, duplicates, autoload switch, documented hooks."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from genbench import hookspecs
from genbench.errors import GenbenchError
from genbench.plugins import build_registry, get_registry

from .conftest import JITTER_PKG, run_cli

JITTER_SOURCE = (JITTER_PKG / "genbench_jitter.py").read_text()


@pytest.fixture(scope="module")
def installed_jitter(tmp_path_factory):
    """The issue's Jitter plugin, pip-installed (into a --target dir put on PYTHONPATH)."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    for f in JITTER_PKG.iterdir():
        (build / f.name).write_text(f.read_text())
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(build),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return target


def test_builtins_come_through_the_entry_point_group():
    reg = get_registry()
    kde = reg.components["sampler"]["kde"]
    assert kde.source.startswith("genbench:")
    assert {"arc", "gmm"} <= set(reg.names("dataset"))
    assert {"sliced_w2", "energy", "memorization"} <= set(reg.names("metric"))
    assert "smoke" in reg.names("suite")


def test_jitter_as_installed_package(installed_jitter):
    proc = run_cli("plugins", "--json", env={"PYTHONPATH": str(installed_jitter)})
    assert proc.returncode == 0, proc.stderr
    items = {(i["kind"], i["name"]): i["source"] for i in json.loads(proc.stdout)}
    assert items[("sampler", "jitter")] == "genbench-jitter:jitter (genbench_jitter)"
    assert ("sampler", "kde") in items


def test_jitter_installed_runs_end_to_end(installed_jitter, tmp_path):
    proc = run_cli(
        "run",
        "--suite",
        "smoke",
        "--sampler",
        "jitter[scale=0.05]",
        "--dataset",
        "gmm",
        "--store",
        str(tmp_path / "r.db"),
        "-q",
        env={"PYTHONPATH": str(installed_jitter)},
    )
    assert proc.returncode == 0, proc.stderr
    out = run_cli("results", "--store", str(tmp_path / "r.db"), "--format", "json")
    rows = json.loads(out.stdout)
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert all(r["sampler"] == "jitter" and r["sampler_params"] == {"scale": 0.05} for r in rows)


def test_autoload_switch_keeps_only_builtins(installed_jitter):
    env = {"PYTHONPATH": str(installed_jitter), "GENBENCH_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = run_cli("list", "samplers", "--json", env=env)
    names = [i["name"] for i in json.loads(proc.stdout)]
    assert "kde" in names and "jitter" not in names


def test_jitter_as_single_file_plugin(tmp_path):
    (tmp_path / "jitter.py").write_text(JITTER_SOURCE)
    proc = run_cli("plugins", "--json", "--plugin-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    items = {i["name"]: i for i in json.loads(proc.stdout)}
    assert items["jitter"]["kind"] == "sampler"
    assert items["jitter"]["source"] == f"file {tmp_path / 'jitter.py'}"


def test_duplicate_name_is_a_startup_error_naming_both(tmp_path):
    (tmp_path / "clash.py").write_text(JITTER_SOURCE.replace('name = "jitter"', 'name = "kde"'))
    with pytest.raises(GenbenchError) as info:
        build_registry([str(tmp_path)])
    msg = str(info.value)
    assert "two plugins register the sampler 'kde'" in msg
    assert "genbench_plugins.kde" in msg and "clash.py" in msg
    proc = run_cli("list", "samplers", "--plugin-dir", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_misspelled_hook_fails_loudly(tmp_path):
    (tmp_path / "typo.py").write_text("import genbench\n\n@genbench.hookimpl\ndef genbench_sampler():\n    return []\n")
    with pytest.raises(GenbenchError, match="unknown hook 'genbench_sampler'"):
        build_registry([str(tmp_path)])


def test_plugin_returning_a_non_component_is_rejected(tmp_path):
    (tmp_path / "bad.py").write_text(
        "import genbench\n\n@genbench.hookimpl\ndef genbench_samplers():\n    return [object]\n"
    )
    with pytest.raises(GenbenchError, match=r"expected a genbench\.Sampler subclass"):
        build_registry([str(tmp_path)])


def test_every_hook_is_documented_and_exercised():
    specs = [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("genbench_")]
    assert sorted(specs) == ["genbench_datasets", "genbench_metrics", "genbench_samplers", "genbench_suites"]
    reg = get_registry()
    for name in specs:
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and "Called by" in doc, f"{name} lacks a docstring saying who calls it"
    assert all(reg.components[k] for k in ("sampler", "dataset", "metric", "suite"))
