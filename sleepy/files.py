"""Atomic file writes: a reader (the dashboard, a rerun after a crash) sees the old file or the new one,
never half of one. And owners of temporary folders: who made one, and whether that process still runs, so
what a ``kill -9`` left is removed by the next start and nothing a live process uses is."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
    prepare_write(path, text).commit()


class PreparedWrite:
    """An atomic write whose slow half is done (:func:`prepare_write`); :meth:`commit` renames it into place."""

    def __init__(self, path: Path, tmp: str) -> None:
        self.path, self.tmp = path, tmp

    def commit(self) -> None:
        os.replace(self.tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def discard(self) -> None:
        Path(self.tmp).unlink(missing_ok=True)


def prepare_write(path: Path, text: str) -> PreparedWrite:
    """The temporary file of :func:`atomic_write_text`, written and fsynced, not yet renamed: for a write
    that must follow another one closely (the registry appends a move to its history, then renames the
    aliases into place: microseconds apart instead of an fsync, so a kill between them is all but impossible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return PreparedWrite(path, tmp)


class FolderExists(FileExistsError):
    """The folder an export was asked to create is already there; the message names it."""


@contextmanager
def new_folder(out_dir: Path) -> Iterator[Path]:
    """A folder written whole or not at all: yields a temporary folder beside ``out_dir`` (same file system),
    renamed to ``out_dir`` when the block ends; removed if the block raises. An ``out_dir`` that exists is
    refused before anything is written, so an export never mixes its files with someone else's."""
    if out_dir.exists():
        raise FolderExists(f"{out_dir} exists: name a new folder (nothing was written)")
    if not out_dir.parent.is_dir():
        raise FileNotFoundError(f"{out_dir.parent} is not a folder")
    tmp = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---------------------------------------------------------------------------------------------- owners
OWNER_FILE = "owner.json"


def owned_temp_folder(prefix: str) -> Path:
    """A new folder in the temp folder holding this process's owner file, whole or absent (a torn one would
    keep the folder forever): after a ``kill -9`` the next start removes it
    (:func:`sleepy.tasks.sandbox.sweep_leftovers`, for ``sleepy-*`` names), never while its owner runs."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    tmp = root / (OWNER_FILE + ".tmp")
    tmp.write_text(json.dumps(owner_record()))
    tmp.replace(root / OWNER_FILE)
    return root


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), which tells a reused pid from the original."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def owner_record() -> dict:
    """This process, as an owner file records it: pid, start time, boot and PID namespace."""
    pid = os.getpid()
    return {"pid": pid, "start": _start_time(pid), "boot": boot_id(), "pidns": _pid_namespace()}


def owner_alive(owner: dict) -> bool:
    """False only when the owner is surely gone: another boot, or no process with its pid and start time
    in our PID namespace (in another namespace we cannot tell, so it counts as alive)."""
    if owner.get("boot") != boot_id():
        return False
    if owner.get("pidns") != _pid_namespace():
        return True
    pid = owner.get("pid")
    return isinstance(pid, int) and _start_time(pid) == owner.get("start")


def read_owner(path: Path) -> dict | None:
    """The owner record in ``path``; None if it is missing, unreadable, torn or not ours (never judged)."""
    try:
        if path.lstat().st_uid != os.geteuid():
            return None
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None
