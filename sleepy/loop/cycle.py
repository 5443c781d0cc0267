"""``sleepy cycle``: day -> night -> gate, N times, then the report.

Night 0 is the starting production (the base model on a fresh workspace), evaluated with the
gate's seeds so every later night has a base line. After each night, the release that is then in
production is the one whose per-task results enter the accuracy matrix (the candidate's results
when it was promoted, production's when it was kept).

With a canary (``night_cfg.canary > 0``) a night only hands a gate-passing candidate to the canary:
production stays, so its results enter the matrix, and the next night's day is staged
(:class:`sleepy.loop.rollout.Rollout`): that fraction of its tasks runs on the candidate, which the
canary promotes, keeps watching or drops. A promotion made that way shows as the next night's
production, measured by that night's gate.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sleepy.adapters.lora import load_release_model
from sleepy.adapters.registry import Registry
from sleepy.files import atomic_write_text
from sleepy.loop.day import day_tasks, run_day
from sleepy.loop.episodes import EpisodeConfig
from sleepy.loop.evaluate import EvalReport, known_families
from sleepy.loop.gate import majority
from sleepy.loop.night import NightConfig, eval_path, gate_eval, project_holdout, run_night
from sleepy.loop.rollout import Rollout, candidate_waiting, outcomes_from_store
from sleepy.memory.recall import ExperienceMemory
from sleepy.memory.repository import Repository
from sleepy.report.progress import ProgressFn, counter


@dataclass
class NightRow:
    night: int
    production: str
    day_tasks: int = 0
    day_passed: int = 0
    day_seconds: float = 0.0
    night_seconds: float = 0.0
    promoted: bool | None = None  # the night moved production to its candidate; None: no candidate
    reason: str = ""
    regressions: int = 0
    skills: list[dict] = field(default_factory=list)
    results: dict = field(default_factory=dict)  # "set/task" -> majority passed (production after the night)
    families: dict = field(default_factory=dict)  # "set/task" -> family
    solved_by: dict = field(default_factory=dict)  # layer -> tasks it solved in the greedy gate run (tool, ...)
    rollout: list[dict] = field(default_factory=list)  # the day's canary/monitor decisions (DaySummary.rollout)
    handed_to_canary: bool = False  # the gate passed the candidate, production stayed: the canary decides


@dataclass
class CycleResult:
    pack: str
    seeds: int
    command: str
    nights: list[NightRow] = field(default_factory=list)
    known_families: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> CycleResult:
        data = json.loads(path.read_text())
        data["nights"] = [NightRow(**row) for row in data.get("nights", [])]
        return cls(**data)


def solved_by_layer(reports: list[EvalReport]) -> dict[str, int]:
    """Tasks each layer solved in the greedy gate run (seed 0): what the tools, the model and skills add."""
    counts: dict[str, int] = {}
    for r in reports[0].rows if reports else []:
        if r.solved_by:
            counts[r.solved_by] = counts.get(r.solved_by, 0) + 1
    return counts


def matrix_row(reports: list[EvalReport]) -> tuple[dict, dict]:
    votes = majority(reports)
    families = {f"{r.set}/{r.task_id}": r.family for r in reports[0].rows}
    return {f"{s}/{t}": v for (s, t), v in votes.items()}, families


def _staged(registry: Registry, store: Repository, night_cfg: NightConfig) -> Rollout | None:
    """The day's rollout when the cycle runs canaries: a canary while a candidate waits for one, and the monitor
    after a promotion; None without a canary (the day runs on production, as before canaries existed)."""
    if night_cfg.canary <= 0:
        return None
    fraction = night_cfg.canary if candidate_waiting(registry) else None
    return Rollout(registry, outcomes_from_store(store), fraction, auto_rollback=night_cfg.auto_rollback)


def run_cycle(store: Repository, memory: ExperienceMemory, registry: Registry, pack: str, nights: int,
              tasks_per_day: int, day_cfg: EpisodeConfig, night_cfg: NightConfig, model_ref: str | None,
              out_dir: Path, seed: int = 1, command: str = "sleepy cycle",
              log: Callable[[str], None] = lambda _m: None, progress: ProgressFn | None = None) -> CycleResult:
    """Night 0's base line, then ``nights`` rounds of day -> night -> gate; ``cycle.json`` after each night.

    ``log`` gets the narrative (one line per phase), ``progress(what, done, total)`` every task of a day,
    every training step and every task the gate evaluates: a cycle takes long enough that a person
    must see it move (sleepy.report.progress turns both into output)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = CycleResult(pack, night_cfg.gate_seeds, command)
    production = registry.get("production")
    start_model = load_release_model(production, model_ref)
    log(f"night 0: evaluating production ({start_model.name}) as the base line")
    reports = gate_eval(start_model, pack, night_cfg, out_dir / "evals", project_holdout(store, pack), progress,
                        "night 0 base line")
    results, families = matrix_row(reports)
    result.nights.append(NightRow(0, start_model.name, results=results, families=families,
                                  solved_by=solved_by_layer(reports)))
    result.known_families = list(known_families(start_model.lm.path, pack) or [])
    for n in range(1, nights + 1):
        row = NightRow(n, registry.resolve("production"))
        t0 = time.time()
        model = load_release_model(registry.get("production"), model_ref)
        tasks = day_tasks(pack, tasks_per_day, seed * 1000 + n)
        log(f"night {n}: day of {len(tasks)} tasks on {model.name}")
        rollout = _staged(registry, store, night_cfg)
        if rollout is not None and rollout.canary_active:
            log(f"night {n}: canary: {night_cfg.canary:.0%} of the day on the candidate {rollout.candidate}")
        summary = run_day(model, store, memory, tasks, day_cfg, {"pack": pack, "cycle_night": n, "seed": seed},
                          on_done=counter(progress, f"night {n}: day", len(tasks)), rollout=rollout,
                          load=lambda rid: load_release_model(registry.get(rid), model_ref))
        row.day_tasks, row.day_passed, row.day_seconds = summary.tasks, summary.passed, round(time.time() - t0, 1)
        row.rollout = summary.rollout
        for d in summary.rollout:
            log(f"night {n}: {d['reason']}" + (" [moved]" if d["moved"] else ""))
        log(f"night {n}: day passed {summary.passed}/{summary.tasks}; consolidating")
        night = run_night(store, memory, registry, pack, night_cfg, model_ref, out_dir / "evals", log, progress)
        row.night_seconds = night.seconds
        row.skills = [asdict(c) for c in night.clusters]
        if night.decision is not None:
            # the gate's verdict is not the move: a candidate handed to the canary left production where it was
            row.handed_to_canary = night.handed_to_canary
            row.promoted = night.decision["promote"] and not night.handed_to_canary
            row.reason = night.decision["reason"] + ("; handed to the canary" if night.handed_to_canary else "")
            row.regressions = len(night.decision["regressions"])
            chosen = night.evaluated["candidate" if row.promoted else "production"]
            held = project_holdout(store, pack)
            reports = [EvalReport.load(eval_path(out_dir / "evals", pack, chosen, night_cfg, seed, held))
                       for seed in range(night_cfg.gate_seeds)]
            results, families = matrix_row(reports)
            row.solved_by = solved_by_layer(reports)
        else:
            row.reason = night.note
            row.solved_by = result.nights[-1].solved_by
        row.production = registry.resolve("production")
        row.results, row.families = results, families
        result.nights.append(row)
        log(f"night {n}: {row.reason}; production {row.production}")
        atomic_write_text(out_dir / "cycle.json", json.dumps(asdict(result), indent=2))
    atomic_write_text(out_dir / "cycle.json", json.dumps(asdict(result), indent=2))
    return result
