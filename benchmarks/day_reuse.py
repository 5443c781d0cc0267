"""Same-day reuse and day throughput: one day stream, memory on vs memory off.

Reuse = for each error signature, once a fix for it was verified that day, is the *next* task with
that signature solved? Throughput = tasks per minute, and the share of the verifier-bound limit
(tasks x mean verify time / cores) that the day reached.

Run: python benchmarks/day_reuse.py [--pack rust] [--tasks 60] [--seed 7]
(writes benchmarks/results/day_reuse_<pack>.json)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402

from sleepy.adapters.lora import RoutedModel  # noqa: E402
from sleepy.loop.day import day_tasks, run_day  # noqa: E402
from sleepy.loop.episodes import EpisodeConfig  # noqa: E402
from sleepy.memory.recall import Embedder, ExperienceMemory  # noqa: E402
from sleepy.memory.sqlite import SQLiteStore  # noqa: E402
from sleepy.model.loader import load_model  # noqa: E402


def reuse(store: SQLiteStore) -> dict:
    rows = store.db.execute(
        "SELECT e.id, e.passed, (SELECT a.signature_before FROM attempts a WHERE a.episode_id = e.id ORDER BY a.id "
        "LIMIT 1) FROM episodes e WHERE e.finished_at IS NOT NULL ORDER BY e.id").fetchall()
    fixed: set[str] = set()
    next_after_fix: list[bool] = []
    waiting: set[str] = set()
    for _, passed, sig in rows:
        if sig in waiting:
            next_after_fix.append(bool(passed))
            waiting.discard(sig)
        if passed and sig not in fixed:
            fixed.add(sig)
            waiting.add(sig)
    return {"episodes": len(rows), "passed": sum(p for _, p, _ in rows),
            "next_occurrences": len(next_after_fix), "next_solved": sum(next_after_fix),
            "reuse_rate": round(sum(next_after_fix) / len(next_after_fix), 4) if next_after_fix else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default="rust")
    ap.add_argument("--tasks", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--model", default=None)
    args = ap.parse_args()
    lm = load_model(args.model)
    tasks = day_tasks(args.pack, args.tasks, args.seed)
    out = {"command": f"python benchmarks/day_reuse.py --pack {args.pack} --tasks {args.tasks} --seed {args.seed}",
           "model": lm.name, "pack": args.pack, "tasks": args.tasks, "seed": args.seed}
    for memory_on in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            store = SQLiteStore(Path(tmp) / "day.db")
            mem = ExperienceMemory(store, Embedder() if memory_on else None)
            cfg = EpisodeConfig(attempts=3, memory=memory_on, seed=args.seed)
            began = time.perf_counter()
            summary = run_day(RoutedModel(lm, None), store, mem, tasks, cfg, {"bench": memory_on})
            seconds = time.perf_counter() - began
            events = list(store.events())
            verify_s = sum(e["sleepy.latency.verify_s"] for e in events)
            generate_s = sum(e["sleepy.latency.generate_s"] for e in events)
            bound = args.tasks * (verify_s / max(1, len(events))) / (os.cpu_count() or 1)
            out["memory_on" if memory_on else "memory_off"] = {
                **reuse(store), "pass_rate": round(summary.pass_rate, 4), "attempts": summary.attempts,
                "fixes_remembered": summary.fixes_written, "seconds": round(seconds, 1),
                "tasks_per_minute": round(args.tasks / seconds * 60, 2),
                "verify_seconds_total": round(verify_s, 1), "generate_seconds_total": round(generate_s, 1),
                "verifier_bound_seconds": round(bound, 1),
                "fraction_of_verifier_bound": round(bound / seconds, 4),
            }
            store.close()
    write_result(f"day_reuse_{args.pack}", out)


if __name__ == "__main__":
    main()
