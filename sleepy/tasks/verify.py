"""Verifiers: does a program (a task's source or a candidate fix) pass, and if not, why.

Rust: ``rustc --edition 2021 --emit=metadata --error-format=json`` type-checks in ~40 ms; a program
with ``#[test]`` functions is built with ``--test`` and its tests run in the sandbox; a program with
``fn main`` that type-checks is then built and run in the sandbox too, and passes only if it exits 0
(a fix that compiles but panics on ``None.unwrap()`` is no fix), unless the task says
``check_only = true``. Python: the program runs in the sandbox and passes when it exits 0 (its
asserts hold).

A candidate that tampers with the task (deletes or weakens its asserts or tests, adds ``unsafe``,
``#[allow(..)]``, ``todo!()``, an early exit, ``except: pass``, or hard-codes what the checks expect;
see :mod:`sleepy.tasks.tamper`) is refused before anything runs, as the failure
``<pack>:tamper:<kind>``: otherwise "delete the failing assert" would count as a fix, and go on to
memory, training data and the gate.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sleepy.tasks import sandbox
from sleepy.tasks.signature import TRACE_FRAME, Diagnostic, Span, parse_python_traceback, parse_rustc_json, rust_key
from sleepy.tasks.tamper import describe, tampering
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
_MAIN_FN = re.compile(r"\bfn\s+main\s*\(")
_PANIC = re.compile(r"panicked at (?:[^:\n]*/)?main\.rs:(\d+):(\d+):\n(.*)")


def tamper_verdict(task: Task, candidate: str) -> VerifyResult | None:
    """The refusal of a candidate that tampers with ``task`` (one diagnostic per kind), else None.

    :func:`verify` calls it before anything runs; a caller with a verifier of its own (``sleepy fix``
    builds the project) calls it first too, so that no path accepts tampering."""
    kinds = tampering(task.source, candidate, task.pack)
    if not kinds:
        return None
    prefix = "rust" if task.pack == "rust" else "py"
    return VerifyResult(False, [_synthetic(f"{prefix}:tamper:{kind}", describe([kind])) for kind in kinds], 0.0,
                        "tamper")


def verify_rust(task: Task, candidate: str) -> VerifyResult:
    rustc = rustc_path()
    has_tests = bool(_TEST_ATTR.search(candidate))
    with sandbox.workspace("sleepy-rs-", sandbox.COMPILER_LIMITS.disk_bytes) as work:
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
            if task.check_only or task.crate_type != "bin" or not _MAIN_FN.search(candidate):
                return VerifyResult(True, [], compiled.duration_s, "check")
            return _run_rust_main(rustc, work, compiled.duration_s)
        ran = sandbox.run(["./tests", "--test-threads=1"], work, sandbox.PROGRAM_LIMITS)
        duration = compiled.duration_s + ran.duration_s
        if ran.ok:
            return VerifyResult(True, [], duration, "test", ran.stdout)
        failed = re.findall(r"^test (\S+) \.\.\. FAILED", ran.stdout, re.MULTILINE)
        what = ran.violation or "failed"
        return VerifyResult(False, [_synthetic(f"rust:test:{what}", "tests failed: " + ", ".join(failed))],
                            duration, "test", ran.stdout + ran.stderr)


def _run_rust_main(rustc: str, work: Path, checked_s: float) -> VerifyResult:
    """Build the type-checked program and run it: it passes when it exits 0."""
    argv = [rustc, "--edition", RUST_EDITION, "--error-format=json", "-A", "warnings", "-C", "opt-level=0",
            "-C", "debuginfo=0", "-o", "prog", "main.rs"]
    built = sandbox.run(argv, work, sandbox.COMPILER_LIMITS)
    duration = checked_s + built.duration_s
    if not built.ok:
        diags = parse_rustc_json(built.stderr, "main.rs") or [
            _synthetic(f"rust:{built.violation or 'link'}:failed", built.stderr[-500:] or "the build failed")]
        return VerifyResult(False, diags, duration, "check", built.stderr)
    ran = sandbox.run(["./prog"], work, sandbox.PROGRAM_LIMITS)
    duration += ran.duration_s
    if ran.ok:
        return VerifyResult(True, [], duration, "run", ran.stdout)
    return VerifyResult(False, [_panic_diagnostic(ran)], duration, "run", ran.stdout + ran.stderr)


def _panic_diagnostic(ran: sandbox.RunResult) -> Diagnostic:
    """``thread 'main' panicked at main.rs:3:5: called `Option::unwrap()` on a `None` value`` as a diagnostic."""
    m = _PANIC.search(ran.stderr)
    if ran.violation or m is None:
        what = ran.violation or f"exit-{ran.returncode}"
        return _synthetic(f"rust:run:{what}", ran.stderr[-500:] or f"the program ended with {what}")
    line, col, message = int(m.group(1)), int(m.group(2)), m.group(3).strip()
    return Diagnostic(key=rust_key("panic", message), code="panic", message=message,
                      spans=[Span("main.rs", line, line, col, col, "panicked here")], rendered=ran.stderr[-500:])


def verify_python(task: Task, candidate: str) -> VerifyResult:
    with sandbox.workspace("sleepy-py-", sandbox.PROGRAM_LIMITS.disk_bytes) as work:
        (work / "main.py").write_text(candidate, encoding="utf-8")
        ran = sandbox.run([sys.executable, "-I", "main.py"], work, sandbox.PROGRAM_LIMITS)
        if ran.ok:
            return VerifyResult(True, [], ran.duration_s, "run", ran.stdout)
        diag = None if ran.violation else parse_python_traceback(ran.stderr, "main.py")
        if diag is None:
            what = ran.violation or f"exit-{ran.returncode}"
            diag = _synthetic(f"py:{what}", ran.stderr[-500:] or what)
        return VerifyResult(False, [diag], ran.duration_s, "run", ran.stdout + ran.stderr)


_CACHE: OrderedDict[tuple, VerifyResult] = OrderedDict()
_CACHE_SIZE = 4096
_CACHE_LOCK = threading.Lock()


def verify(task: Task, candidate: str | None = None) -> VerifyResult:
    """Verify ``candidate`` (default: the task's own source) as a solution of ``task``.

    Verdicts are remembered per (task, program) for the life of the process: the gate runs the same
    tool candidates for production and candidate, and eval the same ones for every seed, so the
    second time costs nothing. A verdict hit by a limit (a timeout) is not remembered."""
    candidate = task.source if candidate is None else candidate
    key = (task.pack, task.crate_type, task.check_only, task.project, task.file,
           hashlib.sha256(task.source.encode()).digest(),
           hashlib.sha256(candidate.encode("utf-8", "surrogatepass")).digest())
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return dataclasses.replace(hit, diagnostics=list(hit.diagnostics))
    tamper = tamper_verdict(task, candidate)
    if tamper is not None:
        result = tamper
    elif task.project is not None:
        from sleepy.tasks.project.build import verify_in_project  # a project is built, not one file

        result = verify_in_project(task.project, task.file or "", candidate)
    else:
        result = verify_rust(task, candidate) if task.pack == "rust" else verify_python(task, candidate)
    result.source_sha = hashlib.sha256(candidate.encode("utf-8", "surrogatepass")).hexdigest()
    if not any(d.code in ("timeout", "cpu-limit", "memory-limit") or d.key.endswith((":timeout", ":failed"))
               for d in result.diagnostics):
        with _CACHE_LOCK:
            _CACHE[key] = dataclasses.replace(result, diagnostics=list(result.diagnostics))
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return result


def verify_many(items: Iterable[tuple[Task, str | None]], jobs: int = 2) -> list[VerifyResult]:
    """Verify in parallel; results keep the order of ``items``. The work is in subprocesses, so threads do."""
    items = list(items)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda item: verify(*item), items))


# rustc reports errors phase by phase: name resolution hides type errors, which hide borrow errors.
# Fixing the last resolve error can surface three type errors; that is still a step forward.
_RESOLVE_CODES = {"E0106", "E0261", "E0262", "E0405", "E0407", "E0412", "E0422", "E0423", "E0424", "E0425",
                  "E0426", "E0432", "E0433", "E0434", "E0435", "nocode"}
_BORROW_CODES = {"E0373", "E0381", "E0382", "E0384", "E0499", "E0500", "E0501", "E0502", "E0503", "E0505",
                 "E0506", "E0507", "E0508", "E0509", "E0515", "E0521", "E0596", "E0597", "E0716"}
_STAGE_RANK = {"tamper": -1, "check": 0, "test": 1, "run": 1}
_NOT_PROGRESS_PY = {"SyntaxError", "IndentationError", "TabError"}


def _rust_phase(code: str) -> int:
    return 0 if code in _RESOLVE_CODES else 2 if code in _BORROW_CODES else 1


def _rust_score(result: VerifyResult) -> tuple:
    phases = [_rust_phase(d.code) for d in result.diagnostics] or [3]
    first = min(phases)
    return _STAGE_RANK.get(result.stage, 0), first, -phases.count(first), -len(phases)


def progressed(before: VerifyResult, after: VerifyResult, pack: str) -> int:
    """How far ``after`` (a candidate's verdict) is a step forward from ``before`` though it does not pass.

    2: a clear step. Rust: a later stage (it type-checks now and fails at run or test time), a later
    compiler phase, or fewer errors in the same phase and no kind of error that was not there
    before (an edit that breaks type inference also "removes" the errors inference would have
    found). Python stops at the first exception, so a step forward is a different error, or the
    same one further down, that is not a new syntax error: the failing line was repaired and
    execution got past it.
    1 (Rust): sideways: the first error is gone and others of the same phase took its place
    (``derive(Ord)`` added, now ``PartialOrd`` is missing); worth following from a tool's hint only.
    0: no step forward.
    """
    if after.passed or after.stage == "tamper" or before.passed:
        return 0
    if pack == "rust":
        a, b = _rust_score(after), _rust_score(before)
        if a[:2] > b[:2]:
            return 2
        if a[:2] < b[:2]:
            return 0
        new_kinds = Counter(d.key for d in after.diagnostics) - Counter(d.key for d in before.diagnostics)
        if a > b and not new_kinds:
            return 2
        moved = after.primary is not None and before.primary is not None and _where(after.primary) != _where(
            before.primary) and _where(before.primary) not in {_where(d) for d in after.diagnostics}
        return 1 if moved and len(after.diagnostics) <= len(before.diagnostics) + 2 else 0
    a, b = after.primary, before.primary
    if a is None or b is None or a.code in _NOT_PROGRESS_PY or a.code.startswith(("timeout", "output")):
        return 0
    return 2 if _where(a) != _where(b) else 0


def _stack(result: VerifyResult) -> list[tuple[str, int]]:
    """(function, line) of each frame of the script itself, outermost first (the first frame is the script)."""
    d = result.primary
    if d is None or result.passed:
        return []
    frames = list(TRACE_FRAME.finditer(d.rendered or ""))
    if not frames or frames[0].group("function") != "<module>":
        return []
    script = frames[0].group("file")
    return [(f.group("function"), int(f.group("line"))) for f in frames if f.group("file") == script]


def reached(result: VerifyResult) -> int | None:
    """The line of the script's top-level statement a Python run failed at (None: no such frame).

    A script checks itself top to bottom, so this is how far down its checks it got: every statement above
    the line ran, every ``assert`` above it held."""
    stack = _stack(result)
    return stack[0][1] if stack else None


def went_further(before: VerifyResult, after: VerifyResult) -> bool:
    """``after`` failed later in the script's run than ``before``: the frames of both, from the top-level
    statement down, agree until one of them is at a later line of the same function; or ``after`` failed in
    a caller after the call ``before`` crashed in returned (not at an ``assert``: a call that returns a
    wrong value to the check that called it is no step)."""
    a, b = _stack(after), _stack(before)
    if not a or not b or progressed(before, after, "python") != 2:
        return False
    for (fa, la), (fb, lb) in zip(a, b, strict=False):
        if fa != fb:
            return False
        if la != lb:
            return la > lb
    return len(a) < len(b) and after.primary is not None and after.primary.code != "AssertionError"


def _where(d: Diagnostic) -> tuple[str, int]:
    return d.key, d.spans[0].line_start if d.spans else 0
