"""Many day workers on one shared queue (sleepy.memory.queue): each task done once, none lost, kill -9 included.

The workers are real processes on a real throwaway PostgreSQL server (and SQLite, which shares the
queue among processes on one machine). The library workers run this file as a script (see the
bottom): they claim from the real queue and do real, cheap, checkable work (a hash chain over the
task's payload), committing each answer with an episode in the transaction that marks the task
done. The last test runs the real ``sleepy day --queue`` worker with the micro model.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from itertools import count
from pathlib import Path

import pytest
from test_store_contract import pg_cluster  # noqa: F401 - the session's throwaway PostgreSQL server, shared

from sleepy.memory.queue import ClaimLost, TaskQueue
from sleepy.memory.store import open_store

ROOT = Path(__file__).resolve().parents[1]
_numbers = count()


# ---------------------------------------------------------------------- the work a library worker does
def answer(payload: dict, rounds: int) -> str:
    """The task's checkable outcome: ``rounds`` of SHA-256 over its payload (the test recomputes it)."""
    digest = json.dumps(payload, sort_keys=True).encode()
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


def worker_main(url: str, name: str, worker: str, lease: float, work_s: float, rounds: int) -> None:
    """One worker: claim batches of 4 until the queue is drained; each task's answer and its episode commit with
    its "done". Prints ``done TASK`` once a task is committed, ``lost TASK`` when its lease went to another."""
    store = open_store(url)
    run = store.start_run("day", {"queue": name})
    with TaskQueue(store, name, lease_s=lease, worker=worker) as queue:
        for batch in queue.batches(4, poll_s=0.1):
            for claim in batch:
                episode = store.start_episode(run.id, claim.task_id, "base")
                time.sleep(work_s)  # waiting, as a worker waits on a model server
                result = {"answer": answer(claim.payload, rounds)}
                try:
                    queue.complete(claim, result, then=lambda e=episode: store.finish_episode(e, True, 1, None))
                except ClaimLost:
                    print("lost", claim.task_id, flush=True)
                    continue
                print("done", claim.task_id, flush=True)
    store.close()


# ---------------------------------------------------------------------- stores
@pytest.fixture(params=["postgresql", "sqlite"])
def url(request, tmp_path) -> str:
    """A store of its own for each test: a database on the session's throwaway PostgreSQL server (the store
    contract tests' ``pg_cluster``), or a SQLite file."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return request.getfixturevalue("pg_cluster").server.new_database(f"workers{next(_numbers)}").url


def start_worker(url: str, name: str, worker: str, lease: float, work_s: float = 0.02,
                 rounds: int = 2000) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, url, name, worker, str(lease), str(work_s), str(rounds)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def finished_episodes(url: str) -> Counter:
    store = open_store(url)
    try:
        rows = store._q("SELECT task_id FROM episodes WHERE finished_at IS NOT NULL")
        return Counter(r[0] for r in rows)
    finally:
        store.close()


def check_every_task_done_once(url: str, name: str, payloads: dict[str, dict], outputs: list[str]) -> dict:
    """The invariants: every task done, with the right answer, one finished episode each, reported done by one
    worker only. Returns the queue's items by task id."""
    store = open_store(url)
    items = {i["task_id"]: i for i in TaskQueue(store, name).items()}
    store.close()
    assert set(items) == set(payloads)
    assert {i["state"] for i in items.values()} == {"done"}, Counter(i["state"] for i in items.values())
    assert all(items[t]["result"] == {"answer": answer(p, 2000)} for t, p in payloads.items())
    episodes = finished_episodes(url)
    assert set(episodes) == set(payloads) and set(episodes.values()) == {1}  # none done twice, none lost
    reported = Counter(line.split()[1] for out in outputs for line in out.splitlines() if line.startswith("done "))
    assert set(reported) == set(payloads) and set(reported.values()) == {1}
    return items


def fill(url: str, name: str, n: int) -> dict[str, dict]:
    payloads = {f"task-{i:03d}": {"n": i, "text": f"fn main() {{ let x{i} = {i}; }}"} for i in range(n)}
    store = open_store(url)
    assert TaskQueue(store, name).enqueue(payloads.items()) == n
    assert TaskQueue(store, name).enqueue(payloads.items()) == 0  # a second worker enqueueing the same stream
    store.close()
    return payloads


# ---------------------------------------------------------------------- the tests
def test_four_workers_do_200_tasks_each_exactly_once(url):
    payloads = fill(url, "day", 200)
    started = time.monotonic()
    procs = [start_worker(url, "day", f"w{i}", lease=30) for i in range(4)]
    outputs = []
    for p in procs:
        out, errs = p.communicate(timeout=120)
        assert p.returncode == 0, errs
        outputs.append(out)
    items = check_every_task_done_once(url, "day", payloads, outputs)
    assert {i["claims"] for i in items.values()} == {1}  # nobody died: no task was claimed twice
    by_worker = Counter(i["worker"] for i in items.values())
    assert set(by_worker) == {"w0", "w1", "w2", "w3"}, by_worker  # the work was shared, not serialised
    print(f"4 workers, 200 tasks: {time.monotonic() - started:.1f} s; tasks per worker {dict(by_worker)}")


def test_a_worker_killed_mid_claim_loses_no_task(url):
    """kill -9 a worker while it holds claims: its leases run out and the others take its tasks."""
    payloads = fill(url, "day", 200)
    lease = 2.0
    procs = {f"w{i}": start_worker(url, "day", f"w{i}", lease=lease, work_s=0.05) for i in range(4)}
    store = open_store(url)
    held: list[str] = []
    deadline = time.monotonic() + 60
    while not held and time.monotonic() < deadline:
        held = [r[0] for r in store._q("SELECT task_id FROM queue WHERE worker = 'w0' AND state = 'claimed'")]
        time.sleep(0.01)
    assert held, "worker w0 never held a claim"
    os.killpg(procs["w0"].pid, signal.SIGKILL)
    killed_at = time.monotonic()
    procs["w0"].wait()
    # what w0 still held when it died: claimed under its name, not done
    orphaned = [r[0] for r in store._q("SELECT task_id FROM queue WHERE worker = 'w0' AND state = 'claimed'")]
    store.close()
    assert orphaned, "w0 finished its claims before the kill landed"
    outputs = [procs["w0"].stdout.read()]
    for name in ("w1", "w2", "w3"):
        out, errs = procs[name].communicate(timeout=120)
        assert procs[name].returncode == 0, errs
        outputs.append(out)
    assert time.monotonic() - killed_at >= lease * 0.9  # the survivors waited for the lease, not less
    items = check_every_task_done_once(url, "day", payloads, outputs)
    for task in orphaned:  # taken again after the lease, by another worker
        assert items[task]["claims"] >= 2 and items[task]["worker"] != "w0", items[task]
    store = open_store(url)
    cut_short = {r[0] for r in store._q("SELECT task_id FROM episodes WHERE finished_at IS NULL")}
    store.close()
    # the only unfinished episodes are the dead worker's: claims it held at the kill, or (on a loaded machine)
    # earlier ones whose lease ran out and another worker took over before the kill; taken again either way
    assert all(items[t]["claims"] >= 2 and items[t]["worker"] != "w0" for t in cut_short), cut_short


def test_a_stalled_worker_cannot_complete_a_task_another_took(url):
    """A worker that stops heartbeating past its lease (a pause, a partition) loses the task: its late result is
    refused and written nowhere, and the task has the other worker's result only."""
    payloads = fill(url, "day", 1)
    store = open_store(url)
    run = store.start_run("day", {"queue": "day"})
    slow = TaskQueue(store, "day", lease_s=0.3, worker="slow")
    [mine] = slow.claim()
    slow.close()  # its heartbeat stops, as a stopped process's would
    late = store.start_episode(run.id, mine.task_id, "base")
    time.sleep(0.5)
    with TaskQueue(store, "day", lease_s=30, worker="fast") as fast:
        [theirs] = fast.claim()
        assert theirs.task_id == mine.task_id and theirs.claims == 2
        episode = store.start_episode(run.id, theirs.task_id, "base")
        fast.complete(theirs, {"answer": answer(payloads[theirs.task_id], 2000)},
                      then=lambda: store.finish_episode(episode, True, 1, None))
    with pytest.raises(ClaimLost):
        slow.complete(mine, {"answer": "late"}, then=lambda: store.finish_episode(late, False, 1, None))
    assert store.episode(late)["passed"] is None  # the late write was rolled back with the refused "done"
    store.close()
    check_every_task_done_once(url, "day", payloads, ["done task-000"])


def test_a_task_that_kills_every_worker_ends_failed_and_the_queue_drains(url):
    fill(url, "day", 2)
    store = open_store(url)
    queue = TaskQueue(store, "day", lease_s=0.2, max_claims=2, worker="doomed")
    for _ in range(2):  # claimed twice, and each time its worker dies (no heartbeat, no completion)
        claims = queue.claim(1)
        assert [c.task_id for c in claims] == ["task-000"]
        queue.close()
        time.sleep(0.3)
    with TaskQueue(store, "day", lease_s=5, max_claims=2) as healthy:
        done = []
        for batch in healthy.batches(4, poll_s=0.1):
            for claim in batch:
                healthy.complete(claim, {"answer": answer(claim.payload, 2000)})
                done.append(claim.task_id)
        counts = healthy.counts()
    assert done == ["task-001"] and counts.done == 1 and counts.failed == 1 and counts.drained
    failed = {i["task_id"]: i for i in healthy.items() if i["state"] == "failed"}
    assert set(failed) == {"task-000"} and "lease ran out 2 times" in failed["task-000"]["result"]["error"]
    store.close()


def test_bad_queue_settings_are_one_line_errors(tmp_path):
    from sleepy.memory.queue import QueueUnsupported

    store = open_store(f"sqlite:///{tmp_path}/s.db")
    for kwargs in ({"name": ""}, {"name": "q", "lease_s": 0}, {"name": "q", "max_claims": 0}):
        with pytest.raises(QueueUnsupported) as caught:
            TaskQueue(store, **kwargs)
        assert "\n" not in str(caught.value)
    store.close()


def test_real_day_workers_share_a_queue_and_a_killed_one_loses_nothing(micro, request, tmp_path):
    """Two real ``sleepy day --queue`` workers (micro model, Python tasks) on PostgreSQL; the first to claim is
    killed with kill -9 holding its claims; the other takes them after the lease and the day ends complete."""
    root, _ = micro
    db = request.getfixturevalue("pg_cluster").server.new_database(f"realday{next(_numbers)}")
    cmd = [sys.executable, "-m", "sleepy.cli", "--store", db.url, "day", "--pack", "python", "-n", "6", "--seed", "4",
           "--attempts", "1", "--model", str(root / "model"), "--no-memory", "--queue", "monday", "--lease", "3"]
    procs = [subprocess.Popen(cmd + ["-w", str(tmp_path / f"ws{i}")], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}) for i in range(2)]
    import psycopg

    victim = None
    deadline = time.monotonic() + 300
    with psycopg.connect(db.url, autocommit=True) as con:
        while victim is None and time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                rows = con.execute("SELECT DISTINCT worker FROM queue WHERE state = 'claimed'").fetchall()
            except psycopg.errors.UndefinedTable:  # no worker has opened the store yet
                continue
            pids = {int(w.rsplit(":", 1)[1]) for (w,) in rows}
            victim = next((p for p in procs if p.pid in pids), None)
        assert victim is not None, "no worker claimed a task"
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        orphaned = {t for (t,) in con.execute("SELECT task_id FROM queue WHERE state = 'claimed' AND worker LIKE %s",
                                              (f"%:{victim.pid}",))}
    survivor = next(p for p in procs if p is not victim)
    out, errs = survivor.communicate(timeout=600)
    assert survivor.returncode == 0, errs
    assert "queue monday: 6/6 done, 0 failed" in out, out
    with psycopg.connect(db.url, autocommit=True) as con:
        items = dict(con.execute("SELECT task_id, claims FROM queue WHERE state = 'done'").fetchall())
        finished = Counter(t for (t,) in con.execute("SELECT task_id FROM episodes WHERE finished_at IS NOT NULL"))
        runs = con.execute("SELECT COUNT(*), COUNT(finished_at) FROM runs WHERE kind = 'day'").fetchone()
    assert len(items) == 6 and set(finished) == set(items) and set(finished.values()) == {1}
    assert all(items[t] >= 2 for t in orphaned)  # the dead worker's tasks, claimed again after its lease
    assert runs == (1, 1)  # both workers wrote into one day run, finished once the queue drained


if __name__ == "__main__":  # a library worker process of the tests above
    url_, name_, worker_, lease_, work_s_, rounds_ = sys.argv[1:7]
    worker_main(url_, name_, worker_, float(lease_), float(work_s_), int(rounds_))
