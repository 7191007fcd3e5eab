"""Files genbench writes besides the store, written atomically: a temporary file in the same folder,
flushed to disk, then renamed over the target — so a full disk or a kill never leaves a half-written
page, report, export or cache entry that looks complete (the rename is atomic on POSIX and Windows)."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from .errors import FileWriteError

_warned: set[str] = set()


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically; :class:`FileWriteError` (the previous file, if any, left as
    it was) when the machine refuses — disk full, a read-only folder, an I/O error."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, _mode(path))  # mkstemp's 0600 would hide a shared page from its readers
        with os.fdopen(fd, "w", encoding=encoding, newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise FileWriteError(str(path), "writing", exc.strerror or str(exc)) from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _mode(path: Path) -> int:
    """The permissions ``path`` has, or a new file's (0666 less the umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def warn_once(key: str, message: str) -> None:
    """``genbench: warning: message`` on stderr, once per ``key`` per process."""
    if key not in _warned:
        _warned.add(key)
        print(f"genbench: warning: {message}", file=sys.stderr)
