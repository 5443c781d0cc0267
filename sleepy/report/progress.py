"""Progress a person can watch: what is running, how far it is, about how long is left.

The loops (the day's tasks, a skill's training steps, the gate's evaluations) report through one
callback, ``progress(what, done, total)``, and print nothing themselves; this module turns those
calls into output. On a terminal: rich bars with an estimate. Anywhere else (a pipe, a CI log): one
plain line when a step begins, at most every ``every`` seconds while it runs, and when it ends. A
heartbeat prints a line when nothing was printed for ``quiet`` seconds (loading a model, gathering
training data), so a long job never looks hung: ``sleepy cycle`` once went 4 minutes silent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

ProgressFn = Callable[[str, int, int], None]  # (what is running, done, total): what the loops call


def counter(progress: ProgressFn | None, what: str, total: int) -> Callable[[object], None] | None:
    """An ``on_done(episode)`` callback for the day and eval loops: one more of ``total`` done, reported as
    ``what`` (None without ``progress``, so a library caller pays nothing)."""
    if progress is None:
        return None
    done = [0]
    progress(what, 0, total)

    def tick(_episode: object) -> None:
        done[0] += 1
        progress(what, done[0], total)

    return tick


def training_steps(progress: ProgressFn | None, what: str) -> Callable[[int, int, float], None] | None:
    """A training ``on_step(step, steps, loss)`` that reports ``what``'s steps (None without ``progress``)."""
    if progress is None:
        return None
    return lambda step, steps, _loss: progress(what, step, steps)


def duration(seconds: float) -> str:
    """``45 s``, ``3 min 05 s``, ``1 h 02 min``: short enough for a progress line."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def estimate(done: int, total: int, elapsed: float) -> float | None:
    """Seconds left at the rate so far (None before the first item is done)."""
    if done <= 0 or total <= done:
        return None if done <= 0 else 0.0
    return elapsed / done * (total - done)


@dataclass
class _Step:
    what: str
    total: int
    began: float
    done: int = 0
    note: str = ""
    bar: int | None = None


class Reporter:
    """One reporter per command: ``update`` is the loops' progress callback, ``log`` their log callback.

    Thread-safe: the heartbeat runs in a daemon thread, and callbacks may come from worker threads."""

    def __init__(self, console: Console, live: bool | None = None, every: float = 15.0, quiet: float = 30.0,
                 unit: Callable[[str], str] | None = None) -> None:
        self.console = console
        self.live = console.is_terminal if live is None else live
        self.every, self.quiet = every, quiet
        self.unit = unit or _unit
        self._lock = threading.RLock()
        self._step: _Step | None = None
        self._last_print = time.monotonic()
        self._last_line = 0.0
        self._stop = threading.Event()
        self._progress: Progress | None = None
        self._thread: threading.Thread | None = None
        self._began = time.monotonic()

    # -- the two callbacks -------------------------------------------------------------------------
    def log(self, message: str) -> None:
        """A line of the job's own narrative (``night 1: day of 30 tasks``), printed above any bar."""
        with self._lock:
            self._print(message)

    def update(self, what: str, done: int, total: int, note: str = "") -> None:
        """``done`` of ``total`` items of ``what``; a new ``what`` starts a new step (the old one ends)."""
        with self._lock:
            now = time.monotonic()
            step = self._step
            if step is None or step.what != what or done < step.done:
                self._end_step()
                step = self._step = _Step(what, total, now, done, note)
                if self._progress is not None:
                    step.bar = self._progress.add_task(escape(what), total=total, note="")
                else:
                    self._line(step, now)
            step.done, step.total, step.note = done, total, note
            if self._progress is not None and step.bar is not None:
                self._progress.update(step.bar, completed=done, total=total, note=escape(note))
                self._last_print = now
            elif done >= total or now - self._last_line >= self.every:
                self._line(step, now)
            if done >= total:
                self._end_step()

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> Reporter:
        if self.live:
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[note]}"), TimeElapsedColumn(), TextColumn("left"),
                                      TimeRemainingColumn(), console=self.console, transient=False)
            self._progress.start()
        self._thread = threading.Thread(target=self._heartbeat, name="sleepy-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        with self._lock:
            self._end_step(quiet=exc[0] is not None)
            if self._progress is not None:
                self._progress.stop()
                self._progress = None

    # -- internals ---------------------------------------------------------------------------------
    def _print(self, message: str) -> None:
        target = self._progress.console if self._progress is not None else self.console
        target.print(escape(message), highlight=False, soft_wrap=True)
        self._last_print = time.monotonic()

    def _line(self, step: _Step, now: float) -> None:
        elapsed = now - step.began
        left = estimate(step.done, step.total, elapsed)
        parts = [f"{step.what}: {step.done}/{step.total} {self.unit(step.what)}"]
        parts += [step.note] if step.note else []
        parts += [f"{duration(elapsed)} elapsed"] if step.done or elapsed >= 1 else []
        parts += [f"about {duration(left)} left"] if left and left >= 1 else []
        self._print(", ".join(parts))
        self._last_line = now

    def _end_step(self, quiet: bool = False) -> None:
        step, self._step = self._step, None
        if step is None or self._progress is None or step.bar is None:
            return
        self._progress.remove_task(step.bar)
        if not quiet:  # the bar goes; one line stays in the scroll-back with what it did and how long
            took = duration(time.monotonic() - step.began)
            note = f", {step.note}" if step.note else ""
            self._print(f"{step.what}: {step.done}/{step.total} {self.unit(step.what)}{note} in {took}")

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(5.0, self.quiet / 2)):
            with self._lock:
                now = time.monotonic()
                if now - self._last_print < self.quiet:
                    continue
                if self._progress is not None and self._step is not None:
                    continue  # a live bar's clock is ticking on screen
                if self._step is not None:
                    self._line(self._step, now)
                else:
                    self._print(f"... still working ({duration(now - self._began)} since the start)")


def _unit(what: str) -> str:
    """What the items of a step are, from its label: training counts steps, everything else tasks."""
    return "steps" if "training" in what else "tasks"
