"""The verdict: what a cycle or a night did, in plain sentences a person reads first.

The numbers behind the plots (pass rates per night, BWT/FWT, the gate's counts) answer three
questions a newcomer asks, and this module answers them in words so the CLI and the HTML report
say the same thing: did it learn (the generated holdout and a project's held-out breakages), did
it forget (tasks passed before and failed now; the gate's refusals), and did it move on code people
wrote (the hand-written koans)? Then a small table of percentages, and the two transfer measures
named with a one-line definition.

Everything here reads finished results (:class:`~sleepy.loop.cycle.CycleResult`,
:class:`~sleepy.loop.night.NightReport`); nothing imports torch, so it runs without the model extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sleepy.loop.cycle import CycleResult
    from sleepy.loop.night import NightReport

SET_NAMES = {"holdout": "generated holdout", "frozen": "hand-written koans",
             "project-holdout": "your project's held-out breakages", "project": "your project's breakages",
             "tasks": "your tasks"}
SHORT_NAMES = {"holdout": "holdout", "frozen": "koans", "project-holdout": "project held-out",
               "project": "project", "tasks": "your tasks"}  # table rows: a terminal is 80 columns wide
SET_ORDER = ("holdout", "project-holdout", "project", "tasks", "frozen")

BWT_DEFINITION = ("the mean change, from night 0 to the last night, on tasks of the "
                  "families the model already knew; below 0 means it forgot")
FWT_DEFINITION = ("the same mean change on tasks of families it was never pretrained on; "
                  "above 0 means it learned something new")


@dataclass
class Verdict:
    """Sentences first, then a table (``columns`` and ``rows`` of plain strings), then definitions."""

    sentences: list[str]
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The sentences as one paragraph (what a terminal prints first)."""
        return " ".join(self.sentences)


def pct(passed: int, total: int) -> str:
    """``56.7 %`` (one decimal, none when whole): precise enough to tell a task on a 60-task set."""
    if not total:
        return "n/a"
    value = round(100 * passed / total, 1)
    return f"{value:g} %"


def _signed(n: int | float, unit: str) -> str:
    return f"{'+' if n > 0 else ''}{n:g} {unit}"


def _count(n: int) -> str:
    return f"{'+' if n > 0 else ''}{n}"


def _tasks(n: int) -> str:
    if n == 0:
        return "no change"
    return f"{'+' if n > 0 else ''}{n} task{'' if abs(n) == 1 else 's'}"


def set_counts(results: dict[str, bool]) -> dict[str, tuple[int, int]]:
    """set name -> (passed, tasks) of one night's ``"set/task" -> passed`` results."""
    out: dict[str, list[int]] = {}
    for key, passed in results.items():
        counts = out.setdefault(key.split("/", 1)[0], [0, 0])
        counts[0] += int(bool(passed))
        counts[1] += 1
    return {s: (c[0], c[1]) for s, c in out.items()}


def _ordered(sets) -> list[str]:
    return [s for s in SET_ORDER if s in sets] + sorted(s for s in sets if s not in SET_ORDER)


def family_moves(result: CycleResult, set_name: str, limit: int = 2) -> list[str]:
    """The families of ``set_name`` whose pass rate moved most from night 0 to the last night, in words."""
    first, last = result.nights[0], result.nights[-1]
    fams: dict[str, list[int]] = {}
    for key, fam in first.families.items():
        if key.startswith(set_name + "/"):
            counts = fams.setdefault(fam, [0, 0, 0])
            counts[0] += int(bool(first.results.get(key)))
            counts[1] += int(bool(last.results.get(key)))
            counts[2] += 1
    moved = sorted(((abs(b - a) / n, fam, a, b, n) for fam, (a, b, n) in fams.items() if a != b), reverse=True)
    return [f"{fam} {pct(a, n)} → {pct(b, n)}" for _, fam, a, b, n in moved[:limit]]


def _learned(result: CycleResult) -> str:
    first, last = set_counts(result.nights[0].results), set_counts(result.nights[-1].results)
    parts = []
    for name in _ordered(first):
        if name == "frozen":
            continue
        (a, n), (b, _) = first[name], last.get(name, (0, first[name][1]))
        moves = family_moves(result, name)
        detail = f" ({'; '.join([_tasks(b - a), *moves])})" if a != b or moves else ""
        parts.append(f"{SET_NAMES.get(name, name)} {pct(a, n)} → {pct(b, n)}{detail}")
    if not parts:
        return "Learned: no held-out set was measured."
    gained = sum(last.get(s, (0, 0))[0] - first[s][0] for s in first if s != "frozen")
    if gained > 0:
        return f"Learned: {', '.join(parts)}."
    if gained < 0:
        return f"Lost ground: {', '.join(parts)}."
    return f"Learned: nothing measurable yet ({', '.join(parts)})."


def forgotten(result: CycleResult) -> list[str]:
    """Tasks production passed at night 0 and fails after the last night (majority over the gate's seeds)."""
    first, last = result.nights[0].results, result.nights[-1].results
    return sorted(k for k, v in first.items() if v and not last.get(k, False))


def _gate_counts(result: CycleResult) -> tuple[int, int, int]:
    """(promoted or handed to the canary, refused, nights without a candidate) over the cycle's nights."""
    nights = result.nights[1:]
    passed = sum(r.promoted is True or r.handed_to_canary for r in nights)
    refused = sum(r.promoted is False and not r.handed_to_canary for r in nights)
    return passed, refused, len(nights) - passed - refused


def _canary(result: CycleResult) -> str:
    """What the canary did with the candidates the gate handed it (nothing when none was handed)."""
    handed = sum(r.handed_to_canary for r in result.nights[1:])
    if not handed:
        return ""
    moved = [d for r in result.nights[1:] for d in r.rollout if d.get("moved") and d.get("stage") == "canary"]
    promoted = sum(d.get("decision") == "promote" for d in moved)
    dropped = sum(d.get("decision") == "rollback" for d in moved)
    rolled = sum(d.get("moved") and d.get("stage") == "monitor" for r in result.nights[1:] for d in r.rollout)
    back = f", the monitor rolled back {rolled}" if rolled else ""
    waiting = handed - promoted - dropped
    tail = f"; {waiting} still wait{'s' if waiting == 1 else ''} for it" if waiting > 0 else ""
    return (f" {handed} went to the canary instead of production: it promoted {promoted} and dropped {dropped}"
            f"{back}{tail}.")


def _forgot(result: CycleResult) -> str:
    lost = forgotten(result)
    if lost:
        shown = ", ".join(k.split("/", 1)[1] for k in lost[:3]) + (", ..." if len(lost) > 3 else "")
        head = f"Forgot: {len(lost)} task{'' if len(lost) == 1 else 's'} it passed at night 0 ({shown})."
    else:
        head = "Forgot: nothing (0 regressions)."
    return f"{head} {_gate(result)}"


def _gate(result: CycleResult) -> str:
    """The gate's part in one sentence: promotions, refusals and the regressions the refusals kept out."""
    promoted, refused, _ = _gate_counts(result)
    if not promoted + refused:
        return "The gate saw no candidate."
    blocked = sum(r.regressions for r in result.nights[1:] if r.promoted is False and not r.handed_to_canary)
    why = f" ({blocked} regression{'' if blocked == 1 else 's'} kept out of production)" if blocked else ""
    verb = "passed" if any(r.handed_to_canary for r in result.nights[1:]) else "promoted"
    return (f"The gate {verb} {promoted} candidate{'' if promoted == 1 else 's'} and refused {refused}{why}."
            + _canary(result))


def _koans(result: CycleResult) -> str | None:
    first, last = set_counts(result.nights[0].results), set_counts(result.nights[-1].results)
    if "frozen" not in first:
        return None
    (a, n), (b, _) = first["frozen"], last.get("frozen", (0, first["frozen"][1]))
    moved = f" ({_tasks(b - a)})" if a != b else ""
    return f"Hand-written koans: {pct(a, n)} → {pct(b, n)}{moved}."


def _nights(result: CycleResult) -> str:
    _, _, idle = _gate_counts(result)
    nights = len(result.nights) - 1
    minutes = sum(r.day_seconds + r.night_seconds for r in result.nights) / 60
    parts = [f"{idle} with nothing to train"] if idle else []
    parts += [f"{minutes:.0f} min of days and nights"] if minutes >= 1 else []
    more = f" ({', '.join(parts)})" if parts else ""
    return f"{nights} night{'' if nights == 1 else 's'}{more}; production is now {result.nights[-1].production}."


def transfer(result: CycleResult) -> tuple[float | None, float | None]:
    """(BWT, FWT) in percentage points: mean per-task change from night 0 to the last night, known/new families."""
    first, last = result.nights[0], result.nights[-1]
    known = set(result.known_families)

    def change(keys: list[str]) -> float | None:
        if not keys:
            return None
        return round(100 * sum(int(bool(last.results.get(k))) - int(bool(first.results[k])) for k in keys)
                     / len(keys), 1)

    keys = list(first.results)
    return (change([k for k in keys if first.families.get(k) in known]),
            change([k for k in keys if first.families.get(k) not in known]))


def _terms(result: CycleResult) -> list[str]:
    if not result.known_families:
        return []
    bwt, fwt = transfer(result)
    return [f"Backward transfer (BWT) {'n/a' if bwt is None else _signed(bwt, 'pts')}: {BWT_DEFINITION}.",
            f"Forward transfer (FWT) {'n/a' if fwt is None else _signed(fwt, 'pts')}: {FWT_DEFINITION}."]


def cycle_table(result: CycleResult) -> tuple[list[str], list[list[str]]]:
    """Rows: each set (and the holdout's known/new families); columns: night 0, each night's production, change."""
    columns = (["set", "tasks"] + [f"night {r.night}\n{_short(r.production)}" for r in result.nights]
               + ["change\n(tasks)"])
    known = set(result.known_families)
    groups: list[tuple[str, list[str]]] = []
    first = result.nights[0]
    for name in _ordered(set_counts(first.results)):
        keys = [k for k in first.results if k.startswith(name + "/")]
        groups.append((SHORT_NAMES.get(name, name), keys))
        if name == "holdout" and known:
            groups.append(("holdout known", [k for k in keys if first.families.get(k) in known]))
            groups.append(("holdout new", [k for k in keys if first.families.get(k) not in known]))
    rows = []
    for label, keys in groups:
        if not keys:
            continue
        passed = [sum(bool(r.results.get(k)) for k in keys) for r in result.nights]
        rows.append([label, str(len(keys))] + [pct(p, len(keys)) for p in passed] + [_count(passed[-1] - passed[0])])
    return columns, rows


def _short(release: str) -> str:
    return release if len(release) <= 8 else release[:8]


def cycle_verdict(result: CycleResult) -> Verdict:
    """What a cycle did: learned, forgot, koans, the nights; a table per set and night; BWT/FWT in words."""
    if not result.nights:
        return Verdict(["Nothing ran: the cycle has no nights."])
    sentences = [_learned(result), _forgot(result), _koans(result), _nights(result)]
    columns, rows = cycle_table(result)
    return Verdict([s for s in sentences if s], columns, rows, _terms(result))


def night_verdict(report: NightReport) -> Verdict:
    """What one night did: the gate's decision as learned/forgot sentences and a production-vs-candidate table."""
    trained = [c for c in report.clusters if c.skill]
    skills = (f"Trained {len(trained)} skill(s): " + ", ".join(f"{c.skill} ({c.trainable_parameters:,} parameters, "
                                                               f"{sum(c.examples.values())} examples)"
                                                               for c in trained) + ".") if trained else None
    d = report.decision
    if d is None:
        note = report.note or "nothing to train"
        return Verdict([f"No candidate: {note}. Production stays {report.production_after}."])
    prod, cand, tasks = d.get("production_passes", {}), d.get("candidate_passes", {}), d.get("tasks", {})
    parts = [f"{SET_NAMES.get(s, s)} {pct(prod.get(s, 0), n)} → {pct(cand.get(s, 0), n)} "
             f"({_tasks(cand.get(s, 0) - prod.get(s, 0))})" for s in _ordered(tasks) for n in [tasks[s]]]
    regressions = d.get("regressions", [])
    staged = report.handed_to_canary
    head = "Handed to the canary" if staged else "Promoted" if d.get("promote") else "Kept production"
    learned = f"{head}: the candidate {report.candidate or ''} against production: {', '.join(parts)}."
    if regressions:
        shown = ", ".join(r.split("/", 1)[1] for r in regressions[:3]) + (", ..." if len(regressions) > 3 else "")
        forgot = (f"Forgot: the candidate would have lost {len(regressions)} task(s) production passes ({shown}); "
                  "the gate refused it, so production forgot nothing.")
    else:
        forgot = "Forgot: nothing (0 regressions)."
    columns = ["set", "tasks", "production", "candidate", "change\n(tasks)"]
    rows = [[SHORT_NAMES.get(s, s), str(tasks[s]), pct(prod.get(s, 0), tasks[s]), pct(cand.get(s, 0), tasks[s]),
             _count(cand.get(s, 0) - prod.get(s, 0))] for s in _ordered(tasks)]
    after = (f"Production stays {report.production_after}; the candidate is {report.candidate}, and the next "
             "`sleepy day` runs the canary on it, which promotes it, keeps watching or drops it."
             if staged else f"Production is now {report.production_after}.")
    sentences = [learned, forgot, skills, after]
    return Verdict([s for s in sentences if s], columns, rows)
