"""``sleepy day``: the agent works a stream of tasks with the production release.

Every attempt is committed as one wide event the moment it is verified; a verified fix is written
to memory at once (in the same transaction that closes its episode), so the next task of the day
can recall it. A run is keyed by its parameters: rerunning the same command after a crash
(even ``kill -9``) continues with the tasks that have no finished episode yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from sleepy.adapters.lora import RoutedModel
from sleepy.loop.agent import StepResult
from sleepy.loop.episodes import Episode, EpisodeConfig, Recorder, run_episodes
from sleepy.memory.recall import ExperienceMemory, Recalled
from sleepy.memory.repository import Repository
from sleepy.tasks.packs import get_pack
from sleepy.tasks.task import Task, load_tasks
from sleepy.telemetry.events import EventContext, attempt_event


@dataclass
class DaySummary:
    run_id: int
    resumed: bool
    tasks: int
    skipped: int  # already finished in an earlier, interrupted run
    passed: int
    attempts: int
    fixes_written: int
    solved_by_memory: int = 0  # tasks a recalled fix's pattern solved (this run), no model call needed

    @property
    def pass_rate(self) -> float:
        return self.passed / self.tasks if self.tasks else 0.0


def day_tasks(pack: str, n: int, seed: int, tasks_dir: Path | None = None) -> list[Task]:
    if tasks_dir is not None:
        return load_tasks(tasks_dir, pack)
    return get_pack(pack).stream(n, seed)


def keep_for_gate(store: Repository, held_out: list[Task]) -> None:
    """Store a project's held-out breakages (no episodes: the day never works them) for the night's gate."""
    for t in held_out:
        store.upsert_task(t.id, t.pack, t.family, t.origin, t.signature, t.source, t.project, t.file)


class DayRecorder(Recorder):
    """Persists episodes and events, and remembers verified fixes the moment they exist."""

    def __init__(self, store: Repository, memory: ExperienceMemory, ctx: EventContext) -> None:
        self.store, self.memory, self.ctx = store, memory, ctx
        self.episode_ids: dict[int, int] = {}
        self.fixes_written = 0
        self.attempts = 0
        self.solved_by_memory = 0

    def on_start(self, ep: Episode) -> None:
        t = ep.task
        self.store.upsert_task(t.id, t.pack, t.family, t.origin, t.signature, t.source, t.project, t.file)
        self.episode_ids[id(ep)] = self.store.start_episode(self.ctx.run_id, t.id, self.ctx.release)

    def on_attempt(self, ep: Episode, attempt: int, step: StepResult, recalled: list[Recalled]) -> None:
        episode_id = self.episode_ids[id(ep)]
        for i, sample in enumerate(step.samples):
            self.store.record_attempt(episode_id, attempt_event(self.ctx, episode_id, attempt, i, step, sample,
                                                                recalled))
            self.attempts += 1

    def on_finish(self, ep: Episode) -> None:
        episode_id = self.episode_ids.pop(id(ep))
        fix = None
        if ep.winning is not None:
            work = ep.steps[-1].work
            fix = self.memory.make_fix(ep.task, work.source, ep.winning.candidate, work.diagnostic, "agent",
                                       ep.winning.result, episode_id, self.ctx.release)
            self.fixes_written += 1
            self.solved_by_memory += ep.winning.origin.startswith("memory")
        self.store.finish_episode(episode_id, ep.passed, ep.attempts, fix)


def run_day(model: RoutedModel, store: Repository, memory: ExperienceMemory, tasks: list[Task], cfg: EpisodeConfig,
            params: dict, on_done: Callable[[Episode], None] | None = None) -> DaySummary:
    release = model.name
    run = store.start_run("day", {**params, "release": release, "episode": asdict(cfg)})
    finished = store.completed_tasks(run.id)
    pending = [t for t in tasks if t.id not in finished]
    ctx = EventContext(run.id, "day", model.lm.name, release, cfg.temperature, cfg.max_new_tokens)
    recorder = DayRecorder(store, memory, ctx)
    episodes = run_episodes(model, pending, cfg, memory, recorder, on_done)
    passed = sum(finished.values()) + sum(ep.passed for ep in episodes)
    summary = DaySummary(run.id, run.resumed, len(tasks), len(finished), passed, recorder.attempts,
                         recorder.fixes_written, recorder.solved_by_memory)
    store.finish_run(run.id, {**asdict(summary), "pass_rate": round(summary.pass_rate, 4)})
    return summary
