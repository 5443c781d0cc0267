"""Verify a project: ``cargo check`` (every target, tests included) or the Python tests, in the sandbox.

The project is copied once into a private work folder (the user's folder is never written: ``target/``
and caches land in the copy), each candidate's files are written into the copy, and the build runs
under the sandbox with the copy as its only writable folder, no network and the compiler's limits:
``build.rs`` scripts, proc macros and tests are code. Cargo runs offline with its own home in the
copy. The diagnostics name the file each span is in, relative to the project root.
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path

from sleepy.tasks import sandbox
from sleepy.tasks.project.detect import SKIP_DIRS, Project, ProjectError, detect_project
from sleepy.tasks.signature import Diagnostic, Span, parse_python_traceback, parse_rustc_json
from sleepy.tasks.verify import ToolchainMissing, VerifyResult, rustc_path

BUILD_LIMITS = dataclasses.replace(sandbox.COMPILER_LIMITS, wall_s=300.0, cpu_s=600, output_bytes=8 << 20,
                                   fsize_bytes=1 << 30, disk_bytes=2 << 30)
"""A project build compiles more than one file: minutes, not seconds, and a long JSON stream."""


def cargo_path() -> str:
    """The toolchain's cargo (past the rustup shim); ToolchainMissing with how to install it."""
    real = Path(rustc_path()).parent / "cargo"
    if real.is_file():
        return str(real)
    found = shutil.which("cargo")
    if found is None:
        raise ToolchainMissing("cargo not found: install Rust with cargo (apt-get install cargo, or rustup)")
    return found


@dataclasses.dataclass
class ProjectBuild:
    """A private copy of a project that candidates are written into and verified in, one at a time."""

    project: Project
    folder: Path
    files: dict[str, str]  # what the copy holds now
    tests: bool = False  # Cargo: also check the test and example targets (benches may need nightly)
    timeout_s: float | None = None  # wall-clock limit of one build (None: BUILD_LIMITS' own)
    keep: Path | None = None  # where Cargo's target/ is kept between runs (outside the project)
    built: dict[str, str] | None = None  # the sources as the last build saw them (what target/ describes)
    kept_from: dict[str, str] | None = None  # digests of the sources the kept target/ was built from

    @classmethod
    def open(cls, project: Project, tests: bool = False, timeout_s: float | None = None,
             keep: Path | None = None) -> ProjectBuild:
        """A fresh private copy; with ``keep``, Cargo's ``target/`` of the last run is put back into it.

        Why keep it: the copy always sits at the same path inside the sandbox and file times are
        copied, so Cargo's fingerprints of the last run still hold and an unchanged crate checks warm
        (0.07 s for semver instead of 1.1 s cold). The user's own ``target/`` is never used: it was
        built at another path and would be stale for every unit."""
        folder = sandbox.open_workspace("sleepy-fix-", BUILD_LIMITS.disk_bytes)  # target/ too: a quota
        ignore = shutil.ignore_patterns(*SKIP_DIRS)
        kept_from = None
        try:
            if project.single_file:
                (folder / "src").mkdir()
                for rel in project.files:
                    shutil.copy2(project.root / rel, folder / "src" / rel)
            else:
                shutil.copytree(project.root, folder / "src", ignore=ignore, symlinks=True)
            kept = keep / "target" if keep and project.kind == "cargo" else None
            if kept and kept.is_dir():
                shutil.copytree(kept, folder / "src" / "target", symlinks=True)
                kept_from = _touch_changed(folder / "src", project.files, folder / "src" / "target" / BUILT_FROM)
        except OSError as exc:
            sandbox.close_workspace(folder)
            raise ProjectError(f"{project.root}: cannot copy the project ({exc})") from None
        return cls(project, folder, dict(project.files), tests, timeout_s, keep if project.kind == "cargo" else None,
                   kept_from=kept_from)

    @property
    def work(self) -> Path:
        return self.folder / "src"

    def close(self) -> None:
        """Keep ``target/`` (whole or not at all: a copy beside it, then a rename) with the digest of each
        source it was last built from, and remove the copy."""
        target = self.work / "target"
        if self.keep is not None and self.built is not None and target.is_dir():
            self._save_target(target)
        sandbox.close_workspace(self.folder)

    def _save_target(self, target: Path) -> None:
        digests = {rel: _digest(text) for rel, text in self.built.items()}
        if digests == self.kept_from:
            return  # built from the same sources as the kept one: nothing new to save
        fresh = self.keep / f"target.new-{os.getpid()}"
        try:
            shutil.rmtree(fresh, ignore_errors=True)
            self.keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(target, fresh, symlinks=True)
            (fresh / BUILT_FROM).write_text(json.dumps(digests))
            old = self.keep / f"target.old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            if (self.keep / "target").exists():
                (self.keep / "target").rename(old)
            fresh.rename(self.keep / "target")
            shutil.rmtree(old, ignore_errors=True)
        except OSError:
            shutil.rmtree(fresh, ignore_errors=True)  # a cache: the next run builds cold, nothing is lost

    def write(self, files: dict[str, str]) -> None:
        """Put ``files`` into the copy (only those that differ from what it holds)."""
        for rel, text in files.items():
            if self.files.get(rel) != text:
                (self.work / rel).write_bytes(text.encode("utf-8"))
                self.files[rel] = text

    def check(self, files: dict[str, str] | None = None) -> VerifyResult:
        """Verify the project with ``files`` (changed files only) written over the copy."""
        self.write(files or {})
        self.built = dict(self.files)
        if self.project.kind == "cargo":
            return _cargo(self.work, self.tests, self.timeout_s)
        return _python(self.work, self.project, self.timeout_s)


BUILT_FROM = "sleepy-built-from.json"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _touch_changed(work: Path, files: dict[str, str], record: Path) -> dict[str, str]:
    """Mark as new every source whose text differs from what the kept ``target/`` was built from.

    Cargo judges freshness by file times, and the copy carries the user's times: a file that is older
    than the last build but not what it built (that build was of a candidate edit, say) would pass as
    fresh. Touching it makes Cargo rebuild what depends on it, and only that."""
    try:
        seen = json.loads(record.read_text())
    except (OSError, ValueError):
        seen = {}
    for rel, text in files.items():
        if seen.get(rel) != _digest(text) and (work / rel).exists():
            os.utime(work / rel)
    return seen


_NETWORK = re.compile(r"offline|network|failed to (get|download|load source)|no matching package|"
                      r"failed to select a version|unable to update registry", re.I)


def unbuildable(verdict: VerifyResult) -> str | None:
    """Why a project cannot be built at all (not a repairable error), in one line; None when it can be.

    A build that does not finish, or a Cargo build that stops before rustc says anything (a dependency
    it would have to download, a broken manifest), is not something an edit to the sources fixes."""
    if verdict.passed or not verdict.diagnostics:
        return None
    first = verdict.diagnostics[0]
    if first.key.endswith(":timeout") or first.key.endswith(":cpu-limit"):
        return (f"the build did not finish within its limits ({first.key.split(':')[-1]}): a build script, "
                "proc macro or test that hangs?")
    if first.key.startswith("rust:cargo:"):
        if _NETWORK.search(first.message + verdict.output[-2000:]):
            return f"the build needs the network (it runs offline): {first.message}"
        return f"cargo stopped before compiling: {first.message}"
    return None


def restrict(diag: Diagnostic, file: str) -> Diagnostic:
    """``diag`` with only what is in ``file``: hints are applied to one file at a time."""
    return dataclasses.replace(diag, spans=[s for s in diag.spans if s.file == file],
                               fixits=[f for f in diag.fixits if f.file in (None, file)],
                               helps=[(m, [s for s in spans if s.file == file]) for m, spans in diag.helps])


_POOL: dict[tuple[str, int], ProjectBuild] = {}
_POOL_LOCK = threading.Lock()


def _close_pool() -> None:
    with _POOL_LOCK:
        for build in _POOL.values():
            build.close()
        _POOL.clear()


def verify_in_project(project_root: str, file: str, candidate: str) -> VerifyResult:
    """``candidate`` as the text of ``file`` of the project at ``project_root``, the rest as it is.

    Each verifier thread keeps its own copy of the project (its build cache warm across calls);
    the diagnostics in ``file`` come first, each reduced to what is in ``file`` (where an edit can go)."""
    key = (project_root, threading.get_ident())
    with _POOL_LOCK:
        build = _POOL.get(key)
    if build is None:
        build = ProjectBuild.open(detect_project(Path(project_root)))
        with _POOL_LOCK:
            if not _POOL:
                atexit.register(_close_pool)
            _POOL[key] = build
    if file not in build.project.files:
        raise ProjectError(f"{project_root}: no file {file!r} in the project")
    result = build.check({file: candidate})
    build.write({file: build.project.files[file]})
    inside = [d for d in result.diagnostics if any(s.file == file for s in d.spans)]
    outside = [d for d in result.diagnostics if d not in inside]
    result.diagnostics = [restrict(d, file) for d in inside] + outside
    return result


def _cargo(work: Path, tests: bool, timeout_s: float | None = None) -> VerifyResult:
    env = {"CARGO_HOME": f"{sandbox.SANDBOX_WORKDIR}/.cargo-home", "RUSTC": rustc_path(),
           "CARGO_TARGET_DIR": f"{sandbox.SANDBOX_WORKDIR}/target", "CARGO_TERM_COLOR": "never",
           "CARGO_NET_OFFLINE": "true"}
    targets = ["--lib", "--bins", "--tests", "--examples"] if tests else []
    limits = dataclasses.replace(BUILD_LIMITS, wall_s=timeout_s) if timeout_s else BUILD_LIMITS
    ran = sandbox.run([cargo_path(), "check", "--offline", *targets, "--message-format=json", "-q"], work,
                      limits, env=env)
    if ran.ok:  # cargo's artifact records: whether each unit was fresh (the kept target/ at work)
        return VerifyResult(True, [], ran.duration_s, "check", ran.stdout[-4000:])
    records = []
    for line in ran.stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("reason") == "compiler-message":
            records.append(json.dumps(record.get("message", {})))  # rustc's own diagnostic, as rustc prints it
    diags = _unique(parse_rustc_json("\n".join(records)))
    for d in diags:
        d.spans = [dataclasses.replace(s, file=_relative(s.file)) for s in d.spans]
        d.fixits = [dataclasses.replace(f, file=_relative(f.file)) if f.file else f for f in d.fixits]
        d.helps = [(m, [dataclasses.replace(s, file=_relative(s.file)) for s in spans]) for m, spans in d.helps]
    if not diags:
        tail = (ran.stderr or ran.stdout)[-400:].strip().splitlines()
        what = ran.violation or "failed"
        reason = tail[-1] if tail else f"cargo exited {ran.returncode}"
        diags = [Diagnostic(key=f"rust:cargo:{what}", code="cargo", message=reason)]
    return VerifyResult(False, diags, ran.duration_s, "check", ran.stderr[-2000:])


def _unique(diags: list[Diagnostic]) -> list[Diagnostic]:
    """cargo checks the library once per target (lib, lib test): the same error comes twice."""
    seen, out = set(), []
    for d in diags:
        key = (d.key, d.message, tuple((s.file, s.line_start, s.col_start) for s in d.spans[:1]))
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _relative(file: str) -> str:
    prefix = sandbox.SANDBOX_WORKDIR + "/"
    return file[len(prefix):] if file.startswith(prefix) else file


def _python(work: Path, project: Project, timeout_s: float | None = None) -> VerifyResult:
    began = time.perf_counter()
    compiled = sandbox.run([sys.executable, "-I", "-m", "py_compile", *sorted(project.files)], work,
                           sandbox.COMPILER_LIMITS)
    if not compiled.ok:
        diag = _project_traceback(compiled.stderr, project)
        return VerifyResult(False, [diag], time.perf_counter() - began, "check", compiled.stderr)
    if project.has_tests:
        argv = [sys.executable, "-m", "pytest", "-x", "-q", "--tb=native", "-p", "no:cacheprovider"]
    elif project.entry:
        argv = [sys.executable, "-I", project.entry]
    else:
        return VerifyResult(True, [], time.perf_counter() - began, "check")
    wall = timeout_s or 120.0
    limits = dataclasses.replace(sandbox.PROGRAM_LIMITS, wall_s=wall, cpu_s=max(1, int(wall)), output_bytes=1 << 20)
    env = {"PYTHONPATH": python_path(project)}
    ran = sandbox.run(argv, work, limits, env)
    if project.has_tests and not ran.ok and _PYTEST_USAGE.search(ran.stdout + ran.stderr):
        ran = sandbox.run([*argv, *PLUGIN_FREE], work, limits, env)
    duration = time.perf_counter() - began
    if ran.ok:
        return VerifyResult(True, [], duration, "test" if project.has_tests else "run", ran.stdout[-2000:])
    text = ran.stderr if "Traceback" in ran.stderr else ran.stdout + "\n" + ran.stderr
    return VerifyResult(False, [_project_traceback(text, project, ran.violation)], duration,
                        "test" if project.has_tests else "run", text[-4000:])


_PYTEST_USAGE = re.compile(r"error: unrecognized arguments|Failed to import filter module|ERROR: usage:")
PLUGIN_FREE = ("-o", "addopts=", "-o", "filterwarnings=")
"""A project's pytest settings that name plugins not installed here (``--cov=...`` in ``addopts``, a
filter on ``coverage`` warnings) stop pytest before it collects a test: the run is repeated without
them, so the project's own tests still decide. Only such a usage error costs the second run."""


def python_path(project: Project) -> str:
    """The import path of the project's own code: its root, and ``src/`` in a src layout (the package is
    not installed in the sandbox, so ``import pkg`` from the tests must find ``src/pkg``)."""
    root = sandbox.SANDBOX_WORKDIR
    src = any(rel.startswith("src/") and rel.count("/") in (1, 2) for rel in project.files) \
        and not any(rel == "src/__init__.py" for rel in project.files)
    return f"{root}/src:{root}" if src else root


_SHORT_FRAME = re.compile(r"^(?P<file>[^\s:][^:]*\.py):(?P<line>\d+): in (?P<where>.+)$")
_SHORT_ERROR = re.compile(r"^E\s+(?P<error>[A-Za-z_][\w.]*(Error|Exception)\b.*)$")


def _native(text: str) -> str:
    """pytest's short report of an error while it collects a test module (``path:line: in <module>``
    frames, ``E   ImportError: ...``), which ``--tb=native`` does not change, as Python's own traceback."""
    frames = [m for line in text.splitlines() if (m := _SHORT_FRAME.match(line))]
    errors = [m.group("error") for line in text.splitlines() if (m := _SHORT_ERROR.match(line))]
    if not errors:
        return text
    body = [f'  File "{m.group("file")}", line {m.group("line")}, in {m.group("where")}' for m in frames]
    return "\n".join(["Traceback (most recent call last):", *body, errors[-1]])


_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')


def _project_traceback(text: str, project: Project, violation: str | None = None) -> Diagnostic:
    """The last traceback in ``text`` (pytest's --tb=native, or Python's own), its span in the deepest
    frame that is a file of the project."""
    if violation:
        return Diagnostic(key=f"py:{violation}", code=violation, message=f"the run hit the {violation}")
    if "Traceback (most recent call last)" not in text:
        text = _native(text)
    lines = text.splitlines()
    start = max((i for i, line in enumerate(lines) if line.startswith("Traceback")), default=0)
    block = []
    for line in lines[start:]:
        block.append(line)
        if block and not line.startswith((" ", "Traceback")) and re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)"
                                                                            r"\b", line):
            break
    span = None
    for line in block:
        m = _FRAME.match(line)
        if m:
            rel = _relative(m.group("file"))
            if rel in project.files:
                n = int(m.group("line"))
                span = Span(rel, n, n, 1, 1)
    diag = parse_python_traceback("\n".join(block), "\0") or Diagnostic(
        key="py:failed", code="failed", message=(block[-1] if block else "the project's check failed")[:200])
    diag.spans = [span] if span else []
    return diag
