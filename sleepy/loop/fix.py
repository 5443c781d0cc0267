"""``sleepy fix``: repair a real Cargo or Python project one diagnostic at a time, as ``cargo fix`` would.

The project is copied and built in the sandbox (``sleepy.tasks.project``); at each step the first
errors' hints (rustc's suggestions and notes, the interpreter's hints: ``sleepy.tasks.hints``) are
applied to the file each error is in and the whole project is verified; a passing build ends the
run, a step forward (``sleepy.tasks.verify.progressed``) is kept and the next step starts from it.
Every candidate is one wide event (origin, signature before and after, the edit, verify time).

Conventions of ``cargo fix`` / ``ruff --fix``: by default nothing is written and the result is a
unified diff; ``apply`` writes each changed file atomically and keeps what it replaced, so
``undo`` restores it; a dirty git tree is refused unless allowed. Nothing is written outside the
project; the run's events and undo record live under ``~/.cache/sleepy/fix/<project>/``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sleepy.files import atomic_write_text, cache_dir
from sleepy.tasks.edit import shown_edit
from sleepy.tasks.hints import edited_file, tool_candidates
from sleepy.tasks.project import Project, ProjectBuild, ProjectError, detect_project
from sleepy.tasks.project.build import restrict, unbuildable
from sleepy.tasks.pyrepair import PROJECT_REPAIRS
from sleepy.tasks.signature import Diagnostic
from sleepy.tasks.task import Task
from sleepy.tasks.verify import VerifyResult, progressed, tamper_verdict
from sleepy.telemetry.events import EventLog

DIAGNOSTICS_PER_STEP = 3  # the first errors whose hints are tried at each step


@dataclass
class FixAttempt:
    step: int
    file: str
    origin: str
    hint: str
    signature_before: str | None
    signature_after: str | None
    passed: bool
    progress: bool
    verify_s: float
    edit: str


@dataclass
class FixResult:
    project: Project
    original: dict[str, str]
    files: dict[str, str]  # the project's files after the repair (changed or not)
    green: bool
    already_green: bool
    attempts: list[FixAttempt] = field(default_factory=list)
    remaining: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> dict[str, str]:
        return {rel: text for rel, text in self.files.items() if self.original.get(rel) != text}

    def diff(self) -> str:
        """A unified diff of every changed file (``a/`` and ``b/`` paths, as git prints them)."""
        out = []
        for rel, text in sorted(self.changed.items()):
            out += difflib.unified_diff(self.original[rel].splitlines(keepends=True), text.splitlines(keepends=True),
                                        f"a/{rel}", f"b/{rel}")
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)


def state_dir(root: Path) -> Path:
    """Where a project's fix runs keep their events and undo record (outside the project)."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "fix" / key


def hint_candidates(project: Project, files: dict[str, str], verdict: VerifyResult, limit: int,
                    repairs: int = PROJECT_REPAIRS) -> list[tuple]:
    """(file, new text, origin, hint) for the first errors, each on the file its primary span is in; then up to
    ``repairs`` small edits at the lines of a Python failure (:mod:`sleepy.tasks.pyrepair`)."""
    out, seen = [], set()
    for diag in verdict.diagnostics[:DIAGNOSTICS_PER_STEP]:
        file = edited_file(diag, files) or (diag.primary.file if diag.primary else
                                             next((f.file for f in diag.fixits if f.file), None))
        if file not in files:
            continue
        for c in tool_candidates(project.pack, files[file], [restrict(diag, file)], limit, files, file,
                                 repairs).candidates:
            if (file, c.program) not in seen:
                seen.add((file, c.program))
                out.append((file, c.program, c.origin, c.hint))
    hints = [c for c in out if c[2] != "tool:repair"][:limit]
    return hints + [c for c in out if c[2] == "tool:repair"][:repairs]


def checked(build: ProjectBuild, base: dict[str, str], changes: dict[str, str]) -> VerifyResult:
    """``changes`` over ``base`` verified by building, unless an edit tampers (drops a test, adds ``unsafe``...):
    refused before it runs, as :func:`sleepy.tasks.verify.verify` refuses it for a single-file task."""
    for rel, text in changes.items():
        refused = tamper_verdict(Task(f"fix:{rel}", build.project.pack, "project", base.get(rel, "")), text)
        if refused is not None:
            return refused
    return build.check(changes)


def fix_project(path: Path, max_steps: int = 12, tool_limit: int = 8, tests: bool = False,
                log: Callable[[str], None] | None = None, model=None, model_calls: int = 3,
                timeout_s: float | None = None) -> FixResult:
    """Repair the project at ``path`` in a private copy; the user's files are not touched (see :func:`apply`).

    ``model`` (a :class:`sleepy.adapters.lora.RoutedModel`, or a function that loads one the first time it
    is needed, so a green build never pays for loading weights) is asked, up to ``model_calls`` times, when
    the tools make no step forward: shown the file of the first error, its edit verified by building.
    ``timeout_s`` limits one build (a build script that hangs is then one line, not a stuck run)."""
    project = detect_project(path)
    build = ProjectBuild.open(project, tests, timeout_s, keep=state_dir(project.root))
    try:
        return repair(build, max_steps, tool_limit, EventLog(state_dir(project.root) / "events.jsonl"), log,
                      model, model_calls)
    finally:
        build.close()


def _model_candidates(model, build: ProjectBuild, files: dict[str, str], verdict: VerifyResult,
                      call: int) -> list[tuple[str, dict[str, str], object]]:
    """The model's edit, verified by building the project with it: (the error's file, the files the edit
    changed, the sample).

    The model is shown the first error's file, with what the look-up tools find in the others
    (definitions, impls, imports, call sites); its hunks may name any file of the project
    (``@@ src/lib.rs:42``)."""
    from sleepy.loop.agent import Work, attempt
    from sleepy.model.generation import GenerationConfig

    diag = verdict.primary
    file = diag.primary.file if diag and diag.primary else None
    if file not in files:
        return []
    task = Task(f"fix:{file}", build.project.pack, "project", files[file], diag.key, origin="user",
                project=str(build.project.root), file=file)
    others = {f: text for f, text in files.items() if f != file}
    work = Work(task, files[file], restrict(diag, file), verdict=verdict, files=others)

    def in_project(_task: Task, candidate: str, changed: dict[str, str] | None = None) -> VerifyResult:
        result = checked(build, files, {file: candidate, **(changed or {})})
        build.write({f: files[f] for f in [file, *(changed or {})]})
        return result

    gen = GenerationConfig(temperature=0.0 if call == 1 else 0.8, seed=call)
    (step,) = attempt(model, [work], gen, jobs=1, verifier=in_project)
    return [(file, {file: s.candidate, **s.files} if s.candidate is not None else {}, s) for s in step.samples]


def repair(build: ProjectBuild, max_steps: int = 12, tool_limit: int = 8, events: EventLog | None = None,
           log: Callable[[str], None] | None = None, model=None, model_calls: int = 3) -> FixResult:
    """Repair what ``build``'s copy holds now, one diagnostic at a time; the copy ends as the result's files.

    A project that cannot be built at all (it hangs, or needs the network) raises :class:`ProjectError`:
    no edit to its sources would help."""
    began = time.perf_counter()
    project = build.project
    verdict = build.check()
    why = unbuildable(verdict)
    if why:
        raise ProjectError(f"{project.root}: {why}")
    start = dict(build.files)
    result = FixResult(project, start, dict(start), verdict.passed, verdict.passed)
    visited = {json.dumps(sorted(result.files.items()))}
    calls = 0
    tried: set[str] = set()  # states a candidate led to that were verified already: never built twice
    for step in range(1, max_steps + 1):
        if verdict.passed:
            break
        if log:
            first = verdict.primary
            where = f" in {first.primary.file}:{first.primary.line_start}" if first and first.primary else ""
            log(f"step {step}: {len(verdict.diagnostics)} error(s); first {verdict.signature}{where}")
        forward = None
        for file, text, origin, hint in hint_candidates(project, result.files, verdict, tool_limit):
            files = {**result.files, file: text}
            key = json.dumps(sorted(files.items()))
            if key in visited or key in tried or (origin == "tool:repair" and forward is not None):
                continue  # repairs are the last resort: each builds and tests the project, a hint already led on
            tried.add(key)
            after = checked(build, result.files, {file: text})
            rank = progressed(verdict, after, project.pack)
            attempt = FixAttempt(step, file, origin, hint, verdict.signature, after.signature, after.passed,
                                 False, round(after.duration_s, 4), shown_edit(result.files[file], text) or "")
            result.attempts.append(attempt)
            followed = origin != "tool:repair" or (project.pack == "rust" and rank == 2)  # as in a day's episodes
            if after.passed or (rank and followed and (forward is None or rank > forward[0])):
                forward = (3 if after.passed else rank, files, after, attempt)
            build.write({file: result.files[file]})  # back to the step's start for the next candidate
            if after.passed:
                break
        if forward is None and model is not None and not hasattr(model, "lm"):
            model = model()  # loaded on first need (None where the model extra is not installed)
        if forward is None and model is not None and calls < model_calls:
            calls += 1
            for file, changes, sample in _model_candidates(model, build, result.files, verdict, calls):
                after = sample.result
                attempt = FixAttempt(step, ", ".join(sorted(changes)) or file, "model",
                                     sample.edit_error or "the model's edit", verdict.signature,
                                     sample.signature_after, sample.passed, False, round(sample.verify_seconds, 4),
                                     sample.completion.text)
                result.attempts.append(attempt)
                if after is None:
                    continue  # an edit that could not be placed: logged, nothing to build
                rank = progressed(verdict, after, project.pack)
                if after.passed or rank == 2:
                    forward = (3 if after.passed else rank, {**result.files, **changes}, after, attempt)
                    break
        if events is not None:
            for a in result.attempts:
                if a.step == step:
                    events.append(_event(project, a))
        if forward is None:
            if model is not None and calls < model_calls:
                continue  # the model tries again, sampled
            break
        _, files, verdict, attempt = forward
        attempt.progress = not verdict.passed
        visited.add(json.dumps(sorted(files.items())))
        build.write(files)
        result.files = dict(files)
    result.green = verdict.passed
    result.remaining = [] if verdict.passed else verdict.diagnostics
    result.seconds = round(time.perf_counter() - began, 2)
    return result


def _event(project: Project, a: FixAttempt) -> dict:
    return {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "sleepy.run.kind": "fix",
            "sleepy.project": str(project.root), "sleepy.task.pack": project.pack, "sleepy.task.id": a.file,
            "sleepy.attempt": a.step, "sleepy.signature.before": a.signature_before,
            "sleepy.signature.after": a.signature_after, "sleepy.verifier.passed": a.passed,
            "sleepy.progress": a.progress, "sleepy.latency.verify_s": a.verify_s, "sleepy.edit": a.edit,
            "sleepy.edit.origin": a.origin, "sleepy.edit.hint": a.hint}


def git_dirty(root: Path) -> bool | None:
    """Whether the git tree holding ``root`` has changes; None when it is not in a git repository."""
    try:
        done = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return bool(done.stdout.strip())


def apply(result: FixResult, allow_dirty: bool = False) -> list[str]:
    """Write the changed files (each atomically) and keep what they replaced for :func:`undo`."""
    root = result.project.root
    if not allow_dirty and git_dirty(root):
        raise ProjectError(f"{root}: the git tree has uncommitted changes; commit them or pass --allow-dirty")
    changed = result.changed
    for rel in changed:
        target = (root / rel).resolve()
        if root.resolve() not in target.parents:
            raise ProjectError(f"{rel}: outside the project, not written")
        if target.read_bytes().decode("utf-8") != result.original[rel]:
            raise ProjectError(f"{rel}: changed on disk while sleepy fix ran; nothing written")
    record = {"root": str(root.resolve()), "time": datetime.now(UTC).isoformat(timespec="seconds"),
              "before": {rel: result.original[rel] for rel in changed}, "after": changed}
    state = state_dir(root)
    state.mkdir(parents=True, exist_ok=True)
    atomic_write_text(state / "undo.json", json.dumps(record))
    for rel, text in changed.items():
        atomic_write_text(root / rel, text)
    return sorted(changed)


def undo(path: Path) -> list[str]:
    """Restore the files the last applied run changed, where they still hold what it wrote."""
    root = Path(path)
    record_path = state_dir(root) / "undo.json"
    if not record_path.is_file():
        raise ProjectError(f"{root}: no applied sleepy fix run to undo")
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        raise ProjectError(f"{record_path}: damaged undo record") from None
    edited = [rel for rel, text in record["after"].items()
              if not (root / rel).is_file() or (root / rel).read_bytes().decode("utf-8", "replace") != text]
    if edited:
        raise ProjectError(f"{', '.join(sorted(edited))}: changed since sleepy fix wrote it; nothing restored")
    for rel, text in record["before"].items():
        atomic_write_text(root / rel, text)
    record_path.unlink()
    return sorted(record["before"])
