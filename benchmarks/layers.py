"""What each layer adds on hand-written code: tools alone, the model alone, memory, the whole system.

For one pack and one set of tasks (the frozen koans, or any folder of task folders), the same tasks
are run with these candidate sources, greedy, seed 0, paired per task:

* ``tools``        the verifier's own hints only (rustc's suggestions, Python's hints), no model;
* ``model``        the model alone (``--no-tools``, no memory), up to ``--attempts`` calls;
* ``tools+model``  tools first, then the model;
* ``full``         tools, memory's adapted fix patterns, then the model (needs ``--memory-from``: a
                   workspace whose store a day filled with verified fixes of *generated* tasks);
* ``memory-first`` the same sources with memory before the tools (the order is a setting).

It reports each row's pass rate, who solved what, and the paired check that the full system never
fails a task that tools alone solve.

    python benchmarks/layers.py --pack rust [--tasks DIR] [--attempts 3] [--memory-from WS] [--out FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, write_result  # noqa: E402

from sleepy.adapters.lora import RoutedModel  # noqa: E402
from sleepy.loop.evaluate import evaluate  # noqa: E402
from sleepy.model.loader import load_model  # noqa: E402
from sleepy.tasks.packs import get_pack  # noqa: E402
from sleepy.tasks.task import load_tasks  # noqa: E402


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default="rust", choices=["rust", "python"])
    parser.add_argument("--tasks", default=None, help="a folder of task folders (default: the frozen koans)")
    parser.add_argument("--attempts", type=int, default=3, help="model calls per task")
    parser.add_argument("--memory-from", default=None, help="a workspace whose store holds a day's verified fixes")
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    tasks = load_tasks(Path(args.tasks), args.pack) if args.tasks else get_pack(args.pack).frozen()
    model = RoutedModel(load_model(args.model), None)
    memory = None
    rows = {"tools": ("tool",), "model": ("model",), "tools+model": ("tool", "model")}
    if args.memory_from:
        from sleepy.config import load_settings
        from sleepy.memory.recall import Embedder, ExperienceMemory
        from sleepy.memory.store import open_store

        memory = ExperienceMemory(open_store(load_settings(Path(args.memory_from))), Embedder())
        rows["memory+model"] = ("memory", "model")
        rows["memory-first"] = ("memory", "tool", "model")  # the other order, to choose the default by
        rows["full"] = ("tool", "memory", "model")
    reports = {}
    for name, sources in rows.items():
        uses_memory = "memory" in sources
        rep = evaluate(model, args.pack, attempts=args.attempts, tasks=tasks, sources=sources,
                       memory=memory if uses_memory else None, memory_from_attempt=2)
        reports[name] = rep
        print(f"{name}: {sum(r.passed for r in rep.rows)}/{len(rep.rows)} in {rep.seconds:.0f} s", file=sys.stderr)
    passed = {name: {r.task_id for r in rep.rows if r.passed} for name, rep in reports.items()}
    widest = list(rows)[-1]
    summary = {name: {"passed": len(passed[name]), "tasks": len(rep.rows),
                      "pass_rate": round(len(passed[name]) / len(rep.rows), 4),
                      "by_origin": rep.by_origin()[0], "seconds": rep.seconds} for name, rep in reports.items()}
    per_family: dict[str, dict[str, str]] = {}
    for name, rep in reports.items():
        for r in rep.rows:
            fam = per_family.setdefault(r.family, {})
            done, total = (int(x) for x in fam.get(name, "0/0").split("/"))
            fam[name] = f"{done + r.passed}/{total + 1}"
    headline = (f"{args.pack} {args.tasks or 'frozen koans'}: tools alone {len(passed['tools'])}/{len(tasks)}, "
                f"model alone {len(passed['model'])}, {widest} {len(passed[widest])}; "
                f"{widest} lost {len(passed['tools'] - passed[widest])} task(s) tools alone solve")
    write_result(f"layers_{args.pack}_{Path(args.tasks).name if args.tasks else 'frozen'}", {
        "headline": headline,
        "command": "python benchmarks/layers.py " + " ".join(sys.argv[1:]),
        "model": args.model, "seed": 0, "greedy": True, "attempts": args.attempts, "memory_from": args.memory_from,
        "rows": summary, "per_family": per_family,
        "lost_vs_tools": sorted(passed["tools"] - passed[widest]),
        "gained_over_tools": sorted(passed[widest] - passed["tools"]),
        "tasks": {name: [{"task_id": r.task_id, "passed": r.passed, "solved_by": r.solved_by, "path": r.path}
                         for r in rep.rows] for name, rep in reports.items()},
    }, Path(args.out) if args.out else None)


if __name__ == "__main__":
    main()
