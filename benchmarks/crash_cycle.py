"""kill -9 at random points of real cycles: what must survive, and what the next start must clean up.

Each round starts a real ``sleepy cycle`` (small settings, in one continuing workspace), waits for the phase
it aims at (the day, a skill's training, the gate's evaluation, or the gate's verdict and the alias moves),
waits a random time more and sends SIGKILL to the whole process group. Then the next start: a short
``sleepy day`` (its first work folder sweeps dead owners' leftovers), ``sleepy stats --json``, the registry's check.
Four things are checked after every kill (issue 18's target):

* events: every attempt event committed before the kill is still there, byte for byte, and readable;
* production: unchanged, unless a completed gate moved it (a history entry with the gate's metrics);
* orphans: ``stats`` counts no episode the kill left unfinished, nor its attempts;
* temp folders: no sandbox work folder of a killed process is left in the temp folder.

The checks are functions (:func:`watch_events`, :func:`audit`) that ``tests/test_crash_cycle.py`` uses too.

Run: python benchmarks/crash_cycle.py --kills 20 --seed 1   (writes benchmarks/results/crash_cycle.json)
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, OneLineParser, write_result  # noqa: E402

from sleepy.adapters.registry import Registry  # noqa: E402
from sleepy.files import boot_id  # noqa: E402
from sleepy.memory.sqlite import SQLiteStore  # noqa: E402
from sleepy.tasks import sandbox  # noqa: E402

CONFIG = ("gate_seeds = 1\nholdout_per_family = 1\nlora_steps = 2\nmin_failures = 1\nmax_skills = 1\n"
          "attempts = 1\n")
"""The smallest settings that still reach every phase: a skill from one failure, two training steps, one gate
seed over the koans and one holdout task per family (a quick cycle has 10 steps and 2 per family)."""

PHASES = {  # the kill's aim -> (the output line that opens the phase, the longest random wait after it, s)
    "day": (re.compile(r"night \d+: day of"), 25.0),
    "training": (re.compile(r"^training skill "), 6.0),
    "gate": (re.compile(r"^gate: production .* and the candidate"), 25.0),
    # the verdict: once the candidate's evaluation is saved (or a registry log grows), the gate record and the
    # alias moves follow within milliseconds; the kill comes 0-40 ms after that
    "verdict": (re.compile(r"^gate: production .* and the candidate \((\w+)\)"), 0.04),
}
LANDED = [  # the last output line before the kill -> where it landed
    (re.compile(r"night 0|base line"), "base line"),
    (re.compile(r"night \d+: day of|: day: "), "day"),
    (re.compile(r"consolidating"), "night: mining and data"),
    (re.compile(r"^training|share merge"), "night: training"),
    (re.compile(r"^gate: (production|candidate)"), "night: gate"),
    (re.compile(r"night \d+: .*; production"), "after the night"),
]


# ---------------------------------------------------------------------------------------------- what is checked
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                              os.environ.get("PYTHONPATH")]))}
"""The commands run this checkout's sleepy, from wherever the benchmark is started."""


def sleepy(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sleepy.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)


class EventWatch:
    """The attempt events committed so far, each as a digest of its stored text, read from a second connection
    while the process under test writes: what is read before the kill was committed before it."""

    def __init__(self, db: Path) -> None:
        self.db, self.seen, self._last = db, {}, 0

    def read(self) -> int:
        if not self.db.exists():
            return 0
        try:
            con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
            try:
                rows = con.execute("SELECT id, event FROM attempts WHERE id > ? ORDER BY id", (self._last,)).fetchall()
            finally:
                con.close()
        except sqlite3.OperationalError:  # no table yet (the first migration not run)
            return len(self.seen)
        for event_id, text in rows:
            self.seen[event_id] = hashlib.sha256(text.encode()).hexdigest()
            self._last = event_id
        return len(self.seen)


def watch_events(db: Path) -> EventWatch:
    watch = EventWatch(db)
    watch.read()
    return watch


def group_pids(pgid: int) -> set[int]:
    """Every live process of a process group (the command, its verifier workers)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.add(int(entry.name))
    return pids


def production_of(ws: Path) -> str:
    path = ws / "registry" / "aliases.json"
    return json.loads(path.read_text()).get("production", "base") if path.exists() else "base"


def workspaces_of(pids: set[int]) -> list[str]:
    """Sandbox work folders whose owner file names one of ``pids``."""
    left = []
    for folder in Path(tempfile.gettempdir()).glob(sandbox.PREFIX + "*"):
        try:
            owner = json.loads((folder / sandbox.OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(owner, dict) and owner.get("pid") in pids and owner.get("boot") == boot_id():
            left.append(str(folder))
    return left


def orphans_counted(ws: Path) -> dict:
    """What ``sleepy stats`` counts beyond the finished episodes: episodes (and their attempts) a kill cut short.

    Ground truth is read straight from the tables; stats' totals come from the command itself."""
    out = sleepy("stats", "--by", "run", "--json", "-w", str(ws), timeout=120)
    if out.returncode != 0:
        return {"error": (out.stderr or out.stdout).strip()[-300:]}
    rows = json.loads(out.stdout)
    counted_eps, counted_attempts = sum(r["episodes"] for r in rows), sum(r["attempts"] for r in rows)
    con = sqlite3.connect(ws / "sleepy.db")
    try:
        done_eps, done_attempts = con.execute(
            "SELECT COUNT(DISTINCT a.episode_id), COUNT(*) FROM attempts a JOIN episodes e ON e.id = a.episode_id "
            "WHERE e.finished_at IS NOT NULL").fetchone()
        unfinished = con.execute("SELECT COUNT(*) FROM episodes WHERE finished_at IS NULL").fetchone()[0]
    finally:
        con.close()
    return {"episodes": counted_eps - done_eps, "attempts": counted_attempts - done_attempts,
            "unfinished_rows_kept": unfinished}


def audit(ws: Path, events: EventWatch, production_before: str, killed: set[int], since: str) -> dict:
    """The four properties after the next start (call it once that start has run)."""
    store = SQLiteStore(ws / "sleepy.db")
    try:
        after = {e["id"]: e for e in store.events()}  # every event decodes, or this raises
        texts = dict(store.db.execute("SELECT id, event FROM attempts").fetchall())
    finally:
        store.close()
    lost = [i for i in events.seen if i not in after]
    changed = [i for i, digest in events.seen.items()
               if i in texts and hashlib.sha256(texts[i].encode()).hexdigest() != digest]
    reg = Registry(ws / "registry")
    production = reg.resolve("production")
    moves = [h for h in reg.history() if h["alias"] == "production" and h["time"] >= since[:19]]
    gated = bool(moves) and moves[-1]["to"] == production and bool(moves[-1].get("metrics"))
    problems = [str(d) for d in reg.check()]  # what ``sleepy registry verify`` prints
    return {"events_before": len(events.seen), "events_after": len(after), "lost_events": len(lost) + len(changed),
            "production_before": production_before, "production_after": production,
            "production_changed": production != production_before,
            "production_change_unexplained": production != production_before and not gated,
            "registry_problems": problems,
            "orphans": orphans_counted(ws),
            "temp_folders_left": workspaces_of(killed),
            "staging_left": [p.name for p in (ws / "registry").glob("staging-*")]}


# ---------------------------------------------------------------------------------------------- one kill
@dataclass
class Round:
    n: int
    aim: str
    seed: int
    waited_s: float = 0.0
    killed: bool = False
    landed: str = ""
    last_line: str = ""
    seconds: float = 0.0
    left_by_kill: int = 0  # work folders of the killed processes right after the kill, for the next start to sweep
    next_start_s: float = 0.0
    checks: dict = field(default_factory=dict)


class Output:
    """The command's output lines as they come, each with the time it arrived."""

    def __init__(self, proc: subprocess.Popen, log: Path) -> None:
        self.lines: list[tuple[float, str]] = []
        self._proc, self._log = proc, log
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        with self._log.open("a") as fh:
            for line in self._proc.stdout:
                self.lines.append((time.time(), line.rstrip("\n")))
                fh.write(f"{time.strftime('%H:%M:%S')} {line}")
                fh.flush()

    def find(self, pattern: re.Pattern, after: int = 0) -> re.Match | None:
        for _, line in self.lines[after:]:
            m = pattern.search(line)
            if m:
                return m
        return None

    def last(self) -> str:
        return self.lines[-1][1] if self.lines else ""


def landed_at(line: str) -> str:
    for pattern, where in LANDED:
        if pattern.search(line):
            return where
    return "start-up"


def one_round(ws: Path, r: Round, rng: random.Random, log: Path, deadline: float) -> None:
    began = time.time()
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(began))
    events = watch_events(ws / "sleepy.db")
    production = production_of(ws)
    history = ws / "registry" / "history.jsonl"
    gate_log = ws / "registry" / "gate.jsonl"
    sizes = {p: p.stat().st_size if p.exists() else 0 for p in (history, gate_log)}
    cmd = [sys.executable, "-m", "sleepy.cli", "cycle", "--nights", "1", "-n", "6", "--seed", str(r.seed),
           "-w", str(ws)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env=ENV)
    out = Output(proc, log)
    pattern, longest = PHASES[r.aim]
    fire_at = None
    evals = ws / "cycle" / "evals"
    pids: set[int] = set()
    scanned = 0.0
    while proc.poll() is None and time.time() < deadline:
        if time.time() - scanned > 0.25:  # the workers that own work folders (a scan costs milliseconds)
            pids |= group_pids(proc.pid)
            scanned = time.time()
        m = out.find(pattern)
        if fire_at is None and m is not None:
            if r.aim == "verdict":
                made = list(evals.glob(f"*-{m.group(1)}-*.json")) if evals.is_dir() else []
                moved = any((p.stat().st_size if p.exists() else 0) != s for p, s in sizes.items())
                if made or moved:
                    fire_at = time.time() + rng.uniform(0.0, longest)
            else:
                fire_at = time.time() + rng.uniform(0.0, longest)
        if fire_at is not None and time.time() >= fire_at:
            events.read()  # the last read before the kill: everything counted here was committed before it
            pids |= group_pids(proc.pid)
            os.killpg(proc.pid, signal.SIGKILL)
            r.killed, r.waited_s = True, round(time.time() - began, 2)
            break
        if r.aim != "verdict" or m is None:
            events.read()
        time.sleep(0.002 if (r.aim == "verdict" and m is not None) else 0.05)
    if not r.killed and proc.poll() is None:  # out of time: the kill still counts, where it landed is reported
        events.read()
        pids |= group_pids(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        r.killed, r.waited_s = True, round(time.time() - began, 2)
    proc.wait()
    time.sleep(0.3)  # the output pump drains; bubblewrap dies with its parent
    r.left_by_kill = len(workspaces_of(pids))
    r.last_line = out.last()[:160]
    r.landed = landed_at(r.last_line) if r.killed else "finished before the kill"
    moved_now = {p.name: (p.stat().st_size if p.exists() else 0) != s for p, s in sizes.items()}
    if r.killed and r.landed == "night: gate" and any(moved_now.values()):
        r.landed = "night: verdict and alias moves"
    r.seconds = round(time.time() - began, 1)
    t0 = time.time()
    day = next_start(ws)
    r.next_start_s = round(time.time() - t0, 1)
    r.checks = audit(ws, events, production, pids, since)
    r.checks["next_day_exit"] = day.returncode
    if day.returncode != 0:
        r.checks["next_day_error"] = (day.stderr or day.stdout)[-400:]


def next_start(ws: Path, *model: str) -> subprocess.CompletedProcess:
    """The next start after a kill: a day of one task that already compiles (one rustc call; what matters is
    that it starts, opens a work folder, which sweeps dead owners' leftovers, and is a newer day run)."""
    tasks = ws / "next-start"
    (tasks / "ok").mkdir(parents=True, exist_ok=True)
    (tasks / "ok" / "task.toml").write_text('id = "next-start"\nfamily = "next-start"\n')
    (tasks / "ok" / "main.rs").write_text("fn main() {}\n")
    return sleepy("day", "--pack", "rust", "--tasks", str(tasks), *model, "-w", str(ws))


def nights_finished(ws: Path) -> int:
    if not (ws / "sleepy.db").exists():
        return 0
    con = sqlite3.connect(ws / "sleepy.db")
    try:
        return con.execute("SELECT COUNT(*) FROM runs WHERE kind = 'night' AND finished_at IS NOT NULL").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget-min", type=float, default=25.0, help="stop starting rounds after this long")
    parser.add_argument("--workspace", type=Path, default=None, help="default: a fresh folder under the temp folder")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--resume", action="store_true", help="continue the rounds in the result file (a run its "
                        "time budget cut short), in the same --workspace, until --kills")
    args = parser.parse_args()
    out_path = args.out or RESULTS / "crash_cycle.json"
    earlier = json.loads(out_path.read_text()) if args.resume else {}
    rng = random.Random(args.seed + len(earlier.get("rounds", [])))
    ws = args.workspace or Path(earlier.get("workspace") or tempfile.mkdtemp(prefix="crash-cycle-"))
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "config.toml").write_text(CONFIG)
    log = ws / "crash_cycle.log"
    # two kills in the day and two in training for each in the gate's evaluation and each at its verdict: a kill
    # at the verdict needs a whole evaluation first (minutes), one in the day only seconds
    aims = ["day", "training", "day", "gate", "training", "verdict"]
    began, load_start = time.time(), list(os.getloadavg())
    samples = [load_start]
    deadline = began + args.budget_min * 60
    rounds = [Round(**r) for r in earlier.get("rounds", [])]
    cycle_seed = max([args.seed - 1, *(r.seed for r in rounds)]) + 1  # resumed: a fresh task stream
    while sum(r.killed for r in rounds) < args.kills and time.time() < deadline:
        r = Round(len(rounds), aims[len(rounds) % len(aims)], cycle_seed)
        before = nights_finished(ws)
        one_round(ws, r, rng, log, deadline)
        rounds.append(r)
        if nights_finished(ws) > before:
            cycle_seed += 1  # that cycle's night is done: the next round works new tasks (a night has new failures)
        samples.append(list(os.getloadavg()))
        c = r.checks
        print(f"round {r.n}: aim {r.aim}, {'killed' if r.killed else 'not killed'} after {r.waited_s} s in "
              f"{r.landed!r} (last line {r.last_line!r}); events {c['events_before']} -> {c['events_after']}, "
              f"lost {c['lost_events']}; production {c['production_before']} -> {c['production_after']}; orphans "
              f"{c['orphans']}; temp folders left {len(c['temp_folders_left'])}; staging {len(c['staging_left'])}; "
              f"registry problems {len(c['registry_problems'])}; "
              f"next start {r.next_start_s} s", file=sys.stderr, flush=True)
    load_avg = {"start": load_start, "end": samples[-1],
                "mean_1min": round(sum(x[0] for x in samples) / len(samples), 1)}
    killed = [r for r in rounds if r.killed]
    lost = sum(r.checks["lost_events"] for r in killed)
    prod = sum(r.checks["production_change_unexplained"] for r in killed)
    orphans = sum(r.checks["orphans"].get("episodes", 0) + r.checks["orphans"].get("attempts", 0) for r in killed)
    stats_errors = sum("error" in r.checks["orphans"] for r in killed)
    temp = sum(len(r.checks["temp_folders_left"]) for r in killed)
    headline = (f"{len(killed)} kills, {lost} lost events, {prod} production changes, {orphans} orphan rows, "
                f"{temp} temp folders left")
    landed: dict[str, int] = {}
    for r in killed:
        landed[r.landed] = landed.get(r.landed, 0) + 1
    print(headline, flush=True)
    write_result("crash_cycle", {
        "headline": headline,
        "command": f"python benchmarks/crash_cycle.py --kills {args.kills} --seed {args.seed}"
                   + (f" --budget-min {args.budget_min:g}, then the same with --resume" if earlier else ""),
        "settings": {"cycle": "sleepy cycle --nights 1 -n 6 --seed S -w WS", "config.toml": CONFIG,
                     "next_start": "sleepy day --tasks <one task that compiles>, then sleepy stats --by run --json "
                                   "and the registry's check (sleepy registry verify)"},
        "kills": len(killed), "lost_events": lost, "production_changes": prod, "orphan_rows_counted": orphans,
        "stats_errors": stats_errors, "temp_folders_left": temp,
        "temp_folders_left_by_the_kills": sum(r.left_by_kill for r in killed),
        "production_moves_by_a_completed_gate": sum(r.checks["production_changed"] for r in killed) - prod,
        "registry_problems": sum(len(r.checks["registry_problems"]) for r in killed),
        "staging_left_after_next_start": sum(bool(r.checks["staging_left"]) for r in killed),
        "landed": landed, "seconds": round(time.time() - began + earlier.get("seconds", 0.0), 1),
        "runs": [*earlier.get("runs", [{"rounds": len(earlier.get("rounds", [])), "load_average":
                                        earlier.get("load_average")}] if earlier else []),
                 {"rounds": len(rounds) - len(earlier.get("rounds", [])), "load_average": load_avg}],
        "workspace": str(ws), "rounds": [asdict(r) for r in rounds]}, args.out)


if __name__ == "__main__":
    main()
