"""``sleepy day``: the agent works a stream of tasks with the production release.

Every attempt is committed as one wide event the moment it is verified; a verified fix is written
to memory at once (in the same transaction that closes its episode), so the next task of the day
can recall it. A run is keyed by its parameters: rerunning the same command after a crash
(even ``kill -9``) continues with the tasks that have no finished episode yet.

With a :class:`sleepy.loop.rollout.Rollout` the day is staged: each task runs on the release the rollout
routes it to (a canary fraction on ``candidate``), and after every batch the rollout looks at the outcomes
and may promote, drop the candidate or roll production back; later tasks then run on the new production.
A queued day (:func:`run_worker`) does the same in every worker with a
:class:`sleepy.loop.rollout.SharedRollout`: one decision at a time, on every worker's outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from sleepy.adapters.lora import RoutedModel
from sleepy.loop.agent import StepResult
from sleepy.loop.episodes import Episode, EpisodeConfig, Recorder, run_episodes
from sleepy.loop.rollout import Outcome, Rollout, SharedRollout, signature_key
from sleepy.memory.queue import Claim, ClaimLost, QueueCounts, TaskQueue
from sleepy.memory.recall import ExperienceMemory, Recalled
from sleepy.memory.repository import FixRecord, Repository
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
    releases: dict[str, int] = field(default_factory=dict)  # release -> tasks it ran (this run)
    rollout: list[dict] = field(default_factory=list)  # canary/monitor decisions that moved an alias, last looks

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
        self._close(ep, episode_id, fix)

    def _close(self, ep: Episode, episode_id: int, fix: FixRecord | None) -> None:
        """Write the episode's end and its fix (a queue worker: in the transaction that marks its task done)."""
        self.store.finish_episode(episode_id, ep.passed, ep.attempts, fix)


def run_day(model: RoutedModel, store: Repository, memory: ExperienceMemory, tasks: list[Task], cfg: EpisodeConfig,
            params: dict, on_done: Callable[[Episode], None] | None = None, rollout: Rollout | None = None,
            load: Callable[[str], RoutedModel] | None = None) -> DaySummary:
    """Work ``tasks`` with ``model`` (production); with ``rollout``, each task on the release it routes to,
    the others loaded with ``load(release id)`` when first needed."""
    release = model.name
    run = store.start_run("day", {**params, "release": release, "episode": asdict(cfg)})
    finished = store.completed_tasks(run.id)
    pending = [t for t in tasks if t.id not in finished]
    ctx = EventContext(run.id, "day", model.lm.name, release, cfg.temperature, cfg.max_new_tokens)
    recorder = DayRecorder(store, memory, ctx)
    if rollout is None:
        episodes = run_episodes(model, pending, cfg, memory, recorder, on_done)
        used = {release: len(episodes)} if episodes else {}
    else:
        episodes, used = _staged(model, pending, cfg, memory, recorder, on_done, rollout, load)
    passed = sum(finished.values()) + sum(ep.passed for ep in episodes)
    summary = DaySummary(run.id, run.resumed, len(tasks), len(finished), passed, recorder.attempts,
                         recorder.fixes_written, recorder.solved_by_memory, used)
    if rollout is not None:
        rollout.finish()
        summary.rollout = rollout.summary()
    store.finish_run(run.id, {**asdict(summary), "pass_rate": round(summary.pass_rate, 4)})
    return summary


def _staged(model: RoutedModel, pending: list[Task], cfg: EpisodeConfig, memory: ExperienceMemory,
            recorder: DayRecorder, on_done: Callable[[Episode], None] | None, rollout: Rollout,
            load: Callable[[str], RoutedModel] | None) -> tuple[list[Episode], dict[str, int]]:
    """One batch at a time: route each task, run each release's share, let the rollout look after the batch."""
    models = {model.name: model}
    base_ctx = recorder.ctx
    episodes: list[Episode] = []
    used: dict[str, int] = {}
    rollout.run_id = base_ctx.run_id
    for start in range(0, len(pending), cfg.batch_size):
        done = _run_routed(pending[start:start + cfg.batch_size], rollout, models, load, cfg, memory, recorder,
                           base_ctx, on_done, used)
        episodes += [ep for _, ep in done]
        rollout.observe([Outcome(ep.task.id, signature_key(ep.task.signature, ep.task.family), release_id,
                                 ep.passed) for release_id, ep in done])
    return episodes, used


def _run_routed(batch: list[Task], rollout: Rollout, models: dict[str, RoutedModel],
                load: Callable[[str], RoutedModel] | None, cfg: EpisodeConfig, memory: ExperienceMemory,
                recorder: DayRecorder, base_ctx: EventContext, on_done: Callable[[Episode], None] | None,
                used: dict[str, int]) -> list[tuple[str, Episode]]:
    """Split a batch by the release the rollout routes each task to, and run each part on that release's model
    (loaded with ``load(release id)`` when first needed, then kept in ``models``), its episodes recorded under
    that release; ``used`` counts them. Returns (release id, episode) for each finished task."""
    groups: dict[str, list[Task]] = {}
    for t in batch:
        groups.setdefault(rollout.release_for(t.id, signature_key(t.signature, t.family)), []).append(t)
    episodes: list[tuple[str, Episode]] = []
    for release_id, part in groups.items():
        if release_id not in models:
            if load is None:
                raise ValueError(f"the rollout routed tasks to release {release_id}, and no loader was given")
            models[release_id] = load(release_id)
        recorder.ctx = replace(base_ctx, release=release_id)
        try:
            done = run_episodes(models[release_id], part, cfg, memory, recorder, on_done)
        finally:
            recorder.ctx = base_ctx
        episodes += [(release_id, ep) for ep in done]
        used[release_id] = used.get(release_id, 0) + len(done)
    return episodes


# ---------------------------------------------------------------------- many workers on one shared queue
@dataclass
class WorkerSummary:
    """One worker's share of a queued day, and the queue as this worker left it."""

    run_id: int | None  # the day run all workers of the queue share; None: the queue was drained, nothing started
    worker: str  # host:pid
    tasks: int  # tasks this worker finished: their episode committed with the queue item's "done"
    passed: int
    lost: int  # tasks whose lease ran out before this worker finished them: another worker's result counts
    attempts: int
    fixes_written: int
    queue: QueueCounts
    releases: dict[str, int] = field(default_factory=dict)  # release -> tasks this worker ran on it
    rollout: list[dict] = field(default_factory=list)  # this worker's decisions that moved an alias, its last looks


class QueueRecorder(DayRecorder):
    """A :class:`DayRecorder` whose episode closes in the transaction that marks its queue item done, so a
    task has one finished episode however many workers claimed it."""

    def __init__(self, store: Repository, memory: ExperienceMemory, ctx: EventContext, queue: TaskQueue) -> None:
        super().__init__(store, memory, ctx)
        self.queue = queue
        self.claims: dict[str, Claim] = {}
        self.finished = self.passed = self.lost = 0

    def _close(self, ep: Episode, episode_id: int, fix: FixRecord | None) -> None:
        try:
            self.queue.complete(self.claims.pop(ep.task.id), {"passed": ep.passed, "attempts": ep.attempts},
                                then=lambda: super(QueueRecorder, self)._close(ep, episode_id, fix))
        except ClaimLost:  # its episode stays unfinished: the store counts it as cut short, not as a verdict
            self.lost += 1
            self.fixes_written -= fix is not None
            self.solved_by_memory -= fix is not None and ep.winning.origin.startswith("memory")
            return
        self.finished += 1
        self.passed += ep.passed


def run_worker(model: RoutedModel, store: Repository, memory: ExperienceMemory, queue: TaskQueue,
               cfg: EpisodeConfig, params: dict, on_done: Callable[[Episode], None] | None = None,
               rollout: SharedRollout | None = None, load: Callable[[str], RoutedModel] | None = None) -> WorkerSummary:
    """Work ``queue`` in batches of ``cfg.batch_size`` claims until it is drained (see :meth:`TaskQueue.batches`).

    Every worker of one queue and release shares one day run (``start_run`` resumes the unfinished run
    with the same parameters), so the night, ``stats`` and the dashboard see one day, not one per worker.

    With ``rollout`` (a canary, or a promotion being watched) each batch is split by the release the rollout
    routes each task to as the aliases stand at its claim (the same hash in every worker), each part run on its
    release's model (``model`` is production's; others are loaded with ``load(release id)`` once per worker),
    and after the batch the rollout looks under its lock at every worker's outcomes (:class:`SharedRollout`).
    When the queue is drained an undecided canary records its keep, once for all the workers.
    """
    if queue.counts().drained:
        return WorkerSummary(None, queue.worker, 0, 0, 0, 0, 0, queue.counts())
    release = model.name
    run = store.start_run("day", {**params, "queue": queue.name, "release": release, "episode": asdict(cfg)})
    ctx = EventContext(run.id, "day", model.lm.name, release, cfg.temperature, cfg.max_new_tokens)
    recorder = QueueRecorder(store, memory, ctx, queue)
    models, used = {release: model}, {}
    if rollout is not None:
        rollout.run_id = run.id
    for batch in queue.batches(cfg.batch_size):
        recorder.claims.update((c.task_id, c) for c in batch)
        tasks = [Task(**c.payload) for c in batch]
        if rollout is None:
            used[release] = used.get(release, 0) + len(run_episodes(model, tasks, cfg, memory, recorder, on_done))
            continue
        _run_routed(tasks, rollout.routing(), models, load, cfg, memory, recorder, ctx, on_done, used)
        rollout.look(len(tasks))
    counts, finished = queue.counts(), store.completed_tasks(run.id)
    if rollout is not None and counts.drained:
        rollout.finish()
    store.finish_run(run.id, {"queue": queue.name, "tasks": counts.total, "done": counts.done,
                              "failed": counts.failed, "passed": sum(finished.values()),
                              "pass_rate": round(sum(finished.values()) / counts.total, 4) if counts.total else 0.0})
    return WorkerSummary(run.id, queue.worker, recorder.finished, recorder.passed, recorder.lost, recorder.attempts,
                         recorder.fixes_written, counts, used, rollout.summary() if rollout is not None else [])
