"""Episodes: a task repaired one diagnostic at a time, the context rebuilt from scratch at every step.

Shared by the day (which records every attempt and remembers every verified fix at once) and by
eval (which records results but never writes to memory). Tasks move in batches so generation is
batched. At each step the candidate sources are tried in the configured order (default: the
verifier's own hints, then memory's adapted fix patterns, then the model with its routed skill);
every candidate is verified. A passing one ends the episode; one that is a step forward (fewer
errors, a later phase, execution got further: :func:`sleepy.tasks.verify.progressed`) becomes the
program the next step starts from, so a program with several errors is repaired step by step.
Tools and memory cost a verification each; the model is called at most ``attempts`` times per
task, its retries sampled rather than greedy and shown the failed edit, what the tools tried and
what became of it. Every step is logged as attempts (one event per candidate, with its origin).

"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from sleepy.adapters.lora import RoutedModel
from sleepy.loop.agent import Sample, StepResult, Work, adapted_samples, attempt, diagnose, tool_samples
from sleepy.memory.recall import ExperienceMemory, Recalled
from sleepy.model.generation import GenerationConfig
from sleepy.tasks.task import Task
from sleepy.tasks.verify import progressed, reached, went_further

SOURCES = ("tool", "memory", "model")


@dataclass
class EpisodeConfig:
    attempts: int = 3
    samples: int = 1
    temperature: float = 0.0  # of the first attempt; retries use retry_temperature
    retry_temperature: float = 0.8
    memory: bool = True
    memories_per_prompt: int = 2
    memory_from_attempt: int = 1  # recalled fixes go into prompts from this attempt on
    adapt_patterns: int = 4  # before the first model call, try this many recalled fix patterns (0: off)
    batch_size: int = 8
    jobs: int = 2
    max_new_tokens: int = 96
    seed: int = 0
    budget: int = 900
    copy_anchors: bool = True  # '-' lines decoded as program text only (sleepy.model.constrain)
    copy_names: bool = True  # names in '+' lines from the prompt or the model's names.json only
    sources: tuple[str, ...] = SOURCES  # candidate sources, in the order they are tried at each step
    max_steps: int = 8  # steps per task (a step forward from a tool or memory is one; so is a model call)
    tool_candidates: int = 8  # hints applied and verified per step
    repair_candidates: int = 12  # then repairs at the failing lines (sleepy.tasks.pyrepair), Python only

    def __post_init__(self) -> None:
        unknown = [x for x in self.sources if x not in SOURCES]
        if unknown or not self.sources:
            raise ValueError(f"candidate sources must be some of {', '.join(SOURCES)}; got {list(self.sources)}")
        for name in ("attempts", "samples", "max_new_tokens", "max_steps", "batch_size", "jobs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


def day_config(settings, jobs: int = 2, seed: int = 0) -> EpisodeConfig:
    """How a day runs its episodes, from the workspace settings (:class:`sleepy.config.Settings`)."""
    return EpisodeConfig(attempts=settings.attempts, samples=settings.samples, memory=settings.memory, jobs=jobs,
                         memory_from_attempt=settings.memory_from_attempt, adapt_patterns=settings.memory_patterns,
                         max_new_tokens=settings.max_new_tokens, copy_anchors=settings.copy_anchors,
                         copy_names=settings.copy_names, sources=tuple(settings.candidates),
                         max_steps=settings.max_steps, tool_candidates=settings.tool_candidates,
                         repair_candidates=settings.repair_candidates, seed=seed, budget=settings.prompt_budget)


@dataclass
class Episode:
    task: Task
    passed: bool = False
    attempts: int = 0
    already_passing: bool = False
    start_signature: str | None = None
    winning: Sample | None = None
    steps: list[StepResult] = field(default_factory=list)
    model_calls: int = 0
    winning_skill: str | None = None  # the skill routed to when the model's edit won

    @property
    def solved_by(self) -> str | None:
        """Which layer made the passing edit: tool, memory, model or skill (the model with a routed skill)."""
        if self.winning is None:
            return None
        origin = self.winning.origin.split(":")[0]
        return "skill" if origin == "model" and self.winning_skill else origin

    @property
    def path(self) -> list[str]:
        """The origin of each accepted step, the passing one last (``tool:rustc``, ``model``, ...)."""
        return [s.origin for st in self.steps for s in st.samples if s.progress] + (
            [self.winning.origin] if self.winning else [])


class Recorder:
    """Hooks the day uses to persist; eval uses this no-op base."""

    def on_start(self, episode: Episode) -> None: ...

    def on_attempt(self, episode: Episode, attempt: int, step: StepResult, recalled: list[Recalled]) -> None: ...

    def on_finish(self, episode: Episode) -> None: ...


def run_episodes(model: RoutedModel, tasks: list[Task], cfg: EpisodeConfig, memory: ExperienceMemory | None,
                 recorder: Recorder | None = None, on_done: Callable[[Episode], None] | None = None) -> list[Episode]:
    recorder = recorder or Recorder()
    episodes: list[Episode] = []
    for start in range(0, len(tasks), cfg.batch_size):
        batch = tasks[start:start + cfg.batch_size]
        verdicts = diagnose(batch, cfg.jobs)
        live: list[tuple[Episode, Work]] = []
        for task, verdict in zip(batch, verdicts, strict=True):
            ep = Episode(task, start_signature=verdict.signature)
            episodes.append(ep)
            recorder.on_start(ep)
            if verdict.passed:
                ep.passed = ep.already_passing = True
                _finish(ep, recorder, on_done)
            else:
                live.append((ep, Work(task, task.source, verdict.primary, verdict=verdict)))
        seen = {id(ep): {w.source} for ep, w in live}
        for k in range(1, cfg.max_steps + 1):
            if not live:
                break
            live = _step(model, live, k, cfg, memory, recorder, on_done, seen)
    return episodes


def _finish(ep: Episode, recorder: Recorder, on_done: Callable[[Episode], None] | None) -> None:
    recorder.on_finish(ep)
    if on_done:
        on_done(ep)


def _resolve(rows: list[list[Sample]], work: list[Work], seen: list[set[str]]) -> list[str | None]:
    """Per item: "passed", "progress" (the best step forward is marked) or None; samples stay in order."""
    out: list[str | None] = []
    for row, w, visited in zip(rows, work, seen, strict=True):
        if any(s.passed for s in row):
            out.append("passed")
            continue
        steps = [(progressed(w.verdict, s.result, w.task.pack), s) for s in row
                 if s.result is not None and s.candidate not in visited and w.verdict is not None]
        # A sideways step (the error replaced by another of its phase) is followed only from the verifier's
        # own hint: a model edit or a recalled pattern that merely moves the error is no evidence of a repair
        # (benchmarks/results/day_reuse_rust_tools_s7.json: followed from memory, it lost 10 tasks of 200).
        # A repair (tool:repair) is a guess at the failing lines, not the verifier's hint. Followed whenever the
        # error changed, guesses wandered (on benchmarks/koans/python-shapes, 9 of 10 chains of repairs moved
        # the error around, `-` to `+` and back). So a Python repair is a step only when the script got past
        # the top-level statement it failed at (:func:`went_further`: every check above the new failure holds),
        # and the step taken is the one that got furthest: a program with several slips is repaired one slip
        # at a time (python-shapes, tools alone: 8 -> 9 of 24 by this alone; frozen 18 -> 19 of 36; generated
        # holdout unchanged, 25 of 60, none lost). "Further" is read off the frames, not only the top-level line:
        # a crash that moved up into the caller once the callee returned is further too (frozen 24 -> 25). A Rust repair
        # with fewer errors after it (rustc counts them) is a step like any other; a project's repair (its
        # tests, no script to get further down) only when it passes.
        script = w.task.pack == "python" and w.task.project is None
        forward = [(rank, s) for rank, s in steps if
                   (s.origin != "tool:repair" and (rank == 2 or (rank == 1 and s.origin.startswith("tool"))))
                   or (s.origin == "tool:repair" and rank == 2 and w.task.pack == "rust")
                   or (s.origin == "tool:repair" and script and went_further(w.verdict, s.result))]
        if forward:
            best = min(forward, key=lambda p: (-p[0], len(p[1].result.diagnostics),
                                               -(reached(p[1].result) or 0) if script else 0, row.index(p[1])))[1]
            best.progress = True
            out.append("progress")
        else:
            out.append(None)
    return out


def _step(model: RoutedModel, live: list[tuple[Episode, Work]], k: int, cfg: EpisodeConfig,
          memory: ExperienceMemory | None, recorder: Recorder, on_done: Callable[[Episode], None] | None,
          seen: dict[int, set[str]]) -> list[tuple[Episode, Work]]:
    """One step for every live task: each source in order, for the tasks no earlier source settled."""
    n = len(live)
    rows: list[list[Sample]] = [[] for _ in range(n)]
    notes: list[list[str]] = [[] for _ in range(n)]
    steps: list[StepResult | None] = [None] * n
    settled: list[str | None] = [None] * n
    use_memory = memory is not None and cfg.memory
    recalled: list[list[Recalled]] = [[] for _ in range(n)]
    for source in cfg.sources:
        open_ = [i for i in range(n) if settled[i] is None]
        if source == "model":
            open_ = [i for i in open_ if live[i][0].model_calls < cfg.attempts]
        if not open_:
            continue
        work = [live[i][1] for i in open_]
        if source == "tool":
            made, skipped = tool_samples(work, cfg.jobs, cfg.tool_candidates, cfg.repair_candidates)
            for i, row, why in zip(open_, made, skipped, strict=True):
                rows[i] += row
                notes[i] += why
                live[i][1].tried = [(s.completion.text, s.signature_after or "?") for s in row]
        elif source == "memory":
            if not (use_memory and cfg.adapt_patterns):
                continue
            for i, row in zip(open_, adapted_samples(memory, work, cfg.jobs, cfg.adapt_patterns), strict=True):
                rows[i] += row
        else:
            calls = [live[i][0].model_calls + 1 for i in open_]
            for i, call in zip(open_, calls, strict=True):
                ep, w = live[i]
                ep.model_calls = call
                if use_memory and call >= cfg.memory_from_attempt:
                    recalled[i] = memory.recall(w.task, w.source, w.diagnostic, cfg.memories_per_prompt)
                w.memories = [r.as_memory() for r in recalled[i]]
            # Retries (a later model call on the task) sample; a task's first call is greedy by default.
            for first in (True, False):
                idx = [i for i, c in zip(open_, calls, strict=True) if (c == 1) == first]
                if not idx:
                    continue
                gen = GenerationConfig(max_new_tokens=cfg.max_new_tokens, n=cfg.samples,
                                       temperature=cfg.temperature if first else cfg.retry_temperature,
                                       seed=cfg.seed * 1000 + k, batch_size=max(1, cfg.batch_size * cfg.samples),
                                       copy_anchors=cfg.copy_anchors, copy_names=cfg.copy_names)
                for i, step in zip(idx, attempt(model, [live[i][1] for i in idx], gen, cfg.jobs, cfg.budget),
                                   strict=True):
                    step.samples += rows[i]  # tools' and memory's tries are logged after the model's samples
                    rows[i] = step.samples
                    steps[i] = step
        for i, verdict in zip(open_, _resolve([rows[i] for i in open_], work, [seen[id(live[i][0])] for i in open_]),
                              strict=True):
            settled[i] = verdict
    still: list[tuple[Episode, Work]] = []
    for i, (ep, w) in enumerate(live):
        step = steps[i] or StepResult(w, "", [], rows[i], 0.0)
        step.samples = rows[i]
        step.notes = notes[i]
        ep.attempts = k
        ep.steps.append(step)
        if settled[i] == "passed":
            ep.passed, ep.winning = True, next(s for s in rows[i] if s.passed)
            ep.winning_skill = step.skill if ep.winning.origin == "model" else None
        recorder.on_attempt(ep, k, step, recalled[i])
        if settled[i] == "passed":
            _finish(ep, recorder, on_done)
        elif settled[i] == "progress" and k < cfg.max_steps:
            best = next(s for s in rows[i] if s.progress)
            seen[id(ep)].add(best.candidate)
            still.append((ep, dataclasses.replace(w, source=best.candidate, diagnostic=best.result.primary,
                                                  verdict=best.result, previous_edit=None, previous_error=None,
                                                  memories=[], tried=[])))
        elif settled[i] == "progress" or ep.model_calls >= cfg.attempts or "model" not in cfg.sources \
                or k == cfg.max_steps:
            _finish(ep, recorder, on_done)
        else:
            failed = next((s for s in rows[i] if s.origin == "model"), rows[i][0] if rows[i] else None)
            if failed is not None:
                res = failed.result
                w.previous_edit = failed.completion.text
                w.previous_error = failed.edit_error or (
                    f"{res.primary.code}: {res.primary.message}" if res and res.primary else "still failing")
            still.append((ep, w))
    return still
