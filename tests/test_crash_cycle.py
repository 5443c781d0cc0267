"""kill -9 of a real ``sleepy day`` (after its first event, while a verification holds a work folder) and a
real ``sleepy night`` (while a skill trains), SIGKILL to the whole process group, then the next start, then
issue 18's four properties: no event committed before the kill is lost, production is unchanged, ``stats``
counts no episode the kill cut short, and no work folder of a killed process is left; for the night, its
staging folder too. The checks are the crash benchmark's own (benchmarks/crash_cycle.py), so what the
benchmark measures at 20 random points (the gate's evaluation and verdict among them), CI guards at two.
Also the sweep of what needs no model: a dead night's staging folder, and the ownerless ``sleepy-*``
folders that code older than the owner file left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import needs_rustc
from test_registry_damage import failed_day  # noqa: F401  (a fixture: a store holding a day of failures)

from sleepy.tasks import sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from crash_cycle import audit, group_pids, next_start, watch_events, workspaces_of  # noqa: E402

SETTINGS = "min_failures = 1\nmax_skills = 1\nattempts = 1\n"


def start(log: Path, *args: str) -> subprocess.Popen:
    """A sleepy command in a session of its own (so the kill reaches its workers), its output in ``log``."""
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "sleepy.cli", *args], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def kill_when(proc: subprocess.Popen, ready, timeout: float = 120) -> set[int]:
    """SIGKILL ``proc``'s process group as soon as ``ready()`` holds (polled every 20 ms); the group's pids.
    Fails the test if the command ends first: a kill that never happened proves nothing."""
    pids: set[int] = set()
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, f"ended before the kill point: {proc.args}"
        assert time.time() < deadline, "the kill point never came"
        pids |= group_pids(proc.pid)
        time.sleep(0.02)
    pids |= group_pids(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return pids


def restart(ws: Path, model: Path) -> None:
    day = next_start(ws, "--model", str(model))
    assert day.returncode == 0, day.stdout + day.stderr


def assert_survived(checks: dict, production: str) -> None:
    assert checks["lost_events"] == 0, checks
    assert checks["production_after"] == production and not checks["production_changed"], checks
    assert checks["orphans"] == {"episodes": 0, "attempts": 0, "unfinished_rows_kept": checks["orphans"].get(
        "unfinished_rows_kept")}, checks["orphans"]
    assert checks["temp_folders_left"] == [], checks["temp_folders_left"]
    assert checks["registry_problems"] == [], checks["registry_problems"]


def since_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


@needs_rustc
def test_a_day_killed_after_its_first_event(micro, tmp_path):
    root, _ = micro
    model, ws = root / "model", tmp_path / "ws"
    ws.mkdir()
    (ws / "config.toml").write_text(SETTINGS)
    since, events = since_now(), watch_events(ws / "sleepy.db")
    proc = start(tmp_path / "day.log", "day", "-n", "8", "--seed", "3", "--model", str(model), "-w", str(ws))
    watched: set[int] = set()

    def first_event_and_a_work_folder() -> bool:
        watched.update(group_pids(proc.pid))
        return events.read() >= 1 and bool(workspaces_of(watched))

    pids = kill_when(proc, first_event_and_a_work_folder)
    events.read()  # nothing new can be committed now
    assert workspaces_of(pids), "the kill left no work folder to sweep"
    restart(ws, model)
    checks = audit(ws, events, "base", pids, since)
    assert checks["orphans"]["unfinished_rows_kept"] >= 1  # the kill cut an episode short: kept, not counted
    assert_survived(checks, "base")


@needs_rustc
def test_a_night_killed_in_training(failed_day, tmp_path):  # noqa: F811
    """Killed while a skill trains: its staging folder (the candidate's files so far) goes at the next start,
    whatever command that is, not only at the next night."""
    root, store = failed_day
    model, ws = root / "model", tmp_path / "ws"
    ws.mkdir()
    (ws / "config.toml").write_text(SETTINGS + "lora_steps = 2000\n")  # minutes of training: the kill lands in it
    store.close()
    shutil.copy(store.path, ws / "sleepy.db")
    since, events = since_now(), watch_events(ws / "sleepy.db")
    log = tmp_path / "night.log"
    proc = start(log, "night", "--model", str(model), "-w", str(ws))
    pids = kill_when(proc, lambda: "training " in log.read_text() and "steps" in log.read_text(), timeout=240)
    assert list((ws / "registry").glob("staging-*")), "the kill left no staging folder"
    restart(ws, model)
    checks = audit(ws, events, "base", pids, since)
    assert_survived(checks, "base")
    assert checks["staging_left"] == [] and not any((ws / "registry" / "releases").iterdir())  # nothing sealed
    aliases = ws / "registry" / "aliases.json"
    assert not aliases.exists() or "candidate" not in json.loads(aliases.read_text())


STAGE = """
import sys, time
from pathlib import Path
from sleepy.adapters.registry import Registry
folder = Registry(Path(sys.argv[1])).staging()
(folder / "adapter.bin").write_bytes(b"half a skill")
print(folder, flush=True)
time.sleep(300)
"""


def test_staging_of_a_dead_night_goes_at_any_start_and_a_live_one_stays(tmp_path):
    from sleepy.adapters.registry import Registry

    def stager() -> tuple[subprocess.Popen, Path]:
        proc = subprocess.Popen([sys.executable, "-c", STAGE, str(tmp_path / "reg")], stdout=subprocess.PIPE,
                                text=True)
        return proc, Path(proc.stdout.readline().strip())

    killed, dead = stager()
    live, kept = stager()
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        Registry(tmp_path / "reg")  # any command that opens the registry
        assert not dead.exists() and not dead.with_name(dead.name + ".owner").exists()
        assert (kept / "adapter.bin").exists()  # its night still runs
    finally:
        live.kill()
        live.wait()
    Registry(tmp_path / "reg")
    assert not kept.exists() and list((tmp_path / "reg").iterdir()) == [tmp_path / "reg" / "releases"]


MOVER = """
import sys
from pathlib import Path
from sleepy.adapters.registry import Registry
reg = Registry(Path(sys.argv[1]))
print("moving", flush=True)
for i in range(10**9):
    reg.move("production", sys.argv[2 + i % 2], "a promotion, again")
"""


def test_a_kill_during_an_alias_move_leaves_history_and_aliases_agreeing(tmp_path):
    """The verdict's moves (production, then candidate) killed at random points: the history must never be
    left ahead of aliases.json (verify would call it damage, and rollback would return to where production
    already is). Aliases written after the history's fsync, 22 of 30 such kills did that."""
    import random

    from test_registry_gate import make_release

    from sleepy.adapters.registry import Registry

    reg = Registry(tmp_path / "reg")
    a, b = make_release(reg, tmp_path, b"weights-a"), make_release(reg, tmp_path, b"weights-b")
    rng = random.Random(18)
    for _ in range(8):
        mover = subprocess.Popen([sys.executable, "-c", MOVER, str(reg.root), a.id, b.id], stdout=subprocess.PIPE,
                                 text=True)
        assert mover.stdout.readline().strip() == "moving"
        time.sleep(rng.uniform(0.05, 0.25))
        os.kill(mover.pid, signal.SIGKILL)
        mover.wait()
        assert Registry(reg.root).check() == []
        moves = [h for h in reg.history() if h["alias"] == "production"]
        assert len(moves) > 1 and reg.resolve("production") == moves[-1]["to"]


# ---------------------------------------------------------------------------------------------- ownerless folders
# A file's ctime cannot be set back, so these sweeps are told the time instead: an hour and a minute from now.
def _old_code_folder(base: Path, name: str) -> Path:
    """What a verification of code older than the owner file left after a kill: no owner file."""
    folder = base / name
    folder.mkdir()
    (folder / "main.rs").write_text("fn main() {}\n")
    (folder / ".sandbox.stdout").write_text("")
    return folder


def test_ownerless_folders_go_once_idle_and_unused(tmp_path):
    later = time.time() + sandbox.ORPHAN_AGE_S + 60
    stale = _old_code_folder(tmp_path, "sleepy-rs-stale")
    touched = _old_code_folder(tmp_path, "sleepy-py-touched")
    (touched / "deep").mkdir()
    (touched / "deep" / "new.txt").write_text("x")
    used = _old_code_folder(tmp_path, "sleepy-fix-used")
    other = _old_code_folder(tmp_path, "other-tool-abc")
    os.utime(touched / "deep" / "new.txt", (later - 5,) * 2)  # changed five seconds before the sweep
    holder = subprocess.Popen(["sleep", "60"], cwd=used)  # a process still works in it (old code's compiler)
    try:
        removed = sandbox.sweep_leftovers(tmp_path, now=later)
    finally:
        holder.kill()
        holder.wait()
    assert removed == [stale] and not stale.exists()
    assert touched.exists() and used.exists() and other.exists()
    assert sandbox.sweep_leftovers(tmp_path, now=later) == [used]  # its process is gone: the next sweep takes it


def test_a_fresh_ownerless_folder_is_kept(tmp_path):
    """One being made (its owner file comes microseconds later) or made a minute ago by older code."""
    fresh = _old_code_folder(tmp_path, "sleepy-py-fresh")
    assert sandbox.sweep_leftovers(tmp_path) == [] and fresh.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a folder to another user needs root")
def test_an_ownerless_folder_of_another_user_is_kept(tmp_path):
    theirs = _old_code_folder(tmp_path, "sleepy-rs-theirs")
    os.chown(theirs, sandbox.NOBODY_UID, sandbox.NOBODY_UID)
    later = time.time() + sandbox.ORPHAN_AGE_S + 60
    assert sandbox.sweep_leftovers(tmp_path, now=later) == [] and theirs.exists()
