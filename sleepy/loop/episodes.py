"""Episodes: up to k attempts per task, the context rebuilt from scratch before each one.

Shared by the day (which records every attempt and remembers every verified fix at once) and by
eval (which records results but never writes to memory). Tasks move in batches so generation is
batched; a solved task leaves the batch, the rest retry with the last failed edit and what became
of it, sampled rather than greedy so a retry can differ. Before the model's first call, memory
makes its own attempt (recalled fixes' patterns, applied and verified): a task it solves never
reaches the model, and its failed tries are logged with the model's samples of that attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sleepy.adapters.lora import RoutedModel
from sleepy.loop.agent import Sample, StepResult, Work, adapted_samples, attempt, diagnose
from sleepy.memory.recall import ExperienceMemory, Recalled
from sleepy.model.generation import GenerationConfig
from sleepy.tasks.task import Task


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


def day_config(settings, jobs: int = 2, seed: int = 0) -> EpisodeConfig:
    """How a day runs its episodes, from the workspace settings (:class:`sleepy.config.Settings`)."""
    return EpisodeConfig(attempts=settings.attempts, samples=settings.samples, memory=settings.memory, jobs=jobs,
                         memory_from_attempt=settings.memory_from_attempt, adapt_patterns=settings.memory_patterns,
                         max_new_tokens=settings.max_new_tokens, copy_anchors=settings.copy_anchors,
                         copy_names=settings.copy_names,
                         seed=seed, budget=settings.prompt_budget)


@dataclass
class Episode:
    task: Task
    passed: bool = False
    attempts: int = 0
    already_passing: bool = False
    start_signature: str | None = None
    winning: Sample | None = None
    steps: list[StepResult] = field(default_factory=list)


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
                recorder.on_finish(ep)
                if on_done:
                    on_done(ep)
            else:
                live.append((ep, Work(task, task.source, verdict.primary)))
        for k in range(1, cfg.attempts + 1):
            if not live:
                break
            use_memory = memory is not None and cfg.memory and k >= cfg.memory_from_attempt
            recalled = [memory.recall(w.task, w.source, w.diagnostic, cfg.memories_per_prompt)
                        if use_memory else [] for _, w in live]
            adapted: list[list[Sample]] = [[] for _ in live]
            if k == 1 and memory is not None and cfg.memory and cfg.adapt_patterns:
                adapted = adapted_samples(memory, [w for _, w in live], cfg.jobs, cfg.adapt_patterns)
            to_model = [i for i, row in enumerate(adapted) if not any(s.passed for s in row)]
            for i in to_model:
                live[i][1].memories = [r.as_memory() for r in recalled[i]]
            gen = GenerationConfig(max_new_tokens=cfg.max_new_tokens, n=cfg.samples,
                                   temperature=cfg.temperature if k == 1 else cfg.retry_temperature,
                                   seed=cfg.seed * 1000 + k, batch_size=max(1, cfg.batch_size * cfg.samples),
                                   copy_anchors=cfg.copy_anchors, copy_names=cfg.copy_names)
            steps: list[StepResult] = [StepResult(w, "", [], row, 0.0) for (_, w), row in zip(live, adapted,
                                                                                              strict=True)]
            if to_model:
                for i, step in zip(to_model, attempt(model, [live[i][1] for i in to_model], gen, cfg.jobs,
                                                     cfg.budget), strict=True):
                    step.samples += adapted[i]  # memory's failed tries are logged after the model's samples
                    steps[i] = step
            still: list[tuple[Episode, Work]] = []
            for (ep, w), step, found in zip(live, steps, recalled, strict=True):
                ep.attempts = k
                ep.steps.append(step)
                if step.passed:
                    ep.passed, ep.winning = True, step.best
                recorder.on_attempt(ep, k, step, found)
                if ep.passed or k == cfg.attempts:
                    recorder.on_finish(ep)
                    if on_done:
                        on_done(ep)
                else:
                    best = step.best
                    w.previous_edit = best.completion.text
                    res = best.result
                    w.previous_error = best.edit_error or (
                        f"{res.primary.code}: {res.primary.message}" if res and res.primary else "still failing")
                    still.append((ep, w))
            live = still
    return episodes
