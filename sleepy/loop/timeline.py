"""Why each alias moved, in words: the registry's history as a timeline, and the running canary's figures.

``history.jsonl`` already keeps every move with its reason and metrics, but the metrics are whatever the mover
had: the gate's counts (regressions, improvements, passes per set), the rollout rule's evidence (tasks, pooled
harm, per-signature counts; :meth:`sleepy.loop.rollout.Decision.evidence`), nothing for a move by hand. A
person asking "why is production this?" should not have to know those shapes, so each move gets a kind (gate,
canary, monitor, manual, repair) and one line of its key evidence. It lives beside the rollout because it reads
the rule's evidence; the dashboard (``sleepy.serve.dashboard``) only shows it.

The canary's figures come from its last look: the newest rollout event of the current candidate (the day
writes one after every batch, so they move while a day runs), else the newest history entry with its evidence
(an undecided canary's end-of-day keep, recorded as a move of ``candidate`` onto itself).
"""

from __future__ import annotations

import json
from pathlib import Path

from sleepy.loop.rollout import CANARY, MONITOR, RolloutRule

GATE, MANUAL, REPAIR = "gate", "manual", "repair"
EVENTS_READ = 2000  # newest rollout events read for the canary's last look (one per batch of day tasks)


def move_kind(entry: dict) -> str:
    """Who moved the alias: the gate (a night), the canary or the monitor (a day), a registry repair, or a person."""
    stage = (entry.get("metrics") or {}).get("stage")
    if stage in (CANARY, MONITOR):
        return stage
    why = str(entry.get("why", ""))
    if why.startswith("night:"):
        return GATE
    if why.startswith("registry repair"):
        return REPAIR
    return MANUAL


def _ratio(passed: int, tasks: int) -> str:
    return f"{passed}/{tasks} ({passed / tasks:.0%})" if tasks else "0/0"


def _totals(signatures: dict) -> tuple[int, int, int, int]:
    """(baseline passed, baseline tasks, release passed, release tasks) over the evidence's signatures."""
    bk = bn = nk = nn = 0
    for s in signatures.values():
        bk, bn = bk + s["baseline"][0], bn + s["baseline"][1]
        nk, nn = nk + s["release"][0], nn + s["release"][1]
    return bk, bn, nk, nn


def evidence_line(entry: dict) -> str:
    """The key evidence of one move in one line ("" for a move by hand, which has none)."""
    m, kind = entry.get("metrics") or {}, move_kind(entry)
    try:
        if kind == GATE and "tasks" in m:
            total = sum(m["tasks"].values())
            line = (f"gate: {m['improvements']} improved, {m['regressions']} regressed; candidate "
                    f"{_ratio(sum(m['candidate_passes'].values()), total)} vs production "
                    f"{_ratio(sum(m['production_passes'].values()), total)}")
            return line + (f"; handed to a {m['canary']:.0%} canary" if m.get("canary") else "")
        if kind in (CANARY, MONITOR):
            sigs = m.get("signatures") or {}
            bk, bn, nk, nn = _totals(sigs)
            worst = max(sigs.items(), key=lambda kv: kv[1]["harm"], default=None)
            line = (f"{kind} {m['decision']} after {m['tasks']} tasks: {m['release'][:12]} {_ratio(nk, nn)} vs "
                    f"{m['baseline'][:12]} {_ratio(bk, bn)}; P(worse by > {RolloutRule().margin:.0%}) "
                    f"{m['pooled_harm']:.3f}")
            if worst is not None:
                name, s = worst
                line += (f"; worst {name} {_ratio(*s['release'])} vs {_ratio(*s['baseline'])} "
                         f"(P(drop) {s['harm']:.3f})")
            return line
    except (KeyError, TypeError, ValueError, AttributeError):
        return "evidence recorded in a form this version does not read"
    return ""


def timeline(history: list[dict]) -> list[dict]:
    """Every alias move, newest first, each with its kind and key evidence beside what the history holds."""
    return [{"time": h.get("time", ""), "alias": h["alias"], "from": h["from"], "to": h["to"],
             "who": h.get("who", ""), "why": h.get("why", ""), "kind": move_kind(h), "evidence": evidence_line(h),
             "moved": h["from"] != h["to"]} for h in reversed(history)]


def _figures(evidence: dict, source: str, when: str, reason: str) -> dict:
    """The canary's figures from one look's evidence: tasks and passes per release, and per signature."""
    bk, bn, nk, nn = _totals(evidence.get("signatures") or {})
    return {"candidate": evidence["release"], "production": evidence["baseline"], "decision": evidence["decision"],
            "tasks": evidence["tasks"], "reason": reason, "time": when, "source": source,
            "releases": [{"release": evidence["release"], "role": "candidate", "tasks": nn, "passed": nk},
                         {"release": evidence["baseline"], "role": "production", "tasks": bn, "passed": bk}],
            "pooled_harm": evidence.get("pooled_harm"), "non_inferior": evidence.get("non_inferior"),
            "signatures": [{"signature": name, "candidate": s["release"], "production": s["baseline"],
                            "harm": s["harm"]} for name, s in sorted((evidence.get("signatures") or {}).items())]}


def canary_figures(aliases: dict[str, str], history: list[dict], events: list[dict]) -> dict | None:
    """The running canary's last look, or None when no candidate other than production waits for one.

    ``events``: rollout wide events, oldest first (:func:`sleepy.loop.rollout.events_path`). A candidate with
    no look yet (handed over by a night, no day since) gets figures of zero tasks, so the page says it waits."""
    candidate, production = aliases.get("candidate"), aliases.get("production", "base")
    if candidate is None or candidate == production:
        return None
    for e in reversed(events):
        evidence = e.get("sleepy.rollout.evidence") or {}
        if (e.get("sleepy.rollout.stage") == CANARY and evidence.get("release") == candidate
                and evidence.get("baseline") == production):
            try:
                return _figures(evidence, "events", e.get("time", ""), e.get("sleepy.rollout.reason", ""))
            except (KeyError, TypeError, IndexError):
                break
    for h in reversed(history):
        m = h.get("metrics") or {}
        if m.get("stage") == CANARY and m.get("release") == candidate and m.get("baseline") == production:
            try:
                return _figures(m, "history", h.get("time", ""), h.get("why", ""))
            except (KeyError, TypeError, IndexError):
                break
    empty = {"stage": CANARY, "decision": "waiting", "release": candidate, "baseline": production, "tasks": 0}
    return _figures(empty, "none", "", "no day has run the canary on this candidate yet")


def read_events(path: Path, limit: int) -> list[dict]:
    """The newest ``limit`` events of a JSON-lines log, oldest first; a line torn by a killed day is skipped
    (the page must show the rest, not fail on it)."""
    try:
        lines = path.read_text(errors="replace").splitlines()[-limit:]
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out
