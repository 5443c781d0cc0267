"""``sleepy correct``: a person's fix for an episode, verified before it reaches memory."""

from __future__ import annotations

from sleepy.memory.recall import ExperienceMemory
from sleepy.memory.repository import Repository
from sleepy.tasks.task import Task
from sleepy.tasks.verify import verify


class CorrectionError(ValueError):
    """The correction cannot be stored; the message says why in one line."""


def correct(store: Repository, memory: ExperienceMemory, episode_id: int, fixed_program: str) -> int:
    """Verify ``fixed_program`` against the episode's task and remember it as a human fix; returns its id."""
    episode = store.episode(episode_id)
    if episode is None:
        raise CorrectionError(f"no episode {episode_id} in the store")
    rows = store.task_rows([episode["task_id"]])
    if not rows:
        raise CorrectionError(f"episode {episode_id}: its task {episode['task_id']!r} is not in the store")
    r = rows[0]
    task = Task.from_row(r)
    before = verify(task)
    if before.passed:
        raise CorrectionError(f"task {task.id} already passes: nothing to correct")
    proof = verify(task, fixed_program)
    if not proof.passed:
        raise CorrectionError(f"the correction does not pass the verifier: {proof.signature}")
    return memory.remember(task, task.source, fixed_program, before.primary, "human", proof, episode_id,
                           episode["release"])
