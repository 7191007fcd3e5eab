"""Which code produced a result: the genbench commit (or release) and package versions."""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

_PACKAGES = ("numpy", "scipy", "pluggy", "POT", "torch", "jax", "scikit-learn", "pandas")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``git:<sha12>`` of the genbench checkout (``+<diffhash>`` when it has local changes),
    else ``genbench <version>`` for an installed release. ``$GENBENCH_CODE_VERSION`` overrides
    it (e.g. to resume across edits you know do not change results)."""
    if os.environ.get("GENBENCH_CODE_VERSION"):
        return os.environ["GENBENCH_CODE_VERSION"]
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "-C", str(root), "diff", "HEAD", "--", "genbench", "plugins", "datasets"],
            capture_output=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        from . import __version__

        return f"genbench {__version__}"
    version = f"git:{sha[:12]}"
    if diff:
        version += "+" + hashlib.sha256(diff).hexdigest()[:8]
    return version


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Versions of Python, the numerical stack and every distribution that ships genbench plugins."""
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
    return dict(sorted(out.items()))
