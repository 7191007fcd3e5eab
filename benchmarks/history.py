"""Record asv results for the last N commits of the current branch, offline, in this environment.

    python benchmarks/history.py 3          # the last 3 commits (oldest first), then:
    asv publish && asv preview              # or: genbench leaderboard --out DIR (plots over commits)

Each commit is checked out in a temporary git worktree and installed (``pip install --no-deps
--target``, no network: the dependencies are this environment's) into a folder that is put
first on ``PYTHONPATH``, so ``asv run --python=same --set-commit-hash SHA`` measures that
commit's genbench, built-in samplers and datasets with the current checkout's benchmarks. The
environment's own install of genbench is left as it was.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def sh(*cmd: str, env: dict | None = None, cwd: Path | None = None) -> str:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, env=env, cwd=cwd).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=3, help="how many commits, back from HEAD (default 3)")
    parser.add_argument("--bench", default=None, help="only benchmarks matching this regex (asv --bench)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("n must be at least 1")
    root = Path(sh("git", "rev-parse", "--show-toplevel").strip())
    shas = sh("git", "rev-list", "--first-parent", "-n", str(args.n), "HEAD", cwd=root).split()[::-1]
    asv = [sys.executable, "-m", "asv"]
    subprocess.run([*asv, "machine", "--yes"], check=True, cwd=root, capture_output=True)
    for i, sha in enumerate(shas, 1):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="genbench-asv-") as tmp:
            src, site = Path(tmp) / "src", Path(tmp) / "site"
            sh("git", "worktree", "add", "--detach", str(src), sha, cwd=root)
            try:
                sh(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                   "--target", str(site), str(src))  # fmt: skip
                env = {
                    **os.environ,
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
                }
                cmd = [*asv, "run", "--python=same", "--set-commit-hash", sha]
                if args.bench:
                    cmd += ["--bench", args.bench]
                proc = subprocess.run(cmd, cwd=root, env=env, text=True, capture_output=True)
                failed = proc.returncode != 0
            finally:
                sh("git", "worktree", "remove", "--force", str(src), cwd=root)
        status = f"asv exited {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}" if failed else "recorded"
        print(f"[{i}/{len(shas)}] {sha[:8]} {status} ({time.perf_counter() - start:.0f} s)", flush=True)
        if failed:
            return 1
    print("next: asv publish && asv preview   (or genbench leaderboard --out DIR for the plots over commits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
