"""A canary on a shared queue (``sleepy day --queue NAME --canary F``): real worker processes route every task with
the same hash, decide one at a time under the registry's rollout lock, and move an alias exactly once.

The library workers (this file run as a script, see the bottom) claim from a real queue in a real store and route
through the real :class:`sleepy.loop.rollout.SharedRollout` over a real registry; their work is fed outcomes, as
test_canary feeds them (the candidate fails its primary signature), so the candidate is clearly bad. The last test
runs two real ``sleepy day --queue --canary`` workers with the micro model.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from test_canary import SIGS, even, outcomes, release, staged, write_episodes
from test_store_contract import pg_cluster  # noqa: F401 - the session's throwaway PostgreSQL server, shared
from test_workers import finished_episodes, url  # noqa: F401 - url: a PostgreSQL or a SQLite store
from typer.testing import CliRunner

from sleepy.adapters.registry import BASE, Registry
from sleepy.cli import app
from sleepy.loop.rollout import KEEP, MONITOR, PROMOTE, ROLLBACK, SharedRollout, on_candidate
from sleepy.memory.queue import TaskQueue
from sleepy.memory.store import open_store

ROOT = Path(__file__).resolve().parents[1]
FRACTION = 0.25


# ---------------------------------------------------------------------- the work a library worker does
def worker_main(store_url: str, registry: str, name: str, worker: str, bad: str) -> None:
    """One worker: claim batches of 4, run each task on the release the shared rollout routes it to (every task
    passes, but a ``bad`` candidate fails every task of SIGS[1]), look after each batch, finish at the end.
    Prints ``done TASK RELEASE CANDIDATE`` per committed task (the candidate its batch was routed with, ``-``
    when no canary was on), then its decisions as one JSON line."""
    store = open_store(store_url)
    shared = SharedRollout(Registry(Path(registry)), store, FRACTION)
    run = store.start_run("day", {"queue": name})
    shared.run_id = run.id
    with TaskQueue(store, name, lease_s=30, worker=worker) as queue:
        for batch in queue.batches(4, poll_s=0.05):
            routing = shared.routing()
            for claim in batch:
                sig = claim.payload["signature"]
                rel = routing.release_for(claim.task_id, sig)
                passed = not (bad == "bad" and rel == routing.candidate and sig == SIGS[1])
                store.upsert_task(claim.task_id, "python", "fam", "generated", sig, "x = 1\n")
                episode = store.start_episode(run.id, claim.task_id, rel)
                time.sleep(0.01)
                queue.complete(claim, {"passed": passed},
                               then=lambda e=episode, p=passed: store.finish_episode(e, p, 1, None))
                print("done", claim.task_id, rel, routing.candidate or "-", flush=True)
            shared.look(len(batch))
        shared.finish()
    print(json.dumps(shared.summary()), flush=True)
    store.close()


def start_worker(store_url: str, registry: Path, name: str, worker: str, bad: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, store_url, str(registry), name, worker, bad], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def run_workers(store_url: str, registry: Path, name: str, n: int, bad: str) -> list[str]:
    """``n`` library workers on the queue until it is drained; each one's output."""
    procs = [start_worker(store_url, registry, name, f"w{i}", bad) for i in range(n)]
    outputs = []
    for p in procs:
        out, errs = p.communicate(timeout=120)
        assert p.returncode == 0, errs
        outputs.append(out)
    return outputs


def hashed(cand: str, task: str, sig: str) -> bool:
    """Whether the hash sends the task to the candidate: SIGS[1], its primary signature, at the primary share."""
    return on_candidate(task, cand, 0.5 if sig == SIGS[1] else FRACTION)


def day_tasks(cand: str, n: int, early: dict[str, int], within: int) -> dict[str, dict]:
    """``n`` tasks cycling the signatures, in queue order, their ids chosen so that among the first ``within``
    at least ``early[s]`` tasks of signature s hash to the candidate: the canary can decide early in the day."""
    for salt in range(1000):
        tasks = {f"q{salt}-{i:03d}": {"signature": SIGS[i % 4]} for i in range(n)}
        first = Counter(p["signature"] for t, p in list(tasks.items())[:within] if hashed(cand, t, p["signature"]))
        if all(first[sig] >= k for sig, k in early.items()):
            return tasks
    raise AssertionError("no salt gives the split")


def check_done_once(store_url: str, tasks: dict[str, dict], outputs: list[str]) -> list[list[str]]:
    """Every task done, with one finished episode, reported by one worker, on the release it reported; returns
    the reports: [task, release, candidate its batch was routed with]."""
    store = open_store(store_url)
    items = TaskQueue(store, "canary").items()
    assert {i["task_id"] for i in items} == set(tasks) and {i["state"] for i in items} == {"done"}
    ran = {t: r for t, r in store._q("SELECT task_id, release FROM episodes") if t in tasks}
    store.close()
    episodes = finished_episodes(store_url)
    assert all(episodes[t] == 1 for t in tasks)
    done = [line.split()[1:] for out in outputs for line in out.splitlines() if line.startswith("done ")]
    assert sorted(t for t, _, _ in done) == sorted(tasks) and ran == {t: r for t, r, _ in done}
    return done


# ---------------------------------------------------------------------- the tests
def test_workers_on_one_queue_roll_a_bad_candidate_back_exactly_once(url, tmp_path):  # noqa: F811
    reg, a, b = staged(tmp_path, 0)  # production a; candidate b retrained SIGS[1]: its primary signature
    store = open_store(url)
    write_episodes(store, outcomes(a, even(1.0), 40, 1, "before"))  # production's record before the day
    tasks = day_tasks(b, 96, {SIGS[1]: 5}, within=32)
    assert TaskQueue(store, "canary").enqueue(tasks.items()) == 96
    store.close()

    outputs = run_workers(url, reg.root, "canary", 3, "bad")

    done = check_done_once(url, tasks, outputs)
    # exactly one rollback, in the history and in the aliases; made by one worker
    moves = [h for h in reg.history() if h["alias"] == "candidate"]
    assert [(m["from"], m["to"]) for m in moves] == [(BASE, b), (b, a)]  # the night's, the rollback; no keep
    rollback = moves[-1]
    assert rollback["why"].startswith("canary: rollback") and SIGS[1] in rollback["why"]
    assert rollback["metrics"]["by"] == "primary" and rollback["metrics"]["decision"] == ROLLBACK
    assert reg.resolve("candidate") == a == reg.resolve("production") and reg.check() == []
    made = [json.loads(out.splitlines()[-1]) for out in outputs]
    assert sum(d["moved"] and d["decision"] == ROLLBACK for m in made for d in m) == 1
    # the hash's split while the canary was on (both releases ran tasks), production only once it was dropped
    during = {t: r for t, r, routed in done if routed == b}
    after = {t: r for t, r, routed in done if routed == "-"}
    assert set(during.values()) == {a, b} and after and set(after.values()) == {a}
    assert all(r == (b if hashed(b, t, tasks[t]["signature"]) else a) for t, r in during.items())
    assert any(hashed(b, t, tasks[t]["signature"]) for t in after)  # the canary's share, taken back


def test_workers_on_one_queue_promote_a_good_candidate_once_then_watch_it(url, tmp_path):  # noqa: F811
    """A candidate as good as production on every signature: promoted by one worker; every later batch runs on
    the new production, which the workers' monitor looks (under the same lock) then watch."""
    reg, a, b = staged(tmp_path, 2)
    store = open_store(url)
    write_episodes(store, outcomes(a, even(1.0), 40, 1, "before"))
    tasks = day_tasks(b, 128, dict.fromkeys(SIGS, 6), within=72)
    TaskQueue(store, "canary").enqueue(tasks.items())
    store.close()

    outputs = run_workers(url, reg.root, "canary", 3, "good")

    done = check_done_once(url, tasks, outputs)
    promotions = [h for h in reg.history() if h["alias"] == "production" and h["to"] == b]
    assert len(promotions) == 1 and promotions[0]["metrics"]["decision"] == PROMOTE, reg.history()
    assert promotions[0]["from"] == a and promotions[0]["why"].startswith("canary: promote")
    assert reg.resolve("production") == b == reg.resolve("candidate") and reg.check() == []
    assert not [h for h in reg.history() if h["from"] == h["to"]]  # decided: no end-of-day keep
    made = [d for out in outputs for d in json.loads(out.splitlines()[-1])]
    assert sum(d["moved"] for d in made) == 1 and not [d for d in made if d["decision"] == ROLLBACK]
    assert [d for d in made if d["stage"] == MONITOR]  # the promotion watched by the workers that looked after it
    during = {t: r for t, r, routed in done if routed == b}
    after = {t: r for t, r, routed in done if routed == "-"}
    assert all(r == (b if hashed(b, t, tasks[t]["signature"]) else a) for t, r in during.items())
    assert after and set(after.values()) == {b}  # the new production runs everything once promoted


def test_workers_on_one_queue_record_an_undecided_canary_once(url, tmp_path):  # noqa: F811
    """A candidate as good as production, too few tasks to decide: every worker finishes the day (each looks
    once more under the lock), and the keep is recorded once."""
    reg, a, b = staged(tmp_path, 1)
    store = open_store(url)
    write_episodes(store, outcomes(a, even(1.0), 40, 1, "before"))
    tasks = day_tasks(b, 16, {SIGS[1]: 1}, within=16)
    TaskQueue(store, "canary").enqueue(tasks.items())
    store.close()

    outputs = run_workers(url, reg.root, "canary", 3, "good")

    done = check_done_once(url, tasks, outputs)
    assert all(r == (b if hashed(b, t, tasks[t]["signature"]) else a) and routed == b for t, r, routed in done)
    assert {r for _, r, _ in done} == {a, b}
    keeps = [h for h in reg.history() if h["alias"] == "candidate" and h["from"] == h["to"]]
    assert len(keeps) == 1 and keeps[0]["metrics"]["decision"] == KEEP, reg.history()
    assert keeps[0]["metrics"]["tasks"] == sum(r == b for _, r, _ in done) and keeps[0]["why"].startswith("canary:")
    assert reg.resolve("candidate") == b and reg.resolve("production") == a and reg.check() == []
    made = [json.loads(out.splitlines()[-1]) for out in outputs]
    assert all(m and m[-1]["decision"] == KEEP and not m[-1]["moved"] for m in made)  # every worker looked


def test_a_queued_day_runs_the_canary_on_the_command_line(micro, tmp_path):
    """``sleepy day --queue --canary`` with the micro model (in-process): each task on its release by the hash,
    the undecided canary's keep recorded at the end; a second worker finding the queue drained adds nothing."""
    root, _ = micro
    ws = tmp_path / "ws"
    reg = Registry(ws / "registry")
    cand = release(reg, tmp_path, "cand", base_model=str(root / "model"))
    reg.move("candidate", cand, "night 1")
    (ws / "config.toml").write_text("max_steps = 1\ntool_candidates = 2\nmax_new_tokens = 8\n")
    args = ["day", "--pack", "python", "-n", "4", "--seed", "5", "--attempts", "1", "--model", str(root / "model"),
            "--no-memory", "-w", str(ws), "--queue", "tue", "--canary", "0.5"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "queue tue: 4/4 done" in first.output and "tasks per release:" in first.output
    assert "canary:" in first.output and "[moved]" not in first.output
    ran = dict(sqlite3.connect(ws / "sleepy.db").execute("SELECT task_id, release FROM episodes"))
    assert len(ran) == 4 and all(r == (cand if on_candidate(t, cand, 0.5) else BASE) for t, r in ran.items())
    keeps = [h for h in reg.history() if h["alias"] == "candidate" and h["from"] == h["to"] == cand]
    assert len(keeps) == 1 and keeps[0]["metrics"]["tasks"] == sum(r == cand for r in ran.values())
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0 and "nothing left to do" in second.output, second.output
    assert len(reg.history()) == 2 and reg.resolve("candidate") == cand


def test_a_queue_canary_with_no_candidate_is_one_line(tmp_path):
    result = CliRunner().invoke(app, ["day", "--pack", "python", "-n", "2", "--no-memory", "-w", str(tmp_path / "ws"),
                                      "--queue", "q", "--canary", "0.2"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no candidate to canary" in lines[0], result.output


if __name__ == "__main__":  # a library worker process of the tests above
    worker_main(*sys.argv[1:6])
