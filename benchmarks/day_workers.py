"""Day throughput with many workers on one PostgreSQL store: 1 vs 4 ``sleepy day --queue`` workers, and the
queue's own cost, so the scaling on a small machine can be extrapolated to a larger one on measured grounds.

Run: python benchmarks/day_workers.py [--pack python] [--tasks 24] [--workers 1 4] [--queue-tasks 2000]
     [--io-tasks 80] [--io-ms 100] [--out FILE]
(writes benchmarks/results/day_workers.json unless --out names another file).

Three measurements, each on a fresh database of one throwaway PostgreSQL server with its durable
defaults (fsync and synchronous commit on: every "done" waits for the disk, as in production):

1. **The real day**: ``--workers`` processes of ``sleepy --store URL day --queue Q`` (the bundled
   model, the pack's generated stream, every option at its default), all started at once on the same
   ``--tasks`` tasks. Throughput is tasks over the wall time from starting the processes to the last
   one's exit (what a user waits for), and over the steady part (the first episode's start to the last
   one's end, read from the store: model loading left out). The CPU seconds the workers and their
   verifiers used, per task, say what a core-bound day needs: with ``c`` free cores it cannot pass
   ``c / cpu_s_per_task`` tasks/s, whatever the queue does.
2. **The queue alone**: ``--queue-tasks`` items, workers that claim one item and complete it at once
   (no work): claims per second, the queue's ceiling.
3. **I/O-bound work**: ``--io-tasks`` items whose work is sleeping ``--io-ms`` (a worker waiting on a
   remote model server): the scaling when the workers do not compete for this machine's cores.

In 2 and 3 every worker process connects first, says so, and starts at one instant the parent sends
once all are ready, so interpreter start-up is not timed. The machine's load average is recorded
with each measurement: the 2 cores here are shared, and a CPU-bound day cannot run faster than its
cores allow, whatever the queue does.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, write_result  # noqa: E402

from sleepy.memory.pgcluster import ClusterUnavailable, ThrowawayCluster  # noqa: E402
from sleepy.memory.queue import TaskQueue  # noqa: E402
from sleepy.memory.store import open_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


# ---------------------------------------------------------------------- a queue-only worker (this file, run again)
def queue_worker(url: str, name: str, work_s: float) -> None:
    """Claim one item at a time and complete it after ``work_s`` of sleep; print what it did as one JSON line.

    It says ``ready`` once connected and starts at the instant the parent then sends (one for all workers)."""
    store = open_store(url)
    with TaskQueue(store, name, lease_s=60) as queue:
        queue.counts()  # connected and warm before the clock starts
        print("ready", flush=True)
        start_at = float(sys.stdin.readline())
        time.sleep(max(0.0, start_at - time.time()))
        done, last = 0, time.time()
        for batch in queue.batches(1, poll_s=0.05):
            for claim in batch:
                if work_s:
                    time.sleep(work_s)
                queue.complete(claim, {"ok": True})
                done, last = done + 1, time.time()
    print(json.dumps({"done": done, "last": last}), flush=True)
    store.close()


def queue_run(server: ThrowawayCluster, label: str, items: int, workers: int, work_s: float) -> dict:
    url = server.new_database(label).url
    store = open_store(url)
    TaskQueue(store, "bench").enqueue((f"t{i}", {"i": i}) for i in range(items))
    store.close()
    load = os.getloadavg()[0]
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", url, "bench", str(work_s)], env=ENV,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(workers)]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            sys.exit(f"day_workers: a queue worker did not start: {p.stderr.read().strip().splitlines()[-1:]}")
    start_at = time.time() + 0.2
    for p in procs:
        p.stdin.write(f"{start_at}\n")
        p.stdin.flush()
    reports = []
    for p in procs:
        out, errs = p.communicate(timeout=1800)
        if p.returncode != 0:
            sys.exit(f"day_workers: a queue worker failed: {errs.strip().splitlines()[-1:]}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    if sum(r["done"] for r in reports) != items:
        sys.exit(f"day_workers: {sum(r['done'] for r in reports)} items done of {items}")
    seconds = max(r["last"] for r in reports) - start_at
    return {"workers": workers, "items": items, "work_ms": round(work_s * 1000), "seconds": round(seconds, 3),
            "per_s": round(items / seconds, 1), "per_worker": [r["done"] for r in reports],
            "load_average_before": round(load, 2)}


# ---------------------------------------------------------------------- the real day
def _children_cpu_s() -> float:
    """CPU seconds (user + system) of the finished child processes, theirs included (verifiers, sandboxes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _iso(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def day_run(server: ThrowawayCluster, label: str, pack: str, tasks: int, workers: int, seed: int) -> dict:
    db = server.new_database(label)
    work = Path(tempfile.mkdtemp(prefix="sleepy-day-workers-"))
    cmd = [sys.executable, "-m", "sleepy.cli", "--store", db.url, "day", "--pack", pack, "-n", str(tasks), "--seed",
           str(seed), "--queue", label]
    load = os.getloadavg()[0]
    cpu_before = _children_cpu_s()
    started = time.monotonic()
    procs = [subprocess.Popen(cmd + ["-w", str(work / f"ws{i}")], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(workers)]
    outs = []
    for p in procs:
        out, errs = p.communicate(timeout=3600)
        if p.returncode != 0:
            sys.exit(f"day_workers: a day worker failed: {errs.strip().splitlines()[-1:]}")
        outs.append(out.strip())
    wall = time.monotonic() - started
    cpu = _children_cpu_s() - cpu_before
    store = open_store(db.url)
    first, last, finished, passed = store._q(
        "SELECT MIN(started_at), MAX(finished_at), COUNT(*), SUM(passed) FROM episodes "
        "WHERE finished_at IS NOT NULL").fetchone()
    counts = TaskQueue(store, label).counts()
    store.close()
    if counts.done != tasks or finished != tasks:
        sys.exit(f"day_workers: {counts.done} tasks done and {finished} episodes finished of {tasks}")
    steady = _iso(last) - _iso(first)
    return {"workers": workers, "tasks": tasks, "passed": passed, "wall_s": round(wall, 1),
            "tasks_per_s": round(tasks / wall, 4), "steady_s": round(steady, 1),
            "steady_tasks_per_s": round(tasks / steady, 4), "cpu_s": round(cpu, 1),
            "cpu_s_per_task": round(cpu / tasks, 2), "cores_obtained": round(cpu / wall, 2),
            "load_average_before": round(load, 2),
            "load_average_after": round(os.getloadavg()[0], 2), "worker_lines": outs}


def main() -> None:
    parser = OneLineParser(prog="day_workers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", default="python", choices=("python", "rust"))
    parser.add_argument("--tasks", type=int, default=24, help="tasks of the real day (each worker count)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--queue-tasks", type=int, default=2000)
    parser.add_argument("--io-tasks", type=int, default=80)
    parser.add_argument("--io-ms", type=float, default=100.0)
    parser.add_argument("--skip-day", action="store_true", help="only the queue measurements (a smoke run)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.tasks < 1 or args.queue_tasks < 1 or args.io_tasks < 1 or min(args.workers) < 1:
        parser.error("task counts and worker counts must be at least 1")
    try:
        server = ThrowawayCluster(durable=True).start()
    except ClusterUnavailable as exc:
        sys.exit(f"day_workers: {exc}")
    try:
        queue = [queue_run(server, f"queue{w}", args.queue_tasks, w, 0.0) for w in args.workers]
        io = [queue_run(server, f"io{w}", args.io_tasks, w, args.io_ms / 1000) for w in args.workers]
        day = [] if args.skip_day else [day_run(server, f"day{w}", args.pack, args.tasks, w, args.seed)
                                        for w in args.workers]
    finally:
        server.stop()
    lo, hi = min(args.workers), max(args.workers)

    def ratio(rows: list[dict], key: str) -> float:
        by = {r["workers"]: r[key] for r in rows}
        return round(by[hi] / by[lo], 2)

    per_task_queue_ms = 1000 / queue[0]["per_s"]
    headline = (f"queue alone: {queue[0]['per_s']:.0f} claims/s with {lo} worker, {queue[-1]['per_s']:.0f} with {hi}; "
                f"I/O-bound tasks ({args.io_ms:.0f} ms each): {ratio(io, 'per_s')}x with {hi} workers")
    result: dict = {"headline": headline}
    if day:
        day_ratio, steady_ratio = ratio(day, "tasks_per_s"), ratio(day, "steady_tasks_per_s")
        headline = (f"real day on PostgreSQL ({args.pack}, {args.tasks} tasks, {os.cpu_count()} shared cores): "
                    f"{day[0]['tasks_per_s']:.3f} tasks/s with {lo} worker, {day[-1]['tasks_per_s']:.3f} with {hi} "
                    f"({day_ratio}x wall, {steady_ratio}x after model loading); " + headline)
        seconds_per_task = 1 / day[0]["steady_tasks_per_s"]
        cpu_per_task = day[0]["cpu_s_per_task"]  # one worker: one model load, no contention among workers
        share = per_task_queue_ms / 1000 / seconds_per_task
        result = {"headline": headline, "queue_share_of_a_day_task": round(share, 5),
                  "cpu_s_per_task": round(cpu_per_task, 2),
                  "cpu_bound_ceiling_tasks_per_s": {f"{c} free cores": round(c / cpu_per_task, 3)
                                                    for c in (1, 2, 4, 8)},
                  "reading": (
                      f"A day task used {cpu_per_task:.1f} CPU-seconds (worker and verifiers) and the queue "
                      f"{per_task_queue_ms:.0f} ms of it ({share:.2%} of a task's time with one worker; two "
                      "commits that wait for the disk): the day is bound by its cores, not by the queue. "
                      f"This machine has {os.cpu_count()} cores, shared with other jobs (load average "
                      f"{day[0]['load_average_before']} before one worker, {day[-1]['load_average_before']} "
                      f"before {hi}): one worker obtained {day[0]['cores_obtained']} cores on average, {hi} "
                      f"workers {day[-1]['cores_obtained']} cores between them (using "
                      f"{day[-1]['cpu_s_per_task']} CPU-s a task: a model load in each, and contention for the "
                      f"cores), so {hi} workers could not "
                      f"run {hi} times as fast here; measured {day_ratio}x. Where the work does not compete "
                      f"for cores (tasks that wait {args.io_ms:.0f} "
                      f"ms, as on a remote model server), {hi} workers ran {ratio(io, 'per_s')}x as fast, and the "
                      f"queue alone went from {queue[0]['per_s']:.0f} to {queue[-1]['per_s']:.0f} claims/s. "
                      f"So with {hi} free cores per {hi} workers (or the model on a server), expect close to "
                      f"{hi}x, up to {hi / cpu_per_task:.2f} tasks/s at this task mix: an extrapolation from "
                      "the CPU cost per task and the I/O-bound scaling, not a measurement of a bigger machine.")}
    result |= {
        "command": "python benchmarks/day_workers.py " + " ".join(sys.argv[1:]),
        "store": "PostgreSQL throwaway cluster on a unix socket, durable defaults (fsync on, synchronous_commit on)",
        "day": day, "queue_alone": queue, "io_bound": io,
        "queue_ms_per_task_one_worker": round(per_task_queue_ms, 2),
    }
    write_result("day_workers", result, args.out)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        queue_worker(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        main()
