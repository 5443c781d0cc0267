"""Prove tasks: the program fails with exactly its expected signature and the reference fix passes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sleepy.tasks.task import Task
from sleepy.tasks.verify import VerifyResult, verify


@dataclass
class CheckOutcome:
    task: Task
    problem: str | None  # None when the task is proven
    found_signature: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_task(task: Task) -> CheckOutcome:
    broken: VerifyResult = verify(task)
    seconds = broken.duration_s
    if broken.passed:
        return CheckOutcome(task, "the program passes as written", None, seconds)
    if task.signature and broken.signature != task.signature:
        return CheckOutcome(task, f"fails with {broken.signature}, expected {task.signature}",
                            broken.signature, seconds)
    if task.fix is None:
        return CheckOutcome(task, None if task.origin == "user" else "no reference fix", broken.signature,
                            seconds)
    if task.fix.strip() == task.source.strip():
        return CheckOutcome(task, "the reference fix is the program itself", broken.signature, seconds)
    fixed = verify(task, task.fix)
    seconds += fixed.duration_s
    if not fixed.passed:
        return CheckOutcome(task, f"reference fix fails: {fixed.signature}", broken.signature, seconds)
    return CheckOutcome(task, None, broken.signature, seconds)


def check_tasks(tasks: Iterable[Task], jobs: int = 2,
                on_done: Callable[[CheckOutcome], None] | None = None) -> list[CheckOutcome]:
    """Check in parallel, keeping input order; ``on_done`` is called as each finishes (progress bars)."""
    def one(task: Task) -> CheckOutcome:
        outcome = check_task(task)
        if on_done:
            on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, list(tasks)))
