"""Which code produced a result: a hash of genbench's own sources, plugin sources, package versions.

Resume trusts a stored ``ok`` row only when the code that would produce it again is the same, so
the key is the *content* of the code — not a commit, which misses uncommitted and untracked
files and says nothing about an installed release or a plugin outside the repository.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from .._version import __version__
from ..config import CODE_VERSION_ENV

_PACKAGES = ("numpy", "scipy", "pluggy", "POT", "torch", "jax", "scikit-learn", "pandas")
#: genbench's own packages: the core and the built-in plugins and datasets.
_OWN = ("genbench", "genbench_plugins", "genbench_datasets")


def _package_files(name: str) -> list[tuple[str, Path]]:
    """``(relative name, path)`` of the package's ``.py`` and ``.toml`` files, sorted."""
    spec = importlib.util.find_spec(name)
    roots = [Path(r) for r in (spec.submodule_search_locations or [])] if spec else []
    files = [(f"{name}/{p.relative_to(r).as_posix()}", p) for r in roots for p in r.rglob("*")]
    return sorted((rel, p) for rel, p in files if p.suffix in (".py", ".toml"))


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``genbench <version>+<hash>``: a hash of every source file of genbench, its built-in
    plugins and datasets. ``$GENBENCH_CODE_VERSION`` overrides it (e.g. to resume across
    edits you know do not change results)."""
    if os.environ.get(CODE_VERSION_ENV):
        return os.environ[CODE_VERSION_ENV]
    digest = hashlib.sha256()
    for name in _OWN:
        for rel, path in _package_files(name):
            digest.update(rel.encode())
            digest.update(path.read_bytes())
    return f"genbench {__version__}+{digest.hexdigest()[:12]}"


@functools.lru_cache(maxsize=256)
def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def component_fingerprint(classes: list[type]) -> str:
    """Hash of the source files defining ``classes`` (plugin-dir files, third-party modules),
    so that editing a plugin outside genbench also invalidates its stored results."""
    digest = hashlib.sha256()
    for path in sorted({inspect.getsourcefile(c) or "" for c in classes}):
        if path and Path(path).is_file():
            digest.update(_file_digest(path).encode())
    return digest.hexdigest()[:12]


def _git_commit() -> str | None:
    """The commit of the checkout genbench runs from, if it is its own repository."""
    root = Path(__file__).resolve().parents[2]
    try:
        cmd = ["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"]
        top = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return top[1] if len(top) == 2 and Path(top[0]).resolve() == root else None


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Versions of Python, the numerical stack, every distribution that ships genbench plugins,
    and the git commit when genbench runs from a checkout (for the record; resume uses
    :func:`code_version`)."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    for ep in metadata.entry_points(group="genbench"):
        dist = getattr(ep, "dist", None)
        if dist is not None:
            out[dist.name] = dist.version
    commit = _git_commit()
    if commit:
        out["genbench_git"] = commit
    out.update(machine())
    return dict(sorted(out.items()))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> str:
    """Names of the NVIDIA GPUs (``nvidia-smi -L``), without importing torch; ``none`` if there is none."""
    try:
        text = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return "none"
    names = [line.split(":", 1)[1].split("(UUID")[0].strip() for line in text.splitlines() if ":" in line]
    return ", ".join(names) or "none"


@functools.lru_cache(maxsize=1)
def machine() -> dict[str, str]:
    """What the results were measured on: CPU model, the cores this process may use, GPUs, OS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 0
    return {
        "machine_cpu": _cpu_model(),
        "machine_cores": str(cores),
        "machine_gpu": _gpus(),
        "machine_os": f"{platform.system()} {platform.release()}",
    }
