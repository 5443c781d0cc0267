"""One agent step over many tasks at once: build context, generate samples, apply, verify.

Batched on purpose: generation is far cheaper per task at batch 16 than at batch 1, and the
verifier runs in parallel workers. The day loop and ``sleepy eval`` both call :func:`attempt`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sleepy.adapters.lora import RoutedModel
from sleepy.context.lookup import project_sources
from sleepy.context.prompt import ContextBuilder, Memory
from sleepy.context.view import view_of
from sleepy.memory.recall import ExperienceMemory
from sleepy.model.generation import Completion, GenerationConfig
from sleepy.model.remote import RemoteModel
from sleepy.tasks.edit import EditError, apply_edit, parse_edit, shown_edit, split_by_file
from sleepy.tasks.hints import tool_candidates
from sleepy.tasks.pyrepair import PROJECT_REPAIRS
from sleepy.tasks.signature import Diagnostic
from sleepy.tasks.task import Task
from sleepy.tasks.verify import VerifyResult, verify_many

PROMPT_BUDGET = 900


@dataclass
class Work:
    """One task at one attempt: the program as it stands and what the verifier said about it."""

    task: Task
    source: str
    diagnostic: Diagnostic | None
    memories: list[Memory] = field(default_factory=list)
    previous_edit: str | None = None
    previous_error: str | None = None
    verdict: VerifyResult | None = None  # the verifier's whole verdict on ``source`` (every error, for tools)
    tried: list[tuple[str, str]] = field(default_factory=list)  # (edit, what became of it) tools tried this step
    files: dict[str, str] | None = None  # other project files open for editing (``sleepy fix``), by path


@dataclass
class Sample:
    """One sample for one task (the model's, or memory's own): the edit, what became of it, what it cost."""

    completion: Completion
    edit_error: str | None
    candidate: str | None
    result: VerifyResult | None
    verify_seconds: float = 0.0
    origin: str = "model"  # "memory:fix/<id>" (a recalled fix's pattern) or "tool:rustc" / "tool:python" (a hint)
    progress: bool = False  # not passing, but fewer errors (or a later one): the episode goes on from it
    note: str = ""  # where the candidate came from, in words (a tool's hint)
    files: dict[str, str] = field(default_factory=dict)  # other project files the edit changed (``@@ FILE:LINE``)

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed

    @property
    def signature_after(self) -> str | None:
        if self.edit_error:
            return "edit:" + self.edit_error.split(":")[0].split(" ")[0]
        return self.result.signature if self.result else None


@dataclass
class StepResult:
    work: Work
    prompt: str
    prompt_parts: list
    samples: list[Sample]
    generate_seconds: float
    skill: str | None = None
    notes: list[str] = field(default_factory=list)  # hints a tool could not apply, with the reason

    @property
    def passed(self) -> bool:
        return any(s.passed for s in self.samples)

    @property
    def best(self) -> Sample | None:
        """The passing sample, else the step forward, else the first; None when no candidate was made."""
        return next((s for s in self.samples if s.passed), next((s for s in self.samples if s.progress),
                                                                 self.samples[0] if self.samples else None))


def diagnose(tasks: list[Task], jobs: int = 2) -> list[VerifyResult]:
    """The verifier's verdict on each task as given (its starting error)."""
    return verify_many([(t, None) for t in tasks], jobs=jobs)


def adapted_samples(memory: ExperienceMemory, work: list[Work], jobs: int = 2, patterns: int = 4) -> list[list[Sample]]:
    """Memory's own attempt: recalled fixes of each task's signature, generalised and applied, then verified.

    No model call: the edit a sample shows is the diff memory made, and a passing one solves the task
    at the cost of a few verifier runs.
    """
    return _verified(work, [[(a.candidate, f"memory:fix/{a.fix_id}", "")
                             for a in memory.adapt(w.task, w.source, w.diagnostic, patterns)] for w in work], jobs)


def _verified(work: list[Work], made: list[list[tuple[str, str, str]]], jobs: int) -> list[list[Sample]]:
    """Samples of programs made without a model call ((program, origin, note) per item), verified in turn;
    the edit a sample shows is the diff the program amounts to."""
    shown = [[(program, origin, note, text) for program, origin, note in row
              if (text := shown_edit(w.source, program)) is not None] for w, row in zip(work, made, strict=True)]
    verdicts = verify_in_turn([[(w.task, c[0]) for c in row] for w, row in zip(work, shown, strict=True)], jobs)
    return [[Sample(Completion(text, 0, 0, [], 0.0), None, program, res, res.duration_s, origin, note=note)
             for (program, origin, note, text), res in zip(row, results, strict=False)]
            for row, results in zip(shown, verdicts, strict=True)]


def verify_in_turn(rows: list[list[tuple[Task, str]]], jobs: int = 2) -> list[list[VerifyResult]]:
    """Verify each row's candidates in order until one passes; rows are verified side by side.

    Round k verifies the k-th candidate of every row that has none passing yet, so the verifier's
    workers stay busy across tasks while a task stops at its first passing candidate (a passing Rust
    program is built and run, ten times the cost of a failing check). A row's list holds the
    verdicts of the candidates it got to."""
    out: list[list[VerifyResult]] = [[] for _ in rows]
    for k in range(max((len(r) for r in rows), default=0)):
        todo = [i for i, r in enumerate(rows) if k < len(r) and not any(v.passed for v in out[i])]
        for i, verdict in zip(todo, verify_many([rows[i][k] for i in todo], jobs=jobs), strict=True):
            out[i].append(verdict)
    return out


def tool_samples(work: list[Work], jobs: int = 2, limit: int = 8,
                 repairs: int = 0) -> tuple[list[list[Sample]], list[list[str]]]:
    """The verifier's own hints applied and verified (rustc's suggestions, Python's "Did you mean"), then up to
    ``repairs`` small edits at a Python failure's lines (at most :data:`PROJECT_REPAIRS` for a project task,
    whose verification runs its tests); no model.

    Returns the samples of each item and the hints that could not be applied (with the reason)."""
    made, skipped = [], []
    for w in work:
        diags = w.verdict.diagnostics if w.verdict else ([w.diagnostic] if w.diagnostic else [])
        # The task's own file as it stands (broken): the project's copy on disk is the answer.
        files = {**project_sources(w.task.project), **(w.files or {}), w.task.file or w.task.filename: w.source} \
            if w.task.project else None
        hints = tool_candidates(w.task.pack, w.source, diags, limit, files, w.task.file,
                                min(repairs, PROJECT_REPAIRS) if w.task.project else repairs)
        made.append([(c.program, c.origin, c.hint) for c in hints.candidates])
        skipped.append(hints.skipped)
    return _verified(work, made, jobs), skipped


def _apply(w: Work, view, edit) -> tuple[str, dict[str, str]]:
    """The program after ``edit``, and the other project files it changed (only where ``w.files`` opens them)."""
    own = w.task.file or w.task.filename
    known = project_sources(w.task.project) if w.task.project else {}
    parts = split_by_file(edit, [own], w.files or (), known)
    candidate = w.source
    if own in parts:
        candidate = view.to_original(apply_edit(view.shown, parts.pop(own)))
        if candidate is None:
            raise EditError("the edit of the formatted view cannot be carried back onto the program")
    return candidate, {f: apply_edit((w.files or {})[f], e) for f, e in parts.items()}


def attempt(model: RoutedModel | RemoteModel, work: list[Work], gen: GenerationConfig | None = None, jobs: int = 2,
            budget: int = PROMPT_BUDGET,
            verifier: Callable[[Task, str], VerifyResult] | None = None) -> list[StepResult]:
    """One attempt for every item of ``work``: each task goes to the skill its signature routes to.

    ``model`` runs local weights or asks a server (:mod:`sleepy.model.remote`); both answer ``lm.generate``.

    ``verifier`` replaces the task verifier (``sleepy fix`` verifies a file by building its project); it is
    also given the other files an edit changed, where ``Work.files`` opened them."""
    gen = gen or GenerationConfig()
    builder = ContextBuilder(model.lm.count_tokens, budget=budget)
    views = [view_of(w.task.pack, w.source) for w in work]
    prompts = [builder.for_task(w.task, v.shown, v.diagnostic(w.diagnostic), w.files, memories=w.memories,
                                previous_edit=w.previous_edit, previous_error=w.previous_error, tried=w.tried)
               for w, v in zip(work, views, strict=True)]
    skills = [model.skill_for(w.diagnostic.key if w.diagnostic else None) for w in work]
    completions: list = [None] * len(work)
    began = time.perf_counter()
    for skill in dict.fromkeys(skills):
        idx = [i for i, s in enumerate(skills) if s == skill]
        with model.using(skill):
            for i, comps in zip(idx, model.lm.generate([prompts[i].text for i in idx], gen,
                                                       sources=[views[i].shown for i in idx]), strict=True):
                completions[i] = comps
    gen_seconds = (time.perf_counter() - began) / max(1, len(work))
    samples: list[list[Sample]] = []
    to_verify: list[tuple[Task, str]] = []
    for w, v, comps in zip(work, views, completions, strict=True):
        row = []
        for c in comps:
            try:
                candidate, others = _apply(w, v, parse_edit(c.text))
                row.append(Sample(c, None, candidate, None, files=others))
                to_verify.append((w.task, candidate, others))
            except EditError as exc:
                row.append(Sample(c, str(exc), None, None))
        samples.append(row)
    results = iter(verify_many([(t, c) for t, c, _ in to_verify], jobs=jobs) if verifier is None
                   else [verifier(t, c, o) if o else verifier(t, c) for t, c, o in to_verify])
    for row in samples:
        for s in row:
            if s.candidate is not None:
                s.result = next(results)
                s.verify_seconds = s.result.duration_s
    return [StepResult(w, p.text, p.parts, row, gen_seconds, skill)
            for w, p, row, skill in zip(work, prompts, samples, skills, strict=True)]
