"""Same-day reuse and day throughput: one day stream, memory on vs memory off.

Reuse = for each error signature, once a fix for it was verified that day, is the *next* task with
that signature solved? (``reuse_rate``: once per signature, as the issue words it; ``later_rate``: every
later task whose signature already has a verified fix, a larger sample of the same question.)
Paired: the same tasks with memory on and off (both / only on / only off / neither), and for the
tasks memory lost, whether the failing edit copied a line of a recalled fix.
Throughput = tasks per minute, and the share of the verifier-bound limit
(tasks x mean verify time / cores) that the day reached.

Run: python benchmarks/day_reuse.py [--pack rust] [--tasks 60] [--seed 7] [--memories 2] [--out FILE]
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
    """Tasks attempted after a fix of their signature was already in the store (by time, so a task
    batched together with the one that fixed it does not count)."""
    rows = store.db.execute(
        "SELECT e.passed, a.signature_before, a.created_at FROM episodes e "
        "JOIN attempts a ON a.id = (SELECT MIN(id) FROM attempts WHERE episode_id = e.id) "
        "WHERE e.finished_at IS NOT NULL ORDER BY a.created_at, e.id").fetchall()
    first_fix = dict(store.db.execute("SELECT signature, MIN(created_at) FROM fixes GROUP BY signature").fetchall())
    seen: set[str] = set()
    next_after_fix: list[bool] = []
    later: list[bool] = []
    by_signature: dict[str, list[int]] = {}
    for passed, sig, began in rows:
        if sig is None or sig not in first_fix or first_fix[sig] >= began:
            continue
        later.append(bool(passed))
        counts = by_signature.setdefault(sig, [0, 0])
        counts[0] += bool(passed)
        counts[1] += 1
        if sig not in seen:
            seen.add(sig)
            next_after_fix.append(bool(passed))
    episodes = store.db.execute("SELECT COUNT(*), SUM(passed) FROM episodes WHERE finished_at IS NOT NULL").fetchone()
    return {"episodes": episodes[0], "passed": episodes[1] or 0,
            "next_occurrences": len(next_after_fix), "next_solved": sum(next_after_fix),
            "reuse_rate": round(sum(next_after_fix) / len(next_after_fix), 4) if next_after_fix else None,
            "later_occurrences": len(later), "later_solved": sum(later),
            "later_rate": round(sum(later) / len(later), 4) if later else None,
            "later_by_signature": {sig: f"{ok}/{n}" for sig, (ok, n) in sorted(by_signature.items())}}


def outcomes(store: SQLiteStore) -> dict[str, dict]:
    """Per task: passed, the last attempt's edit, and the fix ids recalled on any attempt."""
    out: dict[str, dict] = {}
    for e in store.events():
        if e["sleepy.sample"] != 0:
            continue
        row = out.setdefault(e["sleepy.task.id"], {"edit": "", "recalled": []})
        row["edit"] = e["sleepy.edit"] or ""
        row["recalled"] += [r["fix_id"] for r in e["sleepy.memory.recalled"] if r["fix_id"] not in row["recalled"]]
    for task_id, passed in store.db.execute(
            "SELECT task_id, passed FROM episodes WHERE finished_at IS NOT NULL").fetchall():
        out.setdefault(task_id, {"edit": "", "recalled": []})["passed"] = bool(passed)
    return out


def _added(edit: str, source: str) -> set[str]:
    """The lines an edit adds that the program did not already hold (what could only come from elsewhere)."""
    return {ln[1:].strip() for ln in edit.splitlines()
            if ln.startswith("+") and len(ln[1:].strip()) >= 4 and ln[1:].strip() not in source}


def replayable(store: SQLiteStore, tasks, per_task: dict[str, dict]) -> dict:
    """Would a recalled fix, applied verbatim (no model call), have solved the task? Checked for every
    task that had fixes recalled, whatever the model then did."""
    from sleepy.tasks.edit import EditError, apply_edit, parse_edit
    from sleepy.tasks.verify import verify_many

    by_id = {t.id: t for t in tasks}
    items, owners = [], []
    for task_id, o in per_task.items():
        for fix in store.fixes(o.get("recalled", [])):
            try:
                candidate = apply_edit(by_id[task_id].source, parse_edit(fix.edit))
            except EditError:
                continue
            items.append((by_id[task_id], candidate))
            owners.append(task_id)
    solved = {owner for owner, r in zip(owners, verify_many(items), strict=True) if r.passed}
    with_recall = [t for t, o in per_task.items() if o.get("recalled")]
    return {"tasks_with_recalled_fixes": len(with_recall), "a_recalled_fix_applies": len(set(owners)),
            "a_recalled_fix_passes": len(solved),
            "passes_that_the_model_missed": sum(not per_task[t].get("passed") for t in solved)}


def by_memory(events: list[dict]) -> dict:
    """What memory did on its own: programs it made from recalled fix patterns, and tasks they solved
    without any model call (an episode whose first attempt memory passed never reached the model)."""
    made = [e for e in events if str(e.get("sleepy.edit.origin", "")).startswith("memory")]
    solved = {e["sleepy.task.id"] for e in made if e["sleepy.verifier.passed"]}
    model_first = {e["sleepy.task.id"] for e in events if e["sleepy.attempt"] == 1
                   and e.get("sleepy.edit.origin", "model") == "model"}
    return {"memory_programs_verified": len(made), "tasks_solved_by_memory_alone": len(solved - model_first),
            "tasks_memory_tried": len({e["sleepy.task.id"] for e in made})}


def paired(off: dict[str, dict], on: dict[str, dict], store_on: SQLiteStore, tasks) -> dict:
    sources = {t.id: t.source for t in tasks}
    both = only_on = only_off = neither = 0
    lost, lost_copied, lost_recalled = [], 0, 0
    for task_id, o in off.items():
        m = on.get(task_id, {})
        a, b = bool(o.get("passed")), bool(m.get("passed"))
        both += a and b
        only_off += a and not b
        only_on += b and not a
        neither += not a and not b
        if a and not b:
            lost.append(task_id)
            if m.get("recalled"):
                lost_recalled += 1
                source = sources[task_id]
                recalled_lines = set().union(*(_added(f.edit, source) for f in store_on.fixes(m["recalled"])))
                lost_copied += bool(_added(m["edit"], source) & recalled_lines)
    return {"both": both, "only_memory_on": only_on, "only_memory_off": only_off, "neither": neither,
            "lost_with_a_recalled_fix": lost_recalled, "lost_edit_copies_a_recalled_line": lost_copied,
            "lost_examples": lost[:5]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default="rust")
    ap.add_argument("--tasks", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--model", default=None)
    ap.add_argument("--memories", type=int, default=EpisodeConfig.memories_per_prompt,
                    help="recalled fixes per prompt with memory on")
    ap.add_argument("--memory-from", type=int, default=EpisodeConfig.memory_from_attempt + 1,
                    help="first attempt whose prompt gets recalled fixes (the workspace default is 2)")
    ap.add_argument("--patterns", type=int, default=EpisodeConfig.adapt_patterns,
                    help="recalled fix patterns memory applies itself before the model's first call (0: off)")
    ap.add_argument("--out", default=None, help="result JSON (default benchmarks/results/day_reuse_<pack>.json)")
    args = ap.parse_args()
    lm = load_model(args.model)
    tasks = day_tasks(args.pack, args.tasks, args.seed)
    out = {"command": f"python benchmarks/day_reuse.py --pack {args.pack} --tasks {args.tasks} --seed {args.seed} "
                      f"--memories {args.memories} --memory-from {args.memory_from} --patterns {args.patterns}"
                      + (f" --model {args.model}" if args.model else ""),
           "memories_per_prompt": args.memories, "memory_from_attempt": args.memory_from,
           "adapt_patterns": args.patterns,
           "model": lm.name, "pack": args.pack, "tasks": args.tasks, "seed": args.seed}
    per_task: dict[bool, dict[str, dict]] = {}
    for memory_on in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            store = SQLiteStore(Path(tmp) / "day.db")
            mem = ExperienceMemory(store, Embedder() if memory_on else None)
            cfg = EpisodeConfig(attempts=3, memory=memory_on, seed=args.seed, memories_per_prompt=args.memories,
                                memory_from_attempt=args.memory_from, adapt_patterns=args.patterns)
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
                **by_memory(events),
            }
            per_task[memory_on] = outcomes(store)
            if memory_on:
                out["paired"] = paired(per_task[False], per_task[True], store, tasks)
                out["verbatim_replay"] = replayable(store, tasks, per_task[True])
            store.close()
    write_result(f"day_reuse_{args.pack}", out, args.out)


if __name__ == "__main__":
    main()
