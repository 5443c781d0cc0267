"""Atomic file writes: a reader (the dashboard, a rerun after a crash) sees the old file or the new one,
never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    """The user's cache folder for sleepy (``$XDG_CACHE_HOME/sleepy``, else ``~/.cache/sleepy``): what is
    rebuilt when lost (the standard library's name index) and what must stay out of a project (fix runs)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sleepy"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, rename it over ``path``, fsync the folder.

    UTF-8, line endings as given (a CRLF file stays CRLF), and a file that exists keeps its permissions
    (``sleepy fix --apply`` rewrites the user's sources)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
