"""``sleepy eval``: the agent on the frozen set, per task, per family, known vs new.

The hand-written koans and the generated holdout are reported separately: the holdout gives
statistical power, the koans say whether learning carries to programs people write.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sleepy.adapters.lora import RoutedModel
from sleepy.loop.episodes import SOURCES, Episode, EpisodeConfig, run_episodes
from sleepy.memory.recall import ExperienceMemory
from sleepy.model.loader import model_hash
from sleepy.tasks.packs import get_pack
from sleepy.tasks.task import Task


@dataclass
class EvalRow:
    task_id: str
    set: str  # frozen | holdout
    family: str
    known: bool | None
    signature: str | None
    passed: bool
    signature_after: str | None
    edit: str
    attempts: int = 1
    solved_by: str | None = None  # tool | memory | model | skill: the layer whose edit made it pass
    path: list[str] = field(default_factory=list)  # origin of each accepted step, the passing one last
    model_calls: int = 0
    tampered: int = 0  # candidates refused as tampering (``*:tamper:*``): a release that cheats shows here


@dataclass
class EvalReport:
    release: str
    pack: str
    model: str
    seed: int
    samples: int
    seconds: float
    rows: list[EvalRow] = field(default_factory=list)
    attempts: int = 1
    memory: bool = False
    model_path: str | None = None  # the folder or hub id, and its content hash: "model" alone names no model
    model_hash: str | None = None
    sources: list[str] = field(default_factory=lambda: ["tool", "memory", "model"])
    tasks_dir: str | None = None  # the folder evaluated instead of the pack's frozen set

    def by_origin(self) -> list[dict]:
        """Pass rate per set, split by the layer that solved each task: what tools, memory, model, skill add."""
        out = []
        for name in sorted({r.set for r in self.rows}):
            rows = [r for r in self.rows if r.set == name]
            counts = {k: sum(r.solved_by == k for r in rows) for k in ("tool", "memory", "model", "skill")}
            out.append({"set": name, "tasks": len(rows), **counts, "passed": sum(r.passed for r in rows),
                        "pass_rate": round(sum(r.passed for r in rows) / len(rows), 4) if rows else 0.0})
        return out

    def tampering(self) -> dict:
        """Tampering per release: how many candidates were refused, on how many tasks, of which kinds.

        A refused candidate already counts as a failure; this says how often the release tried to cheat."""
        kinds: dict[str, int] = defaultdict(int)
        for r in self.rows:
            if r.signature_after and ":tamper:" in r.signature_after:
                kinds[r.signature_after.split(":tamper:", 1)[1]] += 1
        return {"release": self.release, "candidates": sum(r.tampered for r in self.rows),
                "tasks": sum(r.tampered > 0 for r in self.rows), "final_kinds": dict(sorted(kinds.items()))}

    def table(self) -> list[dict]:
        """Pass rate per (set, family), plus per-set known/new/all lines."""
        groups: dict[tuple[str, str], list[EvalRow]] = defaultdict(list)
        for r in self.rows:
            groups[(r.set, r.family)].append(r)
            kind = {True: "known", False: "new", None: "all"}[r.known]
            if kind != "all":
                groups[(r.set, f"[{kind}]")].append(r)
            groups[(r.set, "[all]")].append(r)
        return [{"set": s, "family": f, "tasks": len(rs), "passed": sum(r.passed for r in rs),
                 "pass_rate": round(sum(r.passed for r in rs) / len(rs), 4)}
                for (s, f), rs in sorted(groups.items())]

    def to_json(self) -> dict:
        return {**{k: v for k, v in asdict(self).items() if k != "rows"}, "summary": self.table(),
                "by_origin": self.by_origin(), "tampering": self.tampering(), "tasks": [asdict(r) for r in self.rows]}

    @classmethod
    def load(cls, path: Path) -> EvalReport:
        data = json.loads(path.read_text())
        rows = [EvalRow(**r) for r in data.pop("tasks")]
        data.pop("summary", None)
        data.pop("by_origin", None)
        data.pop("tampering", None)
        return cls(**data, rows=rows)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2))
        tmp.replace(path)


_SETS = {"frozen": "frozen", "generated": "holdout", "project": "project", "project-holdout": "project-holdout"}
# a folder of the user's own tasks is the set "tasks"


def _tampered(episode: Episode) -> int:
    """How many of an episode's candidates the verifier refused as tampering."""
    return sum(s.result is not None and s.result.stage == "tamper" for st in episode.steps for s in st.samples)


def known_families(model_path: str, pack: str) -> tuple[str, ...] | None:
    """The families the model was pretrained on, from its card (None for models without one)."""
    card = Path(model_path) / "training.json"
    if not card.is_file():
        return None
    return tuple(json.loads(card.read_text()).get("known_families", {}).get(pack, ())) or None


def evaluate(model: RoutedModel, pack_name: str, holdout_per_family: int = 0,
             seed: int = 0, samples: int = 1, temperature: float = 0.0, jobs: int = 2,
             batch_size: int = 16, attempts: int = 1, memory: ExperienceMemory | None = None,
             max_new_tokens: int = 96, memory_from_attempt: int = 1, memory_patterns: int = 4,
             copy_anchors: bool = True, copy_names: bool = True, tasks: list[Task] | None = None,
             sources: tuple[str, ...] = SOURCES, max_steps: int = 8, tasks_dir: str | None = None,
             on_done: Callable[[Episode], None] | None = None) -> EvalReport:
    """The agent on the frozen set (and holdout): one row per task for this (release, seed).

    With ``memory`` it may recall verified fixes (into prompts from attempt ``memory_from_attempt``)
    and apply ``memory_patterns`` of their patterns before the model's first call, as a day does;
    eval never writes to memory. ``tasks`` (a folder someone loaded) replaces the pack's frozen set;
    ``sources`` are the candidate sources in order (without "tool": the model and memory alone).
    ``on_done`` is called as each task finishes (progress; a gate's evaluation takes minutes).
    """
    if tasks is None:
        pack = get_pack(pack_name)
        tasks = pack.frozen() + (pack.holdout(holdout_per_family) if holdout_per_family else [])
    known = known_families(model.lm.path, pack_name)
    began = time.perf_counter()
    cfg = EpisodeConfig(attempts=attempts, samples=samples, temperature=temperature, memory=memory is not None,
                        batch_size=batch_size, jobs=jobs, seed=seed, max_new_tokens=max_new_tokens,
                        memory_from_attempt=memory_from_attempt, adapt_patterns=memory_patterns,
                        copy_anchors=copy_anchors, copy_names=copy_names, sources=tuple(sources),
                        max_steps=max_steps)
    episodes = run_episodes(model, tasks, cfg, memory, on_done=on_done)
    rows = []
    for ep in episodes:
        last = ep.steps[-1] if ep.steps else None
        best = ep.winning or (last.best if last else None)
        rows.append(EvalRow(task_id=ep.task.id, set=_SETS.get(ep.task.origin, "tasks"),
                            family=ep.task.family, known=(ep.task.family in known) if known else None,
                            signature=ep.start_signature, passed=ep.passed,
                            signature_after=best.signature_after if best else None,
                            edit=best.completion.text if best else "", attempts=ep.attempts,
                            solved_by=ep.solved_by, path=ep.path, model_calls=ep.model_calls,
                            tampered=_tampered(ep)))
    return EvalReport(model.name, pack_name, model.lm.name, seed, samples, round(time.perf_counter() - began, 2),
                      rows, attempts, memory is not None, model.lm.path, model_hash(model.lm.path), list(sources),
                      tasks_dir)
