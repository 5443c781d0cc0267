"""Run untrusted programs (model-written code, test binaries, and the compiler working on them) contained.

This is the product's security boundary, for the compiler too: ``include_str!("/etc/shadow")``,
``#[path = ..] mod``, a build script or a proc macro run code or read files at compile time, so rustc,
cargo and the interpreter get the same walls as the programs they build. Each run has:

* a wall-clock timeout that kills the whole process group (and, under bubblewrap, the whole PID
  namespace, so grandchildren die too);
* rlimits for CPU time, address space, file size and, as an unprivileged user, process count;
* under bubblewrap, a file system that holds only what a build needs, read-only: the system's
  programs and libraries (:data:`SYSTEM_DIRS`), the Rust toolchain (rustc's sysroot), the interpreter
  (its prefixes and site-packages, wherever they are: a venv under /tmp or the home folder too), a
  synthetic /etc (passwd and group, the dynamic linker's cache; no shadow), the work folder
  (writable) at :data:`SANDBOX_WORKDIR` and a private /tmp; no network, fresh PID/IPC/UTS namespaces;
* an unprivileged user: as root, ``setpriv`` to :data:`BUILDER_UID` for the compiler and
  :data:`NOBODY_UID` for programs (real host uids: a host file a bind shows by mistake is read as
  ``other``, not as its owner), else bubblewrap's user namespace;
* a disk quota: the private /tmp is a tmpfs of ``disk_bytes``, and a work folder made by
  :func:`workspace` is a tmpfs of its own quota (as root), so a program that writes 10 GB fails with
  ``disk-quota`` instead of filling the disk. What that run wrote is removed;
* afterwards, the links, FIFOs and sockets the run left in the work folder are removed: the host
  writes into it next (a project's next candidate) and must not write through a link to a host file.

Work folders carry an owner file (pid, start time, boot): after a ``kill -9`` they are removed, and
their tmpfs unmounted, by the next process that opens one (:func:`sweep_leftovers`), never one whose
owner still runs; ``sleepy-*`` folders without one go once idle for an hour and used by no process.
Where bubblewrap is missing we say so once and fall back to rlimits alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO

from sleepy.files import OWNER_FILE, owned_temp_folder, owner_alive, read_owner

NOBODY_UID = 65534
BUILDER_UID = 65533
"""The compiler's user: not ``nobody``, so that its threads do not count against programs' process limit."""
SANDBOX_WORKDIR = "/tmp/work"
PREFIX = "sleepy-"

SYSTEM_DIRS = ("/usr/bin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/libexec", "/usr/include",
               "/usr/share/cargo/registry", "/usr/share/zoneinfo")
"""Measured: rustc, its linker and Python need /usr/bin, /usr/lib and /usr/lib64 (the dynamic loader). The rest
is for builds elsewhere: gcc's helpers (/usr/libexec on Fedora), C headers (build scripts using the cc
crate), Debian's crate registry (source replacement), time zones (Python's zoneinfo)."""
TOP_LINKS = ("/bin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/alternatives")
"""From the host's /etc only the dynamic loader's cache and the alternatives links (``cc`` is one)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run."""

    wall_s: float = 10.0
    cpu_s: int = 10
    mem_bytes: int = 1 << 30
    fsize_bytes: int = 1 << 20
    nproc: int = 64
    output_bytes: int = 64 * 1024
    drop_privileges: bool = True
    disk_bytes: int = 256 << 20  # the private /tmp's size; a workspace opened for these limits gets as much
    uid: int = NOBODY_UID


COMPILER_LIMITS = Limits(wall_s=30.0, cpu_s=30, mem_bytes=4 << 30, fsize_bytes=256 << 20, nproc=1024,
                         uid=BUILDER_UID)
"""rustc works on untrusted input (macros read files, build scripts run): generous limits, same walls."""

PROGRAM_LIMITS = Limits()
"""Model-written programs and test binaries: tight limits."""


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    output_truncated: bool = False
    violation: str | None = None
    argv: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.violation is None


@cache
def bubblewrap() -> str | None:
    """Path of a working ``bwrap``, or None (warned about once)."""
    path = shutil.which("bwrap")
    if path is not None:
        true = "/bin/true" if os.path.exists("/bin/true") else "true"  # PATH may hold only the sandbox's tools
        probe = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-net", true],
                               capture_output=True, timeout=10)
        if probe.returncode == 0:
            return path
    warnings.warn("bubblewrap (bwrap) is not available or not permitted here: sandboxed runs fall back to "
                  "rlimits only (no network or file-system isolation). Install it: apt-get install "
                  "bubblewrap", RuntimeWarning, stacklevel=2)
    return None


def _can_drop_privileges() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


@cache
def _setpriv() -> str:
    """setpriv's real path (under /usr, so inside the view even where PATH points elsewhere)."""
    return os.path.realpath(shutil.which("setpriv") or "setpriv")


# ---------------------------------------------------------------------------------------------- the view
@cache
def _rust_sysroot() -> Path | None:
    """rustc's sysroot (its binaries and std): the only part of ``~/.rustup`` / ``~/.cargo`` a build needs."""
    rustc = shutil.which("rustc")
    if rustc is None:
        return None
    try:
        out = subprocess.run([rustc, "--print", "sysroot"], capture_output=True, text=True, timeout=30, check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    return Path(out.stdout.strip())


def _interpreter_dirs() -> set[Path]:
    """Where the interpreter lives: its prefixes (a venv's and its base's), site-packages and binary, each as
    named and as resolved (a venv's ``python`` is a link to the base interpreter elsewhere)."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, os.path.dirname(sys.executable)}
    with contextlib.suppress(AttributeError):
        dirs.update(site.getsitepackages())
    return {q for d in dirs if d for q in (Path(d), Path(d).resolve())}


def _collapse(paths: set[Path], covered: tuple[str, ...]) -> list[Path]:
    """The existing ``paths`` not inside another one or inside ``covered``, shortest first. A path above a
    covered one (the prefix ``/usr`` of the system's Python or rustc) is dropped too: its files are in the
    covered folders, and binding it whole would show all of ``/usr``."""
    out: list[Path] = []
    for p in sorted((p for p in paths if p.is_absolute() and p.exists()), key=lambda p: (len(p.parts), p)):
        if any(p.is_relative_to(q) for q in [*map(Path, covered), *out]) or any(
                Path(c).is_relative_to(p) for c in covered):
            continue
        out.append(p)
    return out


def _binds(paths: list[Path], made: set[Path]) -> list[str]:
    """Binds of ``paths`` at the same place, each missing parent made first as 0755: bubblewrap makes them
    0700, which the unprivileged user cannot pass (the interpreter then silently loads the system's
    libpython and misses its own site-packages)."""
    args: list[str] = []
    for p in paths:
        for parent in reversed(p.parents):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
        made.add(p)
        args += ["--ro-bind", str(p), str(p)]
    return args


@cache
def _system_view() -> tuple[str, ...]:
    """The read-only part of the view that does not change within a process (system, /etc, toolchains);
    ``/tmp`` is a placeholder: the private tmpfs goes there, with the binds below it after."""
    made = {Path("/")}
    args = _binds(_collapse({Path(d) for d in SYSTEM_DIRS}, ()), made)
    for link in TOP_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += _binds([Path(link)], made)
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", name, name]
    args += ["--dev", "/dev", "--proc", "/proc", "\0tmp"]
    made |= {Path("/etc"), Path("/dev"), Path("/proc"), Path("/tmp")}
    needed = _interpreter_dirs()
    sysroot = _rust_sysroot()
    if sysroot is not None:
        needed |= {sysroot, sysroot.resolve()}
    covered = (*SYSTEM_DIRS, *TOP_LINKS, "/etc", "/dev", "/proc", "/sys")
    return (*args, *_binds(_collapse(needed, covered), made))


def _identity_data() -> tuple[bytes, bytes]:
    """/etc/passwd and /etc/group of the sandbox: root, the builder, nobody; nothing of the host's."""
    users = [("root", 0, "/root"), ("sleepy-build", BUILDER_UID, SANDBOX_WORKDIR),
             ("nobody", NOBODY_UID, SANDBOX_WORKDIR)]
    passwd = "".join(f"{n}:x:{u}:{u}:{n}:{h}:/bin/false\n" for n, u, h in users)
    group = "".join(f"{'nogroup' if u == NOBODY_UID else n}:x:{u}:\n" for n, u, _ in users)
    return passwd.encode(), group.encode()


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _bwrap_argv(bwrap: str, workdir: Path, limits: Limits, root_drop: bool) -> tuple[list[str], list[int]]:
    """The bubblewrap command line of one run and the descriptors it reads (the synthetic /etc files)."""
    passwd, group = _identity_data()
    fds = [_memfd("passwd", passwd), _memfd("group", group)]
    tmp = ["--perms", "1777", "--size", str(limits.disk_bytes), "--tmpfs", "/tmp"]
    view = [arg for part in _system_view() for arg in (tmp if part == "\0tmp" else [part])]
    argv = [bwrap, *view, "--perms", "0644", "--ro-bind-data", str(fds[0]), "/etc/passwd",
            "--perms", "0644", "--ro-bind-data", str(fds[1]), "/etc/group"]
    if not root_drop and limits.drop_privileges:
        argv += ["--unshare-user", "--uid", str(limits.uid), "--gid", str(limits.uid)]
    # The work folder appears at a fixed path: its real parents may be closed to the sandbox's user.
    argv += ["--bind", str(workdir), SANDBOX_WORKDIR, "--chdir", SANDBOX_WORKDIR,
             "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
             "--die-with-parent", "--new-session", "--setenv", "HOME", SANDBOX_WORKDIR, "--setenv", "TMPDIR", "/tmp"]
    return argv, fds


# ---------------------------------------------------------------------------------------------- running
def _limit_setter(limits: Limits, root_drop: bool):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.mem_bytes, limits.mem_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.fsize_bytes, limits.fsize_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if limits.nproc and root_drop:  # counted per real user: only meaningful for a user of our own
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.nproc, limits.nproc))
    return apply


def _walk(workdir: Path) -> dict[str, int]:
    """Every path under ``workdir`` and its file type (``S_IFMT``), links not followed."""
    seen: dict[str, int] = {}
    for top, dirs, files in os.walk(workdir):
        for name in (*dirs, *files):
            path = os.path.join(top, name)
            with contextlib.suppress(OSError):
                seen[path] = stat.S_IFMT(os.lstat(path).st_mode)
    return seen


def _give(workdir: Path, uid: int | None) -> dict[str, int]:
    """What ``workdir`` holds before a run (to tell afterwards what the run made), each path handed to
    ``uid`` when we drop to it: the run's user owns its work folder and nothing else."""
    seen = _walk(workdir)
    if uid is not None:
        for path in (str(workdir), *seen):
            with contextlib.suppress(OSError):
                if os.lstat(path).st_uid != uid:
                    os.lchown(path, uid, uid)
    return seen


def _disarm(workdir: Path, before: dict[str, int]) -> None:
    """Remove the links, FIFOs and sockets a run left where there were none: we write into this folder
    later (a project's next candidate), and ``src/lib.rs -> /etc/passwd`` would be written through as
    root, a FIFO would block the writer."""
    for path, kind in _walk(workdir).items():
        if kind not in (stat.S_IFREG, stat.S_IFDIR) and before.get(path) != kind:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _remove_new(workdir: Path, before: dict[str, int]) -> None:
    """Delete what a run added to ``workdir`` (after it filled its quota: the folder must stay usable)."""
    for top, dirs, files in os.walk(workdir, topdown=True):
        for name in files:
            path = os.path.join(top, name)
            if path not in before:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        for name in list(dirs):
            path = os.path.join(top, name)
            if path not in before:
                shutil.rmtree(path, ignore_errors=True)
                dirs.remove(name)


def _read_capped(fh: IO[bytes], cap: int) -> tuple[str, bool]:
    fh.seek(0)
    data = fh.read(cap + 1)
    return data[:cap].decode("utf-8", errors="replace"), len(data) > cap


def run(argv: list[str], workdir: Path, limits: Limits = PROGRAM_LIMITS,
        env: dict[str, str] | None = None) -> RunResult:
    """Run ``argv`` inside ``workdir`` under the sandbox; never raises for what the program does."""
    workdir = workdir.resolve()
    root_drop = limits.drop_privileges and _can_drop_privileges()
    before = _give(workdir, limits.uid if root_drop else None)
    full, fds = list(argv), []
    if root_drop:
        full = [_setpriv(), f"--reuid={limits.uid}", f"--regid={limits.uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--", *full]
    bw = bubblewrap()
    if bw is not None:
        wrap, fds = _bwrap_argv(bw, workdir, limits, root_drop)
        full = wrap + full
    run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(workdir),
               "PYTHONDONTWRITEBYTECODE": "1", "RUST_BACKTRACE": "0"}
    run_env.update(env or {})
    start = time.perf_counter()
    timed_out = False
    # Output goes to unnamed files outside the work folder: not in its quota, nothing left after a kill.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(full, cwd=workdir, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    env=run_env, preexec_fn=_limit_setter(limits, root_drop),
                                    start_new_session=True, pass_fds=fds)
        finally:
            for fd in fds:
                os.close(fd)
        try:
            returncode = proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            returncode = proc.wait()
        duration = time.perf_counter() - start
        stdout, trunc_out = _read_capped(out, limits.output_bytes)
        stderr, trunc_err = _read_capped(err, limits.output_bytes)
        hit_fsize = any(os.fstat(f.fileno()).st_size >= limits.fsize_bytes for f in (out, err))
    violation = "output-limit" if hit_fsize and not timed_out else _violation(
        returncode, timed_out, stderr, _quota_full(workdir))
    if violation == "disk-quota":
        _remove_new(workdir, before)
    _disarm(workdir, before)
    return RunResult(returncode=returncode, stdout=stdout, stderr=stderr, duration_s=duration,
                     timed_out=timed_out, output_truncated=trunc_out or trunc_err, violation=violation,
                     argv=full)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


_NO_SPACE = "No space left on device"  # strerror(ENOSPC), as Python's OSError and Rust's io::Error print it


def _violation(returncode: int, timed_out: bool, stderr: str, quota_full: bool = False) -> str | None:
    """Name the limit a run hit, so reports say 'timeout' rather than 'exit -9'."""
    if timed_out:
        return "timeout"
    if returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return "cpu-limit"
    if returncode in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ):
        return "output-limit"
    if quota_full or _NO_SPACE in stderr:
        return "disk-quota"
    if "MemoryError" in stderr or "memory allocation of" in stderr:
        return "memory-limit"
    return None


# ---------------------------------------------------------------------------------------------- workspaces
_QUOTAS: dict[Path, int] = {}
"""Work folders that are a tmpfs of their own (path -> quota in bytes)."""
_SWEPT = threading.Event()
MNT_DETACH = 2
MS_NOSUID, MS_NODEV = 2, 4


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


@cache
def _warn_no_quota(reason: str) -> None:
    warnings.warn(f"work folders have no disk quota here ({reason}): a program can fill the disk up to the "
                  "file-size limit per file", RuntimeWarning, stacklevel=3)


def _mount_tmpfs(path: Path, size: int) -> bool:
    """Mount a tmpfs of ``size`` bytes on ``path`` (root only); False, warned once, where that is refused."""
    if os.geteuid() != 0:
        _warn_no_quota("not root")
        return False
    opts = f"size={size},mode=0755".encode()
    if _libc().mount(b"tmpfs", str(path).encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts) != 0:
        _warn_no_quota(os.strerror(ctypes.get_errno()))
        return False
    return True


def _unmount(path: Path) -> None:
    if os.path.ismount(path):
        _libc().umount2(str(path).encode(), MNT_DETACH)


def _quota_full(workdir: Path) -> bool:
    """Whether the workspace tmpfs ``workdir`` is in is (all but) full after a run."""
    for p in (workdir, *workdir.parents):
        if p in _QUOTAS:
            st = os.statvfs(p)
            return st.f_bavail * st.f_frsize < max(64 << 10, _QUOTAS[p] // 200)
    return False


ORPHAN_AGE_S = 3600.0
"""An ``sleepy-*`` folder without an owner file is swept once nothing in it changed for this long (and no
process uses it). Such folders are made by code older than the owner file (measured: 56 in this host's /tmp,
1 to 7 hours old, left by killed verifications and builds) and by other ``sleepy-*`` temp folders (a share
skill exported for loading, a throwaway PostgreSQL cluster); a folder being made has its owner file within
microseconds, and a verification's work folder lives at most its wall-clock limit (30 s)."""
_WALK_CAP = 10_000  # entries looked at per ownerless folder; a bigger tree is left alone


def _idle_for(folder: Path, now: float) -> float:
    """Seconds since anything in ``folder`` last changed (links not followed); 0 for a tree too big to tell."""
    newest, seen = os.lstat(folder).st_mtime, 0
    for top, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            seen += 1
            if seen > _WALK_CAP:
                return 0.0
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(top, name))
                newest = max(newest, st.st_mtime, st.st_ctime)
    return now - newest


def _in_use(folders: list[Path]) -> set[Path]:
    """Those of ``folders`` that a process we can see has as its working folder or root, or holds a file of
    open (a live PostgreSQL server's data folder, a compiler of older code still running)."""
    used: set[Path] = set()
    with contextlib.suppress(OSError), os.scandir("/proc") as procs:
        for proc in procs:
            if not proc.name.isdigit():
                continue
            links = [f"{proc.path}/cwd", f"{proc.path}/root"]
            with contextlib.suppress(OSError):
                links += [f"{proc.path}/fd/{fd}" for fd in os.listdir(f"{proc.path}/fd")]
            for link in links:
                try:
                    target = os.readlink(link)
                except OSError:
                    continue
                used.update(f for f in folders if target == str(f) or target.startswith(f"{f}/"))
    return used


def _ownerless_orphans(candidates: list[Path], now: float) -> list[Path]:
    """The ownerless folders safe to remove: ours, no mount on them, idle :data:`ORPHAN_AGE_S`, used by no one."""
    idle = []
    for folder in candidates:
        try:
            if folder.lstat().st_uid != os.geteuid() or os.path.ismount(folder) or os.path.ismount(folder / "work"):
                continue
            if _idle_for(folder, now) >= ORPHAN_AGE_S:
                idle.append(folder)
        except OSError:
            continue
    busy = _in_use(idle) if idle else set()
    return [f for f in idle if f not in busy]


def sweep_leftovers(tmp: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove the workspaces (``sleepy-*`` with an owner file) whose owner is dead, unmounting their tmpfs,
    and the ownerless ``sleepy-*`` folders left long ago (:data:`ORPHAN_AGE_S`).

    Never a folder a live process uses: an owner file names its owner, checked by pid and start time; a folder
    without one (being made, or made by older code) must be ours, idle for an hour and no process's working
    folder, root or open file. ``now``: the time idleness is measured to (a test's clock)."""
    removed, ownerless = [], []
    base = Path(tmp or tempfile.gettempdir())
    with contextlib.suppress(OSError), os.scandir(base) as entries:
        for entry in entries:
            if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            folder = Path(entry.path)
            if not (folder / OWNER_FILE).exists():
                ownerless.append(folder)
                continue
            owner = read_owner(folder / OWNER_FILE)  # not ours: None, never judged, never removed
            if owner is None or owner_alive(owner):
                continue
            _unmount(folder / "work")
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    for folder in _ownerless_orphans(ownerless, time.time() if now is None else now):
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def open_workspace(prefix: str = PREFIX, quota_bytes: int = PROGRAM_LIMITS.disk_bytes) -> Path:
    """A new private work folder: a tmpfs of ``quota_bytes`` where we may mount one, owned by this process.

    The first call in a process removes the workspaces that killed processes left behind."""
    if not _SWEPT.is_set():
        _SWEPT.set()
        sweep_leftovers()
    root = owned_temp_folder(prefix if prefix.startswith(PREFIX) else PREFIX + prefix)
    work = root / "work"
    work.mkdir()
    if _mount_tmpfs(work, quota_bytes):
        _QUOTAS[work] = quota_bytes
    return work


def close_workspace(work: Path) -> None:
    """Unmount and remove a folder made by :func:`open_workspace` (and only such a folder)."""
    _QUOTAS.pop(work, None)
    if not work.parent.exists():
        return  # closed already
    if work.name != "work" or not (work.parent / OWNER_FILE).exists():
        raise ValueError(f"{work} is not a sandbox workspace")
    _unmount(work)
    shutil.rmtree(work.parent, ignore_errors=True)


@contextlib.contextmanager
def workspace(prefix: str = PREFIX, quota_bytes: int = PROGRAM_LIMITS.disk_bytes) -> Iterator[Path]:
    """:func:`open_workspace` for the length of a ``with`` block."""
    work = open_workspace(prefix, quota_bytes)
    try:
        yield work
    finally:
        close_workspace(work)
