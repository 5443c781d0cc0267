"""Packs: a frozen eval set, a generator of fresh day tasks, and (through the task's language) a verifier.

The frozen sets live in ``sleepy/tasks/<lang>_pack/frozen/`` in the on-disk task format; the
generators in ``sleepy/tasks/<lang>_pack/generator.py``. Generated tasks from *reserved* seeds form the
frozen generated holdout; day streams draw only from seeds below them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from pathlib import Path

from sleepy.tasks.task import Task, load_tasks

PACKS = ("rust", "python")
PACK_ROOT = Path(__file__).parent
HOLDOUT_SEED_BASE = 10_000_000
"""Seeds at or above this value are reserved for the frozen generated holdout."""


class UnknownPack(ValueError):
    pass


@dataclass(frozen=True)
class Pack:
    name: str

    @property
    def _generator(self):
        # Imported on first use, so the frozen set loads even while a generator is broken.
        return importlib.import_module(f"sleepy.tasks.{self.name}_pack.generator")

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self._generator.FAMILIES)

    def generate(self, family: str, seed: int) -> Task:
        return self._generator.generate(family, seed)

    @property
    def frozen_dir(self) -> Path:
        return PACK_ROOT / f"{self.name}_pack" / "frozen"

    def frozen(self) -> list[Task]:
        return load_tasks(self.frozen_dir, self.name, origin="frozen")

    def stream(self, n: int, seed: int, families: tuple[str, ...] | None = None) -> list[Task]:
        """``n`` generated tasks, families in round-robin order, reproducible from ``seed``."""
        fams = families or self.families
        # Modulo keeps every day stream below the seeds reserved for the holdout and pretraining.
        return [self.generate(fams[i % len(fams)], (seed * 100_003 + i) % HOLDOUT_SEED_BASE) for i in range(n)]

    def holdout(self, per_family: int = 40) -> list[Task]:
        """The frozen generated holdout: fixed tasks from reserved seeds, never used for training."""
        return [self.generate(fam, HOLDOUT_SEED_BASE + i) for fam in self.families for i in range(per_family)]


def get_pack(name: str) -> Pack:
    if name not in PACKS:
        raise UnknownPack(f"unknown pack {name!r}: choose one of {', '.join(PACKS)}")
    return Pack(name)


_PREFIX = {"rs": "rust", "py": "python"}


def regenerate(task_id: str) -> Task | None:
    """The generated task with this id (``gen-rs-<family>-<seed>``), or None for other tasks."""
    parts = task_id.split("-")
    if len(parts) < 4 or parts[0] != "gen" or parts[1] not in _PREFIX or not parts[-1].isdigit():
        return None
    pack = get_pack(_PREFIX[parts[1]])
    family = "-".join(parts[2:-1])
    if family not in pack.families:
        return None
    return pack.generate(family, int(parts[-1]))


def reference(task: Task) -> Task | None:
    """The task with a reference fix a night may learn from, or None.

    A generated task is regenerated with its fix. A project's own breakage has the best reference
    there is: the file as the project holds it now (the night verifies it before use, so a file
    the user has changed since is never taught as the fix). A held-out project task has none: the
    night never trains on it."""
    from sleepy.tasks.project.mutate import HELD_OUT_ORIGIN

    if task.origin == HELD_OUT_ORIGIN:
        return None
    if task.project and task.file:
        try:
            text = (Path(task.project) / task.file).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return replace(task, fix=text)
    return regenerate(task.id)
