"""Progress as a person sees it: plain lines in a pipe, never long silent, an estimate of what is left."""

import io
import time

from rich.console import Console

from sleepy.report.progress import Reporter, counter, duration, estimate, training_steps


def plain(every: float = 15.0, quiet: float = 30.0) -> tuple[Reporter, io.StringIO]:
    out = io.StringIO()
    return Reporter(Console(file=out, width=200), live=False, every=every, quiet=quiet), out


def test_durations_and_estimates_read_plainly():
    assert duration(45) == "45 s" and duration(185) == "3 min 05 s" and duration(3720) == "1 h 02 min"
    assert estimate(0, 10, 5.0) is None and estimate(5, 10, 20.0) == 20.0 and estimate(10, 10, 9.0) == 0.0


def test_a_pipe_gets_a_line_at_the_start_the_end_and_at_most_every_few_seconds():
    reporter, out = plain(every=0.2)
    with reporter:
        for i in range(301):
            reporter.update("night 1: day", i, 300)
            time.sleep(0.005)
    lines = out.getvalue().splitlines()
    assert lines[0] == "night 1: day: 0/300 tasks"
    assert lines[-1].startswith("night 1: day: 300/300 tasks, ") and "elapsed" in lines[-1]
    assert 4 <= len(lines) <= 14, lines  # ~1.5 s of updates, a line per 0.2 s, not one per task
    assert any("left" in line for line in lines[1:-1])  # an estimate while it runs


def test_training_counts_steps_and_a_new_step_starts_a_new_line():
    reporter, out = plain()
    with reporter:
        on_step = training_steps(reporter.update, "training rust_E0308")
        for step in range(1, 11):
            on_step(step, 10, 0.5)
        tick = counter(reporter.update, "gate: candidate, seed 0", 3)
        for _ in range(3):
            tick(object())
    lines = out.getvalue().splitlines()
    assert lines[0] == "training rust_E0308: 1/10 steps, 0 s elapsed"
    assert lines[1].startswith("training rust_E0308: 10/10 steps")
    assert lines[2] == "gate: candidate, seed 0: 0/3 tasks" and lines[3].startswith("gate: candidate, seed 0: 3/3")
    assert counter(None, "x", 3) is None and training_steps(None, "x") is None  # no reporter, no cost


def test_silence_is_broken_by_a_heartbeat():
    reporter, out = plain(quiet=0.4)
    with reporter:
        reporter.log("night 1: loading the model")
        time.sleep(1.2)  # nothing reports: loading a model, gathering data
    lines = out.getvalue().splitlines()
    assert lines[0] == "night 1: loading the model"
    assert any(line.startswith("... still working") for line in lines[1:]), lines


def test_a_terminal_gets_bars_and_keeps_one_line_per_finished_step():
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=True)
    with Reporter(console) as reporter:
        for i in range(6):
            reporter.update("night 1: day", i, 5)
        reporter.log("night 1: day passed 5/5")
    text = out.getvalue()
    assert "night 1: day: 5/5 tasks in " in text and "night 1: day passed 5/5" in text
