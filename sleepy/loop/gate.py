"""The gate: candidate vs production on the frozen set, same seeds, per task.

The frozen set is the hand-written koans plus a generated holdout from reserved seeds, reported
separately. A regression is a task production passes in the majority of seeds and the candidate
fails in the majority; one regression on either part blocks promotion, whatever the pass rate.
Promote only when there is no regression and the pass count rises ("let sleeping models lie").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

from sleepy.loop.evaluate import EvalReport


@dataclass
class GateDecision:
    promote: bool
    reason: str
    regressions: list[str] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    production_passes: dict[str, int] = field(default_factory=dict)  # per set, majority-passed tasks
    candidate_passes: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def majority(reports: list[EvalReport]) -> dict[tuple[str, str], bool]:
    """(set, task id) -> passed in the majority of the reports (seeds)."""
    votes: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for report in reports:
        for row in report.rows:
            votes[(row.set, row.task_id)].append(row.passed)
    return {k: sum(v) * 2 > len(v) for k, v in votes.items()}


def decide(production: list[EvalReport], candidate: list[EvalReport]) -> GateDecision:
    prod, cand = majority(production), majority(candidate)
    if set(prod) != set(cand):
        raise ValueError("production and candidate were evaluated on different tasks")
    regressions = sorted(f"{s}/{t}" for (s, t) in prod if prod[(s, t)] and not cand[(s, t)])
    improvements = sorted(f"{s}/{t}" for (s, t) in prod if cand[(s, t)] and not prod[(s, t)])
    sets = sorted({s for s, _ in prod})
    prod_passes = {s: sum(v for (ss, _), v in prod.items() if ss == s) for s in sets}
    cand_passes = {s: sum(v for (ss, _), v in cand.items() if ss == s) for s in sets}
    tasks = {s: sum(1 for ss, _ in prod if ss == s) for s in sets}
    if regressions:
        reason = f"{len(regressions)} regression(s): {', '.join(regressions[:5])}"
        promote = False
    elif sum(cand_passes.values()) <= sum(prod_passes.values()):
        reason = "no improvement over production"
        promote = False
    else:
        reason = f"no regressions, {len(improvements)} task(s) improved"
        promote = True
    return GateDecision(promote, reason, regressions, improvements, prod_passes, cand_passes, tasks)
