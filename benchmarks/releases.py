"""Simulated releases against the real canary and monitor (sleepy.loop.rollout) over real registry folders.

The model is not what is measured here; the decision rule is. Each seed draws a production release's pass rate
for 6 signatures (uniform in [0.70, 0.95]) and a task mix over them (Dirichlet(20) weights: each signature
near 1/6 of the tasks: 9 % to 32 % in the seeds run, the broken one 9 % to 20 % in seeds 0-9). A *bad* release
drops one signature (drawn per seed) to a 10 % pass rate, as a skill trained on wrong fixes for that
signature would (tools and memory still rescue a few tasks); a *good* one keeps every rate (seeds 0-4) or
raises each by up to 5 points (seeds 5-9). Per-task outcomes are Bernoulli draws from those rates; tasks come
in batches of 8 as in a day, and the rollout looks after each batch, exactly as ``sleepy day`` does.

Releases are real registry folders made as a night makes them: A routes each signature to its own skill; B
copies A's skills and retrains the one for the signature it changes (the broken one in a bad release, the
same one in a good release), so B's manifest declares its primary signature through its router and files,
and the rollout reads it from there (``sleepy.loop.rollout.primary_signatures``). Every release also runs
under the guard alone (the rule without its primary test) on a copy of the same registry: the same release
ids, so the same tasks on the candidate; the results give both, paired.

* canary: production A, candidate B in a real ``Registry``; 20 % of tasks on B by the rollout's hash; run
  until the rule promotes or drops B (at most 2000 day tasks). A promotion then goes on being watched by the
  monitor in the same day, as it would, until it holds or rolls back.
* monitor: B promoted straight to production (the gate alone, no canary) after 200 tasks on A; every task on
  B; run until the monitor rolls back or holds (200 tasks).

Targets (issue 22): a bad release rolled back within 50 tasks (on the release) in >= 9 of 10 seeds; 10 good
releases: 0 false rollbacks. ``--stress N`` also runs N more bad releases and ``--good N`` N more good ones
(each through canary and monitor), for rates. The
end-to-end check runs the monitor and a two-day canary through a real SQLite store as well: outcomes written
as day episodes, read back by ``outcomes_from_store``, registry moves checked in aliases.json and
history.jsonl, decisions in the rollout's event log.

The canary's assignment hashes the candidate's release id, which seals its creation time: each run sends a
different slice of the tasks to the candidate, so the canary's figures move a little from run to run (the
monitor's do not); read the rates over the extra releases as well as the 10 named seeds. Before the canary
sent half of a primary signature's tasks to the candidate (``RolloutRule.primary_share``) and the guard
asked 0.998 (it was 0.99), two runs caught 7 and 10 of the 10 named bad releases and rolled back 0 and 2 of
the 20 named good ones. ``--margin``, ``--belief``, ``--primary-belief`` and ``--primary-share`` rerun it
under another rule (``--primary-share 0`` is the old assignment).

Run: python benchmarks/releases.py   (writes benchmarks/results/releases.json; about 3 minutes on 2 busy cores)
"""

from __future__ import annotations

import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, write_result  # noqa: E402

from sleepy.adapters.registry import Registry, SkillInfo  # noqa: E402
from sleepy.loop.rollout import (  # noqa: E402
    CANARY,
    MONITOR,
    PROMOTE,
    ROLLBACK,
    Outcome,
    Rollout,
    RolloutRule,
    events_path,
    outcomes_from_store,
)
from sleepy.memory.sqlite import SQLiteStore  # noqa: E402
from sleepy.telemetry.events import EventLog  # noqa: E402

SIGNATURES = [f"sim:E{n}:signature-{n}" for n in range(6)]
LOW, HIGH = 0.70, 0.95  # production's pass rate per signature is drawn uniformly in [LOW, HIGH]
MIX = 20.0  # Dirichlet concentration of the task mix over signatures (larger: closer to equal shares)
BATCH = 8
FRACTION = 0.2
WITHIN = 50
BAD_RATE = 0.10
SHARES = (0.05, 0.1, 0.2, 0.3)
RATES0 = (0.5, 0.7, 0.9)


def world(seed: int, share: float | None = None, rate0: float | None = None
          ) -> tuple[dict[str, float], list[float], str]:
    """Production's pass rate per signature, the task mix, and the signature a bad release breaks; ``share``
    and ``rate0`` pin that signature's share of the tasks and production's pass rate on it (the sensitivity)."""
    rng = random.Random(seed)
    rates = {s: rng.uniform(LOW, HIGH) for s in SIGNATURES}
    weights = [rng.gammavariate(MIX, 1) for _ in SIGNATURES]
    target = rng.choice(SIGNATURES)
    i = SIGNATURES.index(target)
    if share is not None:
        rest = sum(weights) - weights[i]
        weights[i] = share / (1 - share) * rest
    if rate0 is not None:
        rates[target] = rate0
    return rates, weights, target


def release_rates(kind: str, seed: int, rates: dict[str, float], target: str) -> dict[str, float]:
    if kind == "bad":
        return {**rates, target: BAD_RATE}
    rng = random.Random(seed + 7919)
    lift = 0.0 if seed % 10 < 5 else 0.05
    return {s: min(0.99, p + rng.uniform(0, lift)) for s, p in rates.items()}


def new_registry(root: Path, retrained: str) -> tuple[Registry, str, str]:
    """A real registry with two sealed releases: A (production), one skill per signature, and B (the release
    under test), A's skills copied and the one for ``retrained`` trained again, as a night makes a candidate.
    B's new skill is the only difference the manifests show: its routed signature becomes the rollout's
    primary signature by the rollout's own reading of the registry, not by the benchmark telling it."""
    reg = Registry(root)
    ids = []
    for name in ("A", "B"):
        staging = root.parent / f"staging-{name}"
        skills, router = [], {}
        for sig in SIGNATURES:
            skill = sig.replace(":", "_")
            (staging / "skills" / skill).mkdir(parents=True)
            trained = name if sig == retrained else "A"
            (staging / "skills" / skill / "adapter_model.safetensors").write_bytes(
                f"weights {trained} {sig} {root}".encode())
            skills.append(SkillInfo(skill, "lora", [sig], f"skills/{skill}"))
            router[sig] = skill
        ids.append(reg.create(staging, "/models/sim", "sim", router, skills, ids[0] if ids else None).id)
    reg.promote(ids[0], "benchmark: production A")
    return reg, ids[0], ids[1]


def stream(seed: int, weights: list[float]):
    rng = random.Random(seed * 31 + 1)
    n = 0
    while True:
        n += 1
        yield f"sim-{seed}-{n}", rng.choices(SIGNATURES, weights)[0], rng.random()


def simulate(kind: str, stage: str, seed: int, folder: Path, rule: RolloutRule, max_tasks: int = 2000,
             share: float | None = None, rate0: float | None = None, guard_too: bool = False) -> dict:
    """One release through the canary (then the monitor, after a promotion) or through the monitor alone.
    ``guard_too``: also run it, on a copy of the same registry (the same release ids, so the same tasks on
    the candidate), under the guard alone (the rule without its primary test): a paired comparison."""
    rates, weights, target = world(seed, share, rate0)
    reg, a, b = new_registry(folder / "registry", target)
    guard = None
    if guard_too:
        shutil.copytree(folder / "registry", folder / "registry-guard")
        guard = drive(kind, stage, seed, Registry(folder / "registry-guard"), a, b, folder / "guard",
                      replace(rule, primary=False), max_tasks, share, rate0)
    row = drive(kind, stage, seed, reg, a, b, folder, rule, max_tasks, share, rate0)
    return row if guard is None else {**row, "guard_alone": guard}


def drive(kind: str, stage: str, seed: int, reg: Registry, a: str, b: str, folder: Path, rule: RolloutRule,
          max_tasks: int, share: float | None, rate0: float | None) -> dict:
    """The day's tasks against the rollout over ``reg`` (production ``a``, release under test ``b``)."""
    rates, weights, target = world(seed, share, rate0)
    new_rates = release_rates(kind, seed, rates, target)
    # production A's days before: its last `window` tasks (what the store holds when the day starts)
    draw = random.Random(seed * 17 + 3)
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    prior = [Outcome(f"before-{i}", sig, a, draw.random() < rates[sig], now)
             for i, sig in enumerate(draw.choices(SIGNATURES, weights, k=rule.window))]
    if stage == CANARY:
        reg.move("candidate", b, "benchmark: candidate B")
        rollout = Rollout(reg, prior, FRACTION, rule, events=EventLog(folder / "events.jsonl"))
        primary = rollout.canary_primary
    else:
        reg.promote(b, "benchmark: the gate promoted B")
        rollout = Rollout(reg, prior, None, rule, events=EventLog(folder / "events.jsonl"))
        primary = rollout.monitor_primary
    on = {a: 0, b: 0}
    first: dict = {}
    batch: list[Outcome] = []
    for task_id, sig, u in stream(seed, weights):
        release = rollout.release_for(task_id, sig)
        batch.append(Outcome(task_id, sig, release, u < (new_rates if release == b else rates)[sig]))
        on[release] += 1
        if len(batch) < BATCH:
            continue
        for d in rollout.observe(batch):
            if d.moved or d.action == "hold":
                first.setdefault(d.stage, {"decision": d.action, "tasks_on_release": d.tasks,
                                           "day_tasks": sum(on.values()), "reason": d.reason, "by": d.by})
        batch = []
        if (not rollout.canary_active and rollout.watching is None) or sum(on.values()) >= max_tasks:
            break
    history = reg.history()
    rolled = [h for h in history if (h.get("metrics") or {}).get("decision") == ROLLBACK]
    return {"kind": kind, "stage": stage, "seed": seed, "bad_signature": target if kind == "bad" else None,
            "primary": primary, "rates": {s: round(p, 3) for s, p in rates.items()},
            "decisions": first, "production_after": "A" if reg.resolve("production") == a else "B",
            "candidate_after": {a: "A", b: "B"}.get(reg.resolve("candidate")) if stage == CANARY else None,
            "rollbacks_in_history": len(rolled), "day_tasks": sum(on.values()), "tasks_on_B": on[b]}


def caught(row: dict) -> tuple[bool, int | None]:
    """Rolled back (by whichever stage) within WITHIN tasks on the bad release, and how many tasks it took."""
    for stage in (CANARY, MONITOR):
        d = row["decisions"].get(stage)
        if d and d["decision"] == ROLLBACK:
            return d["tasks_on_release"] <= WITHIN and row["rollbacks_in_history"] >= 1, d["tasks_on_release"]
    return False, None


def false_rollbacks(rows: list[dict]) -> int:
    return len(rollbacks(rows))


def rollbacks(rows: list[dict]) -> list[dict]:
    """Each rollback of a good release: seed, stage and the rule's one-line reason."""
    return [{"seed": r["seed"], "stage": stage, "tasks_on_release": d["tasks_on_release"], "reason": d["reason"]}
            for r in rows for stage, d in r["decisions"].items() if d["decision"] == ROLLBACK]


# ---------------------------------------------------------------------------------------------- end to end
def write_day(store: SQLiteStore, run_name: str, outcomes: list[Outcome]) -> None:
    """Outcomes as a finished day run of real episodes (what DayRecorder writes)."""
    run = store.start_run("day", {"benchmark": run_name})
    for o in outcomes:
        store.upsert_task(o.task_id, "sim", o.signature.split(":")[1], "generated", o.signature, "print(1)\n")
        episode = store.start_episode(run.id, o.task_id, o.release)
        store.finish_episode(episode, o.passed, 1, None)
    store.finish_run(run.id, {})


def end_to_end(folder: Path, rule: RolloutRule, seed: int = 0) -> dict:
    """Monitor and a two-day canary through a real store and registry: the wiring, measured."""
    rates, weights, target = world(seed)
    bad = release_rates("bad", seed, rates, target)
    out: dict = {}
    # 1. the monitor: 200 tasks on A in the store, B promoted, a day on B rolls it back
    reg, a, b = new_registry(folder / "mon" / "registry", target)
    store = SQLiteStore(folder / "mon" / "sleepy.db")
    tasks = stream(seed, weights)
    write_day(store, "before", [Outcome(t, s, a, u < rates[s]) for t, s, u in (next(tasks) for _ in range(200))])
    reg.promote(b, "benchmark: the gate promoted B")
    reg.move("candidate", b, "benchmark: candidate B")
    log = EventLog(events_path(folder / "mon"))
    rollout = Rollout(reg, outcomes_from_store(store), None, rule, events=log)
    watched = rollout.watching == a and len(rollout.monitor_base) == 200
    day: list[Outcome] = []
    while rollout.watching is not None and len(day) < 400:
        batch = [Outcome(t, s, rollout.production, u < (bad if rollout.production == b else rates)[s])
                 for t, s, u in (next(tasks) for _ in range(BATCH))]
        day += batch
        rollout.observe(batch)
    write_day(store, "after", day)
    last = reg.history()[-2:]
    events = [e for e in log.read() if e["sleepy.rollout.decision"] == ROLLBACK]
    out["monitor"] = {
        "watching_from_store": watched, "production_after": "A" if reg.resolve("production") == a else "B",
        "candidate_after": "A" if reg.resolve("candidate") == a else "B",
        "history_last": [{k: h[k] for k in ("alias", "from", "to", "why")} for h in last],
        "evidence_in_history": bool(last and last[0]["metrics"].get("signatures")),
        "rollback_events": len(events), "tasks_on_B": sum(o.release == b for o in day),
        "ok": reg.resolve("production") == a and reg.resolve("candidate") == a and len(events) == 1 and watched
              and reg.check() == []}
    # 2. the canary over two days: day 1 too short to decide (a keep in history), day 2 continues from the store
    reg, a, b = new_registry(folder / "can" / "registry", target)
    store = SQLiteStore(folder / "can" / "sleepy.db")
    reg.move("candidate", b, "benchmark: candidate B")
    log = EventLog(events_path(folder / "can"))
    tasks = stream(seed + 1, weights)
    days = []
    for n_tasks in (48, 400):
        rollout = Rollout(reg, outcomes_from_store(store), FRACTION, rule, events=log)
        carried = len(rollout.canary_new)
        day = []
        while rollout.canary_active and len(day) < n_tasks:
            batch = []
            for t, s, u in (next(tasks) for _ in range(BATCH)):
                release = rollout.release_for(t, s)
                batch.append(Outcome(t, s, release, u < (bad if release == b else rates)[s]))
            day += batch
            rollout.observe(batch)
        rollout.finish()
        write_day(store, f"canary day {len(days) + 1}", day)
        looks = [d for d in rollout.decisions if d.stage == CANARY]
        days.append({"tasks": len(day), "on_B": sum(o.release == b for o in day), "carried_from_store": carried,
                     "last_look": looks[-1].reason if looks else None})
    history = reg.history()
    out["canary"] = {"days": days, "candidate_after": "A" if reg.resolve("candidate") == a else "B",
                     "production_after": "A" if reg.resolve("production") == a else "B",
                     "history": [{k: h[k] for k in ("alias", "from", "to", "why")} for h in history],
                     "ok": reg.resolve("candidate") == a and reg.resolve("production") == a
                           and days[1]["carried_from_store"] == days[0]["on_B"]
                           and any(h["alias"] == "candidate" and h["from"] == h["to"] == b
                                   and h["why"].startswith("canary:") for h in history)
                           and history[-1]["why"].startswith("canary: rollback") and reg.check() == []}
    return out


def guard_alone(rows: list[dict]) -> list[dict]:
    """The paired runs of the same releases under the guard alone (the rule before the primary test)."""
    return [r["guard_alone"] for r in rows]


def n_caught(rows: list[dict]) -> int:
    return sum(caught(r)[0] for r in rows)


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--stress", type=int, default=50, help="extra bad releases, for rates")
    parser.add_argument("--good", type=int, default=200, help="extra good releases, for the false rollback rate")
    parser.add_argument("--margin", type=float, default=RolloutRule.margin, help="the rule's margin")
    parser.add_argument("--belief", type=float, default=RolloutRule.rollback_belief, help="its rollback belief")
    parser.add_argument("--primary-belief", type=float, default=RolloutRule.primary_belief,
                        help="the primary test's belief (one primary signature)")
    parser.add_argument("--primary-share", type=float, default=RolloutRule.primary_share,
                        help="the share of a primary signature's tasks the canary sends to the candidate")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.seeds < 1 or args.stress < 0 or args.good < 0:
        parser.error("--seeds must be at least 1, --stress and --good at least 0")
    if not (0 < args.margin < 1 and 0.5 < args.belief < 1 and 0.5 < args.primary_belief < 1
            and 0 <= args.primary_share < 1):
        parser.error("--margin must be in (0, 1), --belief and --primary-belief in (0.5, 1), --primary-share "
                     "in [0, 1)")
    rule = RolloutRule(margin=args.margin, rollback_belief=args.belief, primary_belief=args.primary_belief,
                       primary_share=args.primary_share)
    began = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def run(kind: str, stage: str, seeds: range) -> list[dict]:
            return [simulate(kind, stage, s, root / f"{kind}-{stage}-{s}", rule, guard_too=True) for s in seeds]

        seeds = range(args.seeds)
        bad = {stage: run("bad", stage, seeds) for stage in (CANARY, MONITOR)}
        good = run("good", CANARY, seeds)
        good_monitor = run("good", MONITOR, seeds)
        stress = run("good", CANARY, range(1000, 1000 + args.good))
        more = range(2000, 2000 + args.stress)  # more bad releases: a rate, not 10 draws
        bad_more = {stage: run("bad", stage, more) for stage in (CANARY, MONITOR)}
        grid = []  # how fast a bad release is caught, by the broken signature's share and production's rate on it
        for share in SHARES:
            for rate0 in RATES0:
                rows = [simulate("bad", MONITOR, s, root / f"grid-{share}-{rate0}-{s}", rule, share=share,
                                 rate0=rate0) for s in seeds]
                median = statistics.median(t if t is not None else math.inf for _, t in map(caught, rows))
                grid.append({"share": share, "production_rate": rate0,
                             "caught_within": sum(caught(r)[0] for r in rows), "seeds": len(rows),
                             "median_tasks": None if math.isinf(median) else median})
        e2e = end_to_end(root / "e2e", rule)
    caught_by = {stage: [caught(r) for r in rows] for stage, rows in bad.items()}
    caught_n = {stage: sum(ok for ok, _ in c) for stage, c in caught_by.items()}
    tasks_to = {stage: [t for _, t in c if t is not None] for stage, c in caught_by.items()}
    by_primary = {stage: sum(r["decisions"].get(stage, {}).get("by") == "primary" for r in rows)
                  for stage, rows in bad.items()}
    guard_caught = {stage: n_caught(guard_alone(rows)) for stage, rows in bad.items()}
    guard_tasks = {stage: [caught(r)[1] for r in guard_alone(rows)] for stage, rows in bad.items()}
    promoted = sum(r["decisions"].get(CANARY, {}).get("decision") == PROMOTE for r in good)
    false_good = false_rollbacks(good) + false_rollbacks(good_monitor)
    false_stress = false_rollbacks(stress)
    guard_false = {"named": false_rollbacks(guard_alone(good)) + false_rollbacks(guard_alone(good_monitor)),
                   "more": false_rollbacks(guard_alone(stress))}
    total_good = 2 * args.seeds + args.good
    total_false = false_good + false_stress
    med = {s: statistics.median(t) if t else None for s, t in tasks_to.items()}
    passed = (all(n >= 9 * args.seeds / 10 for n in caught_n.values()) and false_good == 0
              and e2e["monitor"]["ok"] and e2e["canary"]["ok"])
    headline = (f"bad release rolled back within {WITHIN} tasks on it in {caught_n[CANARY]}/{args.seeds} seeds by "
                f"the canary (median {med[CANARY]} tasks on the candidate, at {FRACTION:.0%} of the day; "
                f"{guard_caught[CANARY]}/{args.seeds} by the guard alone on the same releases) and "
                f"{caught_n[MONITOR]}/{args.seeds} by the monitor after a promotion (median {med[MONITOR]}; "
                f"{guard_caught[MONITOR]}/{args.seeds} by the guard alone); good releases: {false_good} false "
                f"rollbacks in {2 * args.seeds} ({args.seeds} through canary and monitor, {promoted} promoted; "
                f"{args.seeds} monitored), {false_stress} in {args.good} more through canary and monitor "
                f"({total_false}/{total_good} in all; the guard alone: {sum(guard_false.values())}/{total_good}); "
                f"over {args.stress} more bad releases: {n_caught(bad_more[CANARY])} by the canary, "
                f"{n_caught(bad_more[MONITOR])} by the monitor within {WITHIN} (the guard alone: "
                f"{n_caught(guard_alone(bad_more[CANARY]))} and {n_caught(guard_alone(bad_more[MONITOR]))}); "
                f"end to end through a real registry and store: "
                f"{'ok' if e2e['monitor']['ok'] and e2e['canary']['ok'] else 'FAILED'}")
    print(headline)
    write_result("releases", {
        "headline": headline, "command": " ".join(["python", "benchmarks/releases.py", *sys.argv[1:]]),
        "targets_met": passed, "seconds": round(time.time() - began, 1),
        "rule": asdict(rule), "fraction": FRACTION, "batch": BATCH, "within": WITHIN, "bad_rate": BAD_RATE,
        "bad": {"caught_within": caught_n, "tasks_to_rollback": tasks_to,
                "rolled_back_by_primary_test": by_primary,
                "guard_alone": {"what": "the same releases (same registry ids, so the same tasks on the "
                                        "candidate) under the rule without its primary test",
                                "caught_within": guard_caught, "tasks_to_rollback": guard_tasks},
                "runs": bad,
                "more": {"releases": args.stress,
                         "caught_within": {k: n_caught(v) for k, v in bad_more.items()},
                         "guard_alone_caught_within": {k: n_caught(guard_alone(v)) for k, v in bad_more.items()}}},
        "good": {"false_rollbacks": false_good, "promoted_by_canary": promoted, "runs": good,
                 "monitor_runs": good_monitor},
        "false_rollback_reasons": rollbacks(good) + rollbacks(good_monitor) + rollbacks(stress),
        "stress": {"releases": args.good, "false_rollbacks": false_stress,
                   "false_rollbacks_by_primary_test": sum(d.get("by") == "primary" for r in stress
                                                          for d in r["decisions"].values()
                                                          if d["decision"] == ROLLBACK),
                   "promoted": sum(r["decisions"].get(CANARY, {}).get("decision") == PROMOTE for r in stress),
                   "tasks_on_candidate_to_promote": sorted(r["decisions"][CANARY]["tasks_on_release"] for r in stress
                                                           if r["decisions"].get(CANARY, {}).get("decision")
                                                           == PROMOTE)},
        "false_rollbacks_all": {"primary_and_guard": total_false, "guard_alone": guard_false,
                                "good_releases": total_good,
                                "guard_alone_reasons": rollbacks(guard_alone(good)) + rollbacks(guard_alone(
                                    good_monitor)) + rollbacks(guard_alone(stress))},
        "sensitivity": {"what": "monitor only, the bad signature's share of tasks and production's pass rate on "
                                "it pinned; median tasks on the bad release to its rollback (null: most not "
                                "caught within 200)",
                        "cells": grid},
        "end_to_end": e2e}, args.out)
    if not passed:
        sys.exit(json.dumps({"targets_met": False}))


if __name__ == "__main__":
    main()
