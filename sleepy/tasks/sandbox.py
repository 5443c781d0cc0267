"""Run untrusted programs (model-written code, test binaries) contained.

This is the product's security boundary. Each run happens in its own temporary directory with:

* a wall-clock timeout that kills the whole process group (and, under bubblewrap, the whole PID
  namespace, so grandchildren die too);
* rlimits for CPU time, address space, file size (which also caps output: stdout and stderr go to
  files inside the sandbox) and, when we are root and can drop to ``nobody``, process count;
* bubblewrap where it works: the root file system read-only, the home folder hidden behind an
  empty tmpfs (only the toolchains under it re-bound read-only), no network, fresh PID/IPC/UTS
  namespaces. Where bubblewrap is missing we say so once and fall back to rlimits alone.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

NOBODY_UID = 65534
SANDBOX_WORKDIR = "/tmp/work"


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


COMPILER_LIMITS = Limits(wall_s=30.0, cpu_s=30, mem_bytes=4 << 30, fsize_bytes=256 << 20, nproc=0,
                         drop_privileges=False)
"""rustc is trusted code working on untrusted input: generous limits, runs as the caller."""

PROGRAM_LIMITS = Limits()
"""Model-written programs and test binaries: tight limits, run as ``nobody`` when possible."""


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
        probe = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-net", "true"],
                               capture_output=True, timeout=10)
        if probe.returncode == 0:
            return path
    warnings.warn("bubblewrap (bwrap) is not available or not permitted here: sandboxed runs fall back to "
                  "rlimits only (no network or file-system isolation). Install it: apt-get install "
                  "bubblewrap", RuntimeWarning, stacklevel=2)
    return None


def _can_drop_privileges() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def _needed_toolchains(home: Path) -> set[Path]:
    """Folders sandboxed runs need whatever hides them: the interpreter (its prefix and base prefix, so a
    venv's site-packages too) and the Rust toolchain."""
    needed = {Path(sys.base_prefix), Path(sys.prefix)}
    rustc = shutil.which("rustc")
    if rustc:
        needed.add(Path(rustc).resolve().parent)
    for env in ("RUSTUP_HOME", "CARGO_HOME"):
        if os.environ.get(env):
            needed.add(Path(os.environ[env]))
    return needed | {home / ".rustup", home / ".cargo"}


def _rebinds(hidden: Path, needed: set[Path]) -> list[str]:
    """Read-only binds of the ``needed`` folders under ``hidden`` (a tmpfs over the home folder or /tmp).

    bubblewrap makes the missing parents of a bind with mode 0700, which ``nobody`` cannot pass
    through (the interpreter then silently loads the system's libpython and misses its own
    site-packages): each parent is made 0755 first."""
    args: list[str] = []
    made: set[Path] = set()
    for p in sorted(needed):
        try:
            rel = p.relative_to(hidden)
        except ValueError:
            continue
        if not p.exists() or p == hidden:
            continue
        for k in range(1, len(rel.parts)):
            parent = hidden.joinpath(*rel.parts[:k])
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", str(p), str(p)]
    return args


def _bwrap_argv(bwrap: str, workdir: Path) -> list[str]:
    home = Path.home()
    needed = _needed_toolchains(home)
    argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            *_rebinds(Path("/tmp"), needed)]
    if home != Path("/") and home.exists():
        argv += ["--tmpfs", str(home), *_rebinds(home, needed)]
    # The work folder appears at a fixed path: its real parents may be closed to ``nobody``.
    argv += ["--bind", str(workdir), SANDBOX_WORKDIR, "--chdir", SANDBOX_WORKDIR,
             "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
             "--die-with-parent", "--new-session", "--setenv", "HOME", SANDBOX_WORKDIR]
    return argv


def _limit_setter(limits: Limits):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.mem_bytes, limits.mem_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.fsize_bytes, limits.fsize_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if limits.nproc and limits.drop_privileges and _can_drop_privileges():
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.nproc, limits.nproc))
    return apply


def _read_capped(path: Path, cap: int) -> tuple[str, bool]:
    if not path.exists():
        return "", False
    with path.open("rb") as fh:
        data = fh.read(cap + 1)
    return data[:cap].decode("utf-8", errors="replace"), len(data) > cap


def run(argv: list[str], workdir: Path, limits: Limits = PROGRAM_LIMITS,
        env: dict[str, str] | None = None) -> RunResult:
    """Run ``argv`` inside ``workdir`` under the sandbox; never raises for what the program does."""
    workdir = workdir.resolve()
    out_path, err_path = workdir / ".sandbox.stdout", workdir / ".sandbox.stderr"
    full = list(argv)
    drop = limits.drop_privileges and _can_drop_privileges()
    if drop:
        os.chmod(workdir, 0o777)
        for p in workdir.iterdir():
            os.chmod(p, 0o777 if p.is_dir() else 0o666 | (p.stat().st_mode & 0o111))
        full = ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}", "--clear-groups", "--", *full]
    bw = bubblewrap()
    if bw is not None:
        full = _bwrap_argv(bw, workdir) + full
    run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(workdir),
               "PYTHONDONTWRITEBYTECODE": "1", "RUST_BACKTRACE": "0"}
    run_env.update(env or {})
    start = time.perf_counter()
    timed_out = False
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(full, cwd=workdir, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=run_env, preexec_fn=_limit_setter(limits), start_new_session=True)
        try:
            returncode = proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            returncode = proc.wait()
    duration = time.perf_counter() - start
    stdout, trunc_out = _read_capped(out_path, limits.output_bytes)
    stderr, trunc_err = _read_capped(err_path, limits.output_bytes)
    hit_fsize = any(p.stat().st_size >= limits.fsize_bytes for p in (out_path, err_path))
    violation = "output-limit" if hit_fsize and not timed_out else _violation(returncode, timed_out, stderr)
    return RunResult(returncode=returncode, stdout=stdout, stderr=stderr, duration_s=duration,
                     timed_out=timed_out, output_truncated=trunc_out or trunc_err, violation=violation,
                     argv=full)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _violation(returncode: int, timed_out: bool, stderr: str) -> str | None:
    """Name the limit a run hit, so reports say 'timeout' rather than 'exit -9'."""
    if timed_out:
        return "timeout"
    if returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return "cpu-limit"
    if returncode in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ):
        return "output-limit"
    if "MemoryError" in stderr or "memory allocation of" in stderr:
        return "memory-limit"
    return None
