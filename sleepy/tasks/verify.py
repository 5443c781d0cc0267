"""Verifiers: does a program (a task's source or a candidate fix) pass, and if not, why.

Rust: ``rustc --edition 2021 --emit=metadata --error-format=json`` type-checks in ~40 ms; a program
with ``#[test]`` functions is built with ``--test`` and its tests run in the sandbox. Python: the
program runs in the sandbox and passes when it exits 0 (its asserts hold).

A candidate that deletes the task's own checks (asserts, ``#[test]`` functions) is rejected as
tampering before anything runs: otherwise "delete the failing assert" would count as a fix.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sleepy.tasks import sandbox
from sleepy.tasks.signature import Diagnostic, parse_python_traceback, parse_rustc_json
from sleepy.tasks.task import Task

RUST_EDITION = "2021"


class ToolchainMissing(RuntimeError):
    """A verifier's toolchain is not installed; the message says how to install it."""


@dataclass
class VerifyResult:
    passed: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    duration_s: float = 0.0
    stage: str = "check"  # check | test | run | tamper
    output: str = ""
    source_sha: str = ""  # sha256 of the program this verdict is about (memory checks it)

    @property
    def signature(self) -> str | None:
        return self.diagnostics[0].key if self.diagnostics else None

    @property
    def primary(self) -> Diagnostic | None:
        return self.diagnostics[0] if self.diagnostics else None


@cache
def rustc_path() -> str:
    """The real rustc binary (past the rustup shim, which costs a few ms per call)."""
    shim = shutil.which("rustc")
    if shim is None:
        raise ToolchainMissing("rustc not found: install Rust (apt-get install rustc, or rustup) to use the "
                               "Rust pack; the Python pack works without it")
    try:
        sysroot = subprocess.run([shim, "--print", "sysroot"], capture_output=True, text=True, timeout=30,
                                 check=True).stdout.strip()
    except (subprocess.SubprocessError, OSError) as exc:
        raise ToolchainMissing(f"rustc found at {shim} but does not run ({exc})") from None
    real = Path(sysroot) / "bin" / "rustc"
    return str(real) if real.is_file() else shim


def _synthetic(key: str, message: str) -> Diagnostic:
    return Diagnostic(key=key, code=key.split(":")[1], message=message)


_TEST_ATTR = re.compile(r"#\[\s*test\s*\]")
_ASSERT = re.compile(r"^\s*assert\b", re.MULTILINE)


def _tampered(task: Task, candidate: str) -> Diagnostic | None:
    if task.pack == "rust":
        before, after = len(_TEST_ATTR.findall(task.source)), len(_TEST_ATTR.findall(candidate))
        if after < before:
            return _synthetic("rust:tamper:tests-removed", f"{before - after} #[test] function(s) removed")
    else:
        before, after = len(_ASSERT.findall(task.source)), len(_ASSERT.findall(candidate))
        if after < before:
            return _synthetic("py:tamper:asserts-removed", f"{before - after} assert statement(s) removed")
    return None


def verify_rust(task: Task, candidate: str) -> VerifyResult:
    rustc = rustc_path()
    has_tests = bool(_TEST_ATTR.search(candidate))
    with tempfile.TemporaryDirectory(prefix="sleepy-rs-") as tmp:
        work = Path(tmp)
        (work / "main.rs").write_text(candidate, encoding="utf-8")
        argv = [rustc, "--edition", RUST_EDITION, "--error-format=json", "-A", "warnings"]
        if has_tests:
            argv += ["--test", "-C", "opt-level=0", "-C", "debuginfo=0", "-o", "tests", "main.rs"]
        else:
            argv += ["--crate-type", task.crate_type, "--emit=metadata", "-o", "out.rmeta", "main.rs"]
        compiled = sandbox.run(argv, work, sandbox.COMPILER_LIMITS)
        if not compiled.ok:
            diags = parse_rustc_json(compiled.stderr, "main.rs")
            if not diags:
                diags = [_synthetic(f"rust:{compiled.violation or 'rustc'}:failed",
                                    compiled.stderr[-500:] or f"rustc exited {compiled.returncode}")]
            return VerifyResult(False, diags, compiled.duration_s, "check", compiled.stderr)
        if not has_tests:
            return VerifyResult(True, [], compiled.duration_s, "check")
        ran = sandbox.run(["./tests", "--test-threads=1"], work, sandbox.PROGRAM_LIMITS)
        duration = compiled.duration_s + ran.duration_s
        if ran.ok:
            return VerifyResult(True, [], duration, "test", ran.stdout)
        failed = re.findall(r"^test (\S+) \.\.\. FAILED", ran.stdout, re.MULTILINE)
        what = ran.violation or "failed"
        return VerifyResult(False, [_synthetic(f"rust:test:{what}", "tests failed: " + ", ".join(failed))],
                            duration, "test", ran.stdout + ran.stderr)


def verify_python(task: Task, candidate: str) -> VerifyResult:
    with tempfile.TemporaryDirectory(prefix="sleepy-py-") as tmp:
        work = Path(tmp)
        (work / "main.py").write_text(candidate, encoding="utf-8")
        ran = sandbox.run([sys.executable, "-I", "main.py"], work, sandbox.PROGRAM_LIMITS)
        if ran.ok:
            return VerifyResult(True, [], ran.duration_s, "run", ran.stdout)
        diag = None if ran.violation else parse_python_traceback(ran.stderr, "main.py")
        if diag is None:
            what = ran.violation or f"exit-{ran.returncode}"
            diag = _synthetic(f"py:{what}", ran.stderr[-500:] or what)
        return VerifyResult(False, [diag], ran.duration_s, "run", ran.stdout + ran.stderr)


def verify(task: Task, candidate: str | None = None) -> VerifyResult:
    """Verify ``candidate`` (default: the task's own source) as a solution of ``task``."""
    candidate = task.source if candidate is None else candidate
    tamper = _tampered(task, candidate)
    if tamper is not None:
        result = VerifyResult(False, [tamper], 0.0, "tamper")
    else:
        result = verify_rust(task, candidate) if task.pack == "rust" else verify_python(task, candidate)
    result.source_sha = hashlib.sha256(candidate.encode("utf-8")).hexdigest()
    return result


def verify_many(items: Iterable[tuple[Task, str | None]], jobs: int = 2) -> list[VerifyResult]:
    """Verify in parallel; results keep the order of ``items``. The work is in subprocesses, so threads do."""
    items = list(items)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda item: verify(*item), items))
