"""The forgetting benchmark: every way of learning from the same days, side by side.

Each (strategy, seed) gets a fresh workspace and the same day streams (``seed * 1000 + night``), and
after every night its production release is evaluated on the frozen set (koans + generated holdout)
over the gate's seeds, majority per task. Strategies:

* ``tools``: the verifier's own hints alone (rustc's suggestions, Python's hints), no model, no memory:
  what a user gets for free; every other strategy's gain is also reported over it, paired per task.
* ``base``: the base weights after the tools, no memory (weights never change: evaluated once).
* ``memory``: days remember every verified fix, no weight updates; evaluated *with* memory.
* ``naive``: one LoRA trained on all of the night's data, applied to every task, no replay.
* ``replay``: the same with replay: earlier skills' examples and the model's own verified fixes of
  other signatures (without the latter the pool is empty until something is promoted, and replay would
  be naive LoRA under another name).
* ``routed``: one LoRA per failure cluster, routed per task by signature (with replay).
* ``share``: routed, coefficient-only skills on a shared basis (LoRA bootstraps the basis).
* ``share-avg``: the share skills' deltas averaged (ΔW = mean of B A) and applied to every task.

Weight strategies are evaluated without memory, as the gate does. Reported per run: the accuracy
matrix (task x night), pass rate per night per set, regressions per promotion, backward transfer on
known families, forward transfer on new ones, trainable parameters and bytes per skill, night time.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from sleepy.adapters.lora import load_release_model
from sleepy.adapters.registry import Registry
from sleepy.config import Settings
from sleepy.files import atomic_write_text
from sleepy.loop.cycle import CycleResult, NightRow, matrix_row, run_cycle, solved_by_layer
from sleepy.loop.day import day_tasks, run_day
from sleepy.loop.episodes import day_config
from sleepy.loop.evaluate import evaluate, known_families
from sleepy.loop.night import NightConfig, gate_eval, night_config
from sleepy.memory.recall import Embedder, ExperienceMemory
from sleepy.memory.sqlite import SQLiteStore
from sleepy.report.html import summary

STRATEGIES = ("tools", "base", "memory", "naive", "replay", "routed", "share", "share-avg")


def strategy_config(name: str, base: NightConfig) -> NightConfig:
    """The night configuration of a weight-updating strategy."""
    return {
        "naive": replace(base, strategy="naive", replay_ratio=0.0),
        "replay": replace(base, strategy="naive", replay_ratio=max(base.replay_ratio, 0.5), self_replay=4),
        "routed": replace(base, strategy="routed", skills="lora"),
        "share": replace(base, strategy="routed", skills="auto"),
        "share-avg": replace(base, strategy="averaged", skills="auto"),
    }[name]


def _skill_sizes(registry: Registry) -> list[dict]:
    """Trainable parameters and bytes on disk of every skill of production."""
    release = registry.get("production")
    if release is None:
        return []
    out = []
    for s in release.skills:
        folder = release.folder / s.path
        weights = sum(p.stat().st_size for p in folder.iterdir()
                      if p.suffix == ".safetensors" or p.name.endswith(".json") and p.name != "training.json")
        out.append({"skill": s.name, "kind": s.kind, "trainable_parameters": s.trainable_parameters,
                    "bytes": weights})
    basis = release.folder / "basis"
    if basis.is_dir():
        out.append({"skill": "(shared basis)", "kind": "basis", "trainable_parameters": 0,
                    "bytes": sum(p.stat().st_size for p in basis.iterdir())})
    return out


def _frozen_weights_run(name: str, pack: str, nights: int, tasks: int, seed: int, ws: Path, settings: Settings,
                        night_cfg: NightConfig, log: Callable[[str], None]) -> CycleResult:
    """tools, base and memory: the weights never change; memory grows with each day (memory strategy only)."""
    store = SQLiteStore(ws / "sleepy.db")
    memory = ExperienceMemory(store, Embedder()) if name == "memory" else None
    model = load_release_model(None, settings.model)
    result = CycleResult(pack, night_cfg.gate_seeds, f"forgetting {name}")
    result.known_families = list(known_families(model.lm.path, pack) or [])

    def row(n: int, started: float) -> NightRow:
        if name == "tools":
            reports = gate_eval(model, pack, replace(night_cfg, sources=("tool",)), ws / "evals")
        elif memory is None:
            reports = gate_eval(model, pack, night_cfg, ws / "evals")
        else:
            reports = [evaluate(model, pack, night_cfg.holdout_per_family, seed=s,
                                temperature=0.0 if s == 0 else night_cfg.gate_temperature, jobs=night_cfg.jobs,
                                memory=memory, max_new_tokens=night_cfg.max_new_tokens,
                                memory_from_attempt=settings.memory_from_attempt,
                                memory_patterns=settings.memory_patterns, copy_anchors=night_cfg.copy_anchors,
                                copy_names=night_cfg.copy_names, sources=tuple(settings.candidates))
                       for s in range(night_cfg.gate_seeds)]
        results, families = matrix_row(reports)
        return NightRow(n, "base", results=results, families=families, night_seconds=round(time.time() - started, 1),
                        solved_by=solved_by_layer(reports))

    result.nights.append(row(0, time.time()))
    for n in range(1, nights + 1):
        started = time.time()
        if name == "memory":
            cfg = replace(day_config(settings, seed=seed), memory=True, samples=1)
            summary_ = run_day(model, store, memory, day_tasks(pack, tasks, seed * 1000 + n), cfg,
                               {"pack": pack, "forgetting": name, "night": n, "seed": seed})
            log(f"[{name} seed {seed}] day {n}: {summary_.passed}/{summary_.tasks}")
            result.nights.append(row(n, started))
        else:  # nothing can change: the same evaluation, reused from its cache
            result.nights.append(replace(result.nights[0], night=n))
    store.close()
    return result


def run_forgetting(pack: str, strategies: list[str], seeds: list[int], nights: int, tasks: int, root: Path,
                   settings: Settings, log: Callable[[str], None] = print) -> dict:
    """Run every (strategy, seed) in its own workspace under ``root``; returns the benchmark record.

    A finished run leaves ``forgetting.json`` in its workspace and is not run again, so an interrupted
    benchmark (or one extended with more strategies or seeds) continues with the same ``root``."""
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise ValueError(f"unknown strategies {unknown}: choose from {', '.join(STRATEGIES)}")
    runs = []
    for seed in seeds:
        for name in strategies:
            ws = root / f"{name}-seed{seed}"
            done = ws / "forgetting.json"
            params = {"pack": pack, "nights": nights, "tasks": tasks, "gate_seeds": settings.gate_seeds,
                      "holdout_per_family": settings.holdout_per_family, "min_failures": settings.min_failures,
                      "model": settings.model, "share_k": settings.share_k, "share_dtype": settings.share_dtype,
                      "share_extra_vectors": settings.share_extra_vectors,
                      "memory_from_attempt": settings.memory_from_attempt,
                      "memory_patterns": settings.memory_patterns, "self_replay": settings.self_replay}
            if done.is_file():  # finished in an earlier call with the same root and settings: reuse it
                previous = json.loads(done.read_text())
                if previous.get("params") == params:
                    runs.append(previous)
                    log(f"[{name} seed {seed}] already done in {ws}")
                    continue
            if ws.exists():  # a run cut off halfway starts again from a clean workspace
                shutil.rmtree(ws)
            ws.mkdir(parents=True, exist_ok=True)
            began = time.time()
            base_cfg = night_config(settings, seed=seed)
            if name in ("tools", "base", "memory"):
                result = _frozen_weights_run(name, pack, nights, tasks, seed, ws, settings, base_cfg, log)
                sizes: list[dict] = []
            else:
                store = SQLiteStore(ws / "sleepy.db")
                memory = ExperienceMemory(store, Embedder())
                registry = Registry(ws / "registry")
                day_cfg = replace(day_config(settings, seed=seed), memory=True, samples=1)
                result = run_cycle(store, memory, registry, pack, nights, tasks, day_cfg,
                                   strategy_config(name, base_cfg), None if settings.model == "bundled"
                                   else settings.model, ws / "cycle", seed, f"forgetting {name}",
                                   log=lambda m, st=name, sd=seed: log(f"[{st} seed {sd}] {m}"))
                sizes = _skill_sizes(registry)
                store.close()
            record = {"strategy": name, "seed": seed, "params": params, "summary": summary(result), "skills": sizes,
                      "seconds": round(time.time() - began, 1), "cycle": asdict(result)}
            atomic_write_text(done, json.dumps(record, indent=2))
            runs.append(record)
            s = record["summary"]
            log(f"[{name} seed {seed}] done in {record['seconds']:.0f} s: pass rates {s['pass_rates']}, "
                f"BWT {s['bwt_known']}, FWT {s['fwt_new']}, regressions {s['regressions_per_promotion']}")
    return {"pack": pack, "strategies": strategies, "seeds": seeds, "nights": nights, "tasks_per_day": tasks,
            "runs": runs, "table": table(runs), "paired": comparisons(runs)}


def table(runs: list[dict]) -> list[dict]:
    """Per strategy, means over seeds of the numbers that decide between them."""
    out = []
    for name in dict.fromkeys(r["strategy"] for r in runs):
        mine = [r for r in runs if r["strategy"] == name]

        def mean(values: list) -> float | None:
            values = [v for v in values if v is not None]
            return round(sum(values) / len(values), 4) if values else None

        final = [r["summary"]["pass_rates"][-1] for r in mine]
        first = [r["summary"]["pass_rates"][0] for r in mine]
        # the averaged strategy's global adapter is a sum of the others, not a skill of its own
        skills = [s for r in mine for s in r["skills"] if s["kind"] != "basis" and s["skill"] != "average"]
        bases = [s["bytes"] for r in mine for s in r["skills"] if s["kind"] == "basis"]
        per_skill = mean([s["bytes"] for s in skills])
        out.append({
            "strategy": name, "seeds": len(mine),
            "holdout_first": mean([f.get("holdout") for f in first]),
            "holdout_last": mean([f.get("holdout") for f in final]),
            "koans_first": mean([f.get("frozen") for f in first]),
            "koans_last": mean([f.get("frozen") for f in final]),
            "bwt_known": mean([r["summary"]["bwt_known"] for r in mine]),
            "fwt_new": mean([r["summary"]["fwt_new"] for r in mine]),
            "regressions_per_promotion": [x for r in mine for x in r["summary"]["regressions_per_promotion"]],
            "promotions": sum(len(r["summary"]["regressions_per_promotion"]) for r in mine),
            # what the gate saw in every candidate, promoted or not: forgetting the gate prevented
            "candidate_regressions": [n["regressions"] for r in mine for n in r["cycle"]["nights"][1:]
                                      if n.get("promoted") is not None],
            "trainable_parameters_per_skill": mean([s["trainable_parameters"] for s in skills]),
            "bytes_per_skill": per_skill,
            "basis_bytes": mean(bases),
            # storage for 20 skills: the shared basis once plus 20 skills' own files
            "bytes_20_skills": round((mean(bases) or 0) + 20 * per_skill) if per_skill is not None else None,
            "night_seconds": mean([x for r in mine for x in r["summary"]["night_seconds"]]),
        })
    return out


def paired(runs: list[dict], a: str, b: str, set_name: str | None = None, resamples: int = 2000,
           seed: int = 0) -> dict | None:
    """``b`` minus ``a`` at the last night, per task and per seed (same tasks, same day streams), with a
    95% bootstrap confidence interval over tasks: a paired difference, not two pass rates side by side."""
    import numpy as np

    by_seed = {}
    for name in (a, b):
        for r in runs:
            if r["strategy"] == name:
                by_seed.setdefault(r["seed"], {})[name] = r["cycle"]["nights"][-1]["results"]
    seeds = [s for s, v in by_seed.items() if a in v and b in v]
    if not seeds:
        return None
    tasks = sorted(set.intersection(*(set(by_seed[s][a]) & set(by_seed[s][b]) for s in seeds)))
    if set_name:
        tasks = [t for t in tasks if t.startswith(set_name + "/")]
    if not tasks:
        return None
    diff = np.array([[int(by_seed[s][b][t]) - int(by_seed[s][a][t]) for s in seeds] for t in tasks], dtype=float)
    per_task = diff.mean(axis=1)
    rng = np.random.default_rng(seed)
    boots = per_task[rng.integers(0, len(tasks), size=(resamples, len(tasks)))].mean(axis=1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"a": a, "b": b, "set": set_name or "all", "tasks": len(tasks), "seeds": len(seeds),
            "mean_difference": round(float(per_task.mean()), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)],
            "tasks_better": int((per_task > 0).sum()), "tasks_worse": int((per_task < 0).sum())}


def comparisons(runs: list[dict], reference: str = "base") -> list[dict]:
    """Every strategy against ``reference`` and against the tools alone (and Share against per-cluster LoRA),
    per set: the learning is what memory and skills add over the free baseline."""
    names = list(dict.fromkeys(r["strategy"] for r in runs))
    pairs = [(reference, n) for n in names if n not in (reference, "tools")]
    if "tools" in names:
        pairs += [("tools", n) for n in names if n != "tools"]
    pairs += [("routed", "share")] if {"routed", "share"} <= set(names) else []
    out = []
    for a, b in pairs:
        for set_name in ("frozen", "holdout"):
            if (p := paired(runs, a, b, set_name)) is not None:
                out.append(p)
    return out


def plot(record: dict, out_dir: Path) -> list[Path]:
    """Pass-rate curves (mean over seeds, one line per strategy, per set) and one heatmap per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, set_name in zip(axes, ("holdout", "frozen"), strict=True):
        for name in record["strategies"]:
            mine = [r for r in record["runs"] if r["strategy"] == name]
            if not mine:
                continue
            curves = np.array([[p.get(set_name, 0) for p in r["summary"]["pass_rates"]] for r in mine])
            ax.plot(range(curves.shape[1]), curves.mean(axis=0), marker="o", label=name)
        ax.set_title(f"{record['pack']}: {set_name} pass rate (mean of {len(record['seeds'])} seed(s))")
        ax.set_xlabel("night (production after it; refused candidates leave it unchanged)")
        ax.set_xticks(range(record["nights"] + 1))
        ax.set_ylim(-0.02, 1.02)
    axes[1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
    path = out_dir / "pass_rate.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    paths.append(path)
    for name in record["strategies"]:
        mine = [r for r in record["runs"] if r["strategy"] == name]
        if not mine:
            continue
        nights = mine[0]["cycle"]["nights"]
        keys = sorted(nights[0]["results"], key=lambda k: (nights[0]["families"][k], k))
        # mean over seeds of the per-task majority result, so a cell shows how often the task passed
        grid = np.mean([[[int(row["results"].get(k, False)) for row in r["cycle"]["nights"]] for k in keys]
                        for r in mine], axis=0)
        fig, ax = plt.subplots(figsize=(3 + 0.5 * len(nights), max(4, 0.1 * len(keys))))
        ax.imshow(grid, aspect="auto", cmap="RdYlGn", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks(range(len(nights)), [f"n{row['night']}" for row in nights])
        ax.set_yticks([])
        ax.set_ylabel(f"{len(keys)} tasks (grouped by family)")
        ax.set_title(f"{name}: task x night")
        path = out_dir / f"heatmap_{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths
