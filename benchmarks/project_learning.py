"""Does sleepy get better at *a project's own code* over nights? Real crates and real PyPI packages.

Each project is broken on purpose (``sleepy.tasks.project.mutate.project_tasks``: proven breakages,
split by file into day tasks and held-out files). One workspace learns them all, as ``sleepy day
--project`` and ``sleepy night`` do: a day on the day tasks (memory on), a night (mining, the project's
own files as the teacher, one skill per cluster, the gate on the frozen set plus the projects'
held-out breakages), three times. The held-out breakages are measured, paired per breakage:

* tools: the verifier's hints alone (rustc's suggestions and notes; the interpreter's hints);
* day 0: the full system before any day (tools, an empty memory, the base model);
* after night 1 and night 3: the full system with production and the memory the days filled.

"tools" is read off the day-0 run: a breakage the tools alone repair is one the day-0 run repairs by
tool steps only (tools go first at every step and are deterministic), so it costs no extra run.
The gate measures on the same held-out breakages: a promotion is selected on them, which the
results file says next to the numbers.

    python benchmarks/project_learning.py --lang rust [--projects semver,itoa] [--nights 3] [--seed 1]
    python benchmarks/project_learning.py --lang python
"""

from __future__ import annotations

import shutil
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from email.parser import HeaderParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, write_result  # noqa: E402
from real_projects import DEFAULT_CRATES, crate_copy  # noqa: E402

from sleepy.adapters.lora import load_release_model  # noqa: E402
from sleepy.adapters.registry import Registry  # noqa: E402
from sleepy.config import Settings  # noqa: E402
from sleepy.files import cache_dir  # noqa: E402
from sleepy.loop.day import keep_for_gate, run_day  # noqa: E402
from sleepy.loop.episodes import day_config  # noqa: E402
from sleepy.loop.evaluate import EvalReport, evaluate  # noqa: E402
from sleepy.loop.night import night_config, project_holdout, run_night  # noqa: E402
from sleepy.memory.recall import Embedder, ExperienceMemory  # noqa: E402
from sleepy.memory.sqlite import SQLiteStore  # noqa: E402
from sleepy.tasks.project import detect_project  # noqa: E402
from sleepy.tasks.project.mutate import HELD_OUT_ORIGIN, project_tasks  # noqa: E402

SDISTS = cache_dir() / "sdists"
DEFAULT_PACKAGES = ("inflection", "more-itertools", "parse", "tabulate", "toolz", "jmespath", "cachetools", "wcwidth",
                    "xmltodict")


def sdist_copy(name: str, into: Path) -> tuple[Path, dict] | None:
    """The downloaded sdist of ``name`` unpacked into ``into`` (``install.sh`` fetches them from PyPI)."""
    found = sorted(SDISTS.glob(f"{name}-*.tar.gz"))
    if not found:
        return None
    with tarfile.open(found[-1]) as tar:
        tar.extractall(into, filter="data")
    root = into / found[-1].name.removesuffix(".tar.gz")
    info = HeaderParser().parsestr((root / "PKG-INFO").read_text(errors="replace"))
    licence = info.get("License-Expression") or info.get("License") or next(
        (c.split("::")[-1].strip() for c in info.get_all("Classifier", []) if c.startswith("License ::")), "?")
    return root, {"project": info.get("Name", name), "version": info.get("Version", "?"),
                  "licence": (licence or "?").splitlines()[0][:60], "source": f"PyPI sdist {found[-1].name}"}


def held_out_eval(model, tasks, memory, settings, jobs: int) -> EvalReport:
    return evaluate(model, tasks[0].pack, tasks=tasks, memory=memory, jobs=jobs, attempts=settings.attempts,
                    max_new_tokens=settings.max_new_tokens, memory_from_attempt=settings.memory_from_attempt,
                    memory_patterns=settings.memory_patterns, sources=tuple(settings.candidates),
                    max_steps=settings.max_steps, tasks_dir="held-out breakages")


def by_tools_alone(row) -> bool:
    return row.passed and bool(row.path) and all(p.startswith("tool") for p in row.path)


def remeasure(args) -> None:
    """The stored held-out breakages of a finished run, measured again: tools alone and day 0 (empty
    memory, base model), and the workspace's system as the run left it (its memory, production)."""
    if not args.workspace or not (Path(args.workspace) / "sleepy.db").is_file():
        sys.exit("--remeasure needs the --workspace of an earlier run")
    ws = Path(args.workspace)
    settings = Settings(gate_seeds=args.gate_seeds, holdout_per_family=args.holdout_per_family)
    store = SQLiteStore(ws / "sleepy.db")
    registry = Registry(ws / "registry")
    held = project_holdout(store, args.lang)
    began = time.perf_counter()
    fresh = ExperienceMemory(SQLiteStore(ws / "empty.db"), Embedder())
    model = load_release_model(None, settings.model)
    day0 = held_out_eval(model, held, fresh, settings, args.jobs)
    now = held_out_eval(load_release_model(registry.get("production"), settings.model), held,
                        ExperienceMemory(store, Embedder()), settings, args.jobs)
    first = {r.task_id: r for r in day0.rows}
    last = {r.task_id: r for r in now.rows}
    tools = sum(by_tools_alone(r) for r in day0.rows)
    passed0, passed = sum(r.passed for r in day0.rows), sum(r.passed for r in now.rows)
    by_project: dict[str, list[int]] = {}
    for t in held:
        r = first[t.id]
        counts = by_project.setdefault(Path(t.project or "?").name, [0, 0])
        counts[0] += by_tools_alone(r)
        counts[1] += 1
    n = len(held)
    write_result(f"project_learning_{args.lang}_remeasure", {
        "headline": f"{n} held-out breakages of {len(by_project)} packages measured again: tools alone {tools} "
                    f"({tools / n:.0%}), day 0 {passed0} ({passed0 / n:.0%}), with the run's memory and production "
                    f"{passed} ({passed / n:.0%})",
        "command": "python benchmarks/project_learning.py " + " ".join(sys.argv[1:]),
        "tools": tools, "day 0": passed0, "with memory and production": passed, "tasks": n,
        "tools_by_project": {k: f"{a}/{b}" for k, (a, b) in sorted(by_project.items())},
        "seconds": round(time.perf_counter() - began),
        "cases": [{"task": t.id, "signature": t.signature, "tools": by_tools_alone(a), "day 0": a.passed,
                   "now": b.passed, "now by": b.solved_by}
                  for t in held for a, b in [(first[t.id], last[t.id])]]},
        Path(args.out) if args.out else None)


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("rust", "python"), default="rust")
    parser.add_argument("--projects", default=None, help="crates (rust) or sdist names (python), comma-separated")
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--per-file", type=int, default=4, help="mutations tried per source file")
    parser.add_argument("--max-day", type=int, default=30, help="day tasks kept per project")
    parser.add_argument("--max-held", type=int, default=20, help="held-out breakages kept per project")
    parser.add_argument("--gate-seeds", type=int, default=1)
    parser.add_argument("--holdout-per-family", type=int, default=3, help="generated holdout in the gate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workspace", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--remeasure", action="store_true",
                        help="measure again the held-out breakages stored in --workspace (after a change to the "
                             "tools), without proving new ones or running nights")
    args = parser.parse_args()
    if args.remeasure:
        remeasure(args)
        return
    names = [n.strip() for n in (args.projects or ",".join(DEFAULT_CRATES if args.lang == "rust"
                                                           else DEFAULT_PACKAGES)).split(",") if n.strip()]
    began = time.perf_counter()
    ws = Path(args.workspace) if args.workspace else Path(tempfile.mkdtemp(prefix="sleepy-learn-"))
    ws.mkdir(parents=True, exist_ok=True)
    copies = ws / "projects"
    copies.mkdir(exist_ok=True)
    settings = Settings(gate_seeds=args.gate_seeds, holdout_per_family=args.holdout_per_family)
    store = SQLiteStore(ws / "sleepy.db")
    memory = ExperienceMemory(store, Embedder())
    registry = Registry(ws / "registry")

    projects, day, held = [], [], []
    for name in names:
        copied = (crate_copy if args.lang == "rust" else sdist_copy)(name, copies)
        if copied is None:
            print(f"{name}: not installed; skipped (install.sh installs it)", file=sys.stderr)
            continue
        root, meta = copied
        t0 = time.perf_counter()
        try:
            made = project_tasks(detect_project(root), args.seed, args.per_file, jobs=args.jobs)
        except Exception as exc:  # one project that does not build must not sink the others
            print(f"{name}: {str(exc).splitlines()[0]}; skipped", file=sys.stderr)
            continue
        d = [t for t in made if t.origin != HELD_OUT_ORIGIN][: args.max_day]
        h = [t for t in made if t.origin == HELD_OUT_ORIGIN][: args.max_held]
        meta = {**meta, "project": meta.get("project", meta.get("crate")), "day_tasks": len(d), "held_out": len(h),
                "tasks_s": round(time.perf_counter() - t0, 1)}
        meta.pop("crate", None)
        projects.append(meta)
        day += d
        held += h
        print(f"{name}: {len(d)} day tasks, {len(h)} held-out breakages ({meta['tasks_s']} s)", file=sys.stderr)
    if not held:
        sys.exit("no held-out breakage in any project")
    keep_for_gate(store, held)
    model_ref = settings.model
    ep_cfg = day_config(settings, args.jobs, args.seed)
    n_cfg = night_config(settings, args.jobs, args.seed)

    def measure(label: str) -> EvalReport:
        t0 = time.perf_counter()
        model = load_release_model(registry.get("production"), model_ref)
        rep = held_out_eval(model, held, memory if label != "day 0" else ExperienceMemory(SQLiteStore(
            ws / "empty.db"), Embedder()), settings, args.jobs)
        print(f"{label}: {sum(r.passed for r in rep.rows)}/{len(rep.rows)} held-out breakages repaired "
              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        return rep

    def save() -> None:
        """Write what is measured so far (a run stopped part-way still leaves its numbers)."""
        base = {r.task_id: r for r in reports["day 0"].rows}
        cases = []
        for t in held:
            case = {"project": t.project and Path(t.project).name, "file": t.file, "task": t.id, "family": t.family,
                    "signature": t.signature, "tools": by_tools_alone(base[t.id])}
            for label, rep in reports.items():
                row = next(r for r in rep.rows if r.task_id == t.id)
                case[label] = row.passed
                case[f"{label} by"] = row.solved_by
            cases.append(case)
        total = len(cases)
        counts = {"tools": sum(c["tools"] for c in cases), **{k: sum(c[k] for c in cases) for k in reports}}
        last = list(reports)[-1]  # the latest measurement (a run stopped part-way has fewer)
        gained = sum(c[last] and not c["day 0"] for c in cases)
        lost = sum(c["day 0"] and not c[last] for c in cases)
        points = 100 * (counts[last] - counts["day 0"]) / total
        kind = "crates" if args.lang == "rust" else "Python packages"
        write_result(f"project_learning_{args.lang}", {
            "headline": f"{len(projects)} real {kind}, {total} held-out breakages: tools alone {counts['tools']} "
                        f"({counts['tools'] / total:.0%}), day 0 {counts['day 0']} ({counts['day 0'] / total:.0%}), "
                        f"{last} {counts[last]} ({counts[last] / total:.0%}): {points:+.1f} points ({gained} gained, "
                        f"{lost} lost); "
                        f"{sum(1 for n in nights if n['promoted'])} promotion(s), "
                        f"{sum(n['regressions'] for n in nights if n['promoted'])} regressions in them",
            "command": "python benchmarks/project_learning.py " + " ".join(sys.argv[1:]),
            "settings": {"gate_seeds": args.gate_seeds, "holdout_per_family": args.holdout_per_family,
                         "per_file": args.per_file, "max_day": args.max_day, "max_held": args.max_held,
                         "seed": args.seed, "model": settings.model or "bundled default"},
            "caveat": "the gate measures on these held-out breakages too (a promotion is selected on them); the "
                      "night never trains on them (their files are held out of the day and the teacher)",
            "counts": counts, "tasks": total, "gained": gained, "lost": lost, "points": round(points, 1),
            "projects": projects, "nights": nights, "seconds": round(time.perf_counter() - began),
            "cases": cases}, Path(args.out) if args.out else None)

    nights: list[dict] = []
    reports = {"day 0": measure("day 0")}
    save()
    for n in range(1, args.nights + 1):
        t0 = time.perf_counter()
        model = load_release_model(registry.get("production"), model_ref)
        summary = run_day(model, store, memory, day, replace(ep_cfg, seed=args.seed + n),
                          {"benchmark": "project_learning", "night": n, "lang": args.lang})
        day_s = time.perf_counter() - t0
        print(f"night {n}: day {summary.passed}/{summary.tasks}", file=sys.stderr)
        report = run_night(store, memory, registry, args.lang, n_cfg, model_ref, ws / "evals",
                           log=lambda m: print(m, file=sys.stderr))
        decision = report.decision or {}
        nights.append({"night": n, "day_passed": summary.passed, "day_tasks": summary.tasks,
                       "day_seconds": round(day_s, 1), "clusters": [c.signature for c in report.clusters],
                       "examples": {c.signature: c.examples for c in report.clusters},
                       "promoted": decision.get("promote"), "reason": decision.get("reason", report.note),
                       "regressions": len(decision.get("regressions", [])), "night_seconds": report.seconds})
        print(f"night {n}: {nights[-1]['reason']}", file=sys.stderr)
        if n in (1, args.nights):
            reports[f"night {n}"] = measure(f"night {n}")
        save()

    save()
    if not args.workspace:
        shutil.rmtree(ws, ignore_errors=True)


if __name__ == "__main__":
    main()
