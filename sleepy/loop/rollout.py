"""Staged rollout: the canary (a fraction of day tasks on ``candidate``) and the monitor (production watched
after a promotion), both deciding from per-signature outcomes with one stated rule.

**Assignment.** A day task runs on the candidate when ``sha256(candidate id + task id)`` read as a number in
[0, 1) is below the canary fraction: a rerun (or a resumed run) puts every task on the same release, and a new
candidate gets a fresh slice of tasks rather than the same ones every time. A task of one of the candidate's
*primary signatures* (below: what it changed on purpose) uses ``primary_share`` (0.5) instead, when that is
larger: a release trained on wrong fixes hurts those first, so the canary spends its traffic where the evidence
is, and production keeps the other half of them (its side of the comparison). The test compares per signature,
so a mix that leans to the primary signatures is never read as a change in quality.

**The evidence.** Outcomes (task, signature, release, passed) are counted per signature for two releases: the
*baseline* and the release *under test*. For the canary they are production (its last ``window`` (200)
tasks before the canary, since it became production, then every task beside the canary) and the candidate
(every task since it became candidate); for the monitor, the last ``window`` tasks the previous production
ran before the promotion, and every task the new production ran after it. The two sides
are paired by signature: only signatures both sides have outcomes for are compared, so a change in the mix of
tasks is never read as a change in quality. A task's signature is the one it declares (generated tasks, most
task folders), else its family; both sides use the same key.

**The test** (Bayesian, beta-binomial, uniform priors; the same rule for canary and monitor). For each shared
signature s the pass rates get the posteriors Beta(1 + passed, 1 + failed), and

* ``harm_s = P(p_new,s < p_base,s - margin)`` (computed on a 1000-point grid), the belief that the release is
  worse on s by more than ``margin`` (15 points);
* pooled over shared signatures weighted by the new side's task counts, ``delta = sum_s w_s (p_new,s -
  p_base,s)`` (4000 posterior draws, a fixed seed so a decision is reproducible): ``P(delta < -margin)``
  (pooled harm) and ``P(delta > -margin)`` (non-inferiority).

**The primary test** (pre-registered, looked at first). Before any outcome, the registry's manifests say
which signatures the release under test changed on purpose: those it routes to a skill the baseline does not
have (a new route, another skill, or the same skill retrained: its files' sha256 differ;
:func:`primary_signatures`). A release trained on wrong fixes for a signature breaks that signature first,
so it is asked first, as its own test with its own error budget: 1 - ``primary_belief`` (0.05) split evenly
over the k primary signatures (a Bonferroni split; the belief to reach is 1 - 0.05 / k). It runs once per
release: in the canary, or in the monitor when the gate promoted the release without a canary (a promotion
by the canary is watched by the guard alone). It is the guard's ``harm_s`` with the same margin, looked at
after every batch as soon as a primary signature has ``min_signature_tasks`` (4) tasks on the release, without
waiting for ``min_tasks``. The catch-all router key ``*`` names no signature, and a manifest that cannot be
read gives none: the guard alone then.

Decisions, checked after every batch of day tasks (a sequential rule: it looks again as outcomes arrive):

* some primary signature with at least ``min_signature_tasks`` new tasks has ``harm_s >= 1 - 0.05 / k``:
  **rollback** (the primary test);
* fewer than ``min_tasks`` (20) tasks on the release under test: **keep** (no decision either way);
* the guard, over every signature: some signature with at least ``min_signature_tasks`` (4) new tasks has
  ``harm_s >= 0.998``, or the pooled harm is ``>= 0.998``: **rollback** (by either test, in the canary the
  candidate alias is dropped, i.e. moved to production; in the monitor production moves back to the release
  before the promotion, when ``auto_rollback``);
* canary only: non-inferiority ``>= 0.95``, and every common signature (5 % or more of the baseline's
  tasks) has at least 5 candidate tasks and ``harm_s < 0.5``: **promote**;
* monitor only: ``watch`` (200) tasks after the promotion without a rollback: **hold** (watching ends);
* otherwise **keep**.

The guard's 0.998 and the 15-point margin pay for the repeated looks and the several signatures looked at
(at 0.99, a good release's unlucky 0/4 on an 80 % signature rolled back 6 of 220 good releases; the canary's
primary test catches a bad release before the guard would, so the guard can afford to be strict);
the primary test spends more (0.05, the conventional level, chosen before measuring) on the one question
asked in advance. A Bayesian threshold alone does not bound the error over many looks, so both were
measured: ``benchmarks/releases.py`` drives this class with simulated outcomes over real registry folders
(the release under test retrains one signature's skill, which the rollout reads as its primary signature),
each release also under the guard alone on a copy of the same registry; its results
(benchmarks/results/releases.json) give the false rollbacks over good releases with and without the primary
test, and how many tasks a release that breaks one signature runs before it is rolled back. The price is
measured there, not assumed: the primary test catches more bad releases within 50 tasks and rolls back more
good ones than the guard alone (see the results' headline).

Every decision becomes a wide event (``<workspace>/rollout/events.jsonl``); every move goes through
:meth:`Registry.move` with the evidence as its metrics, so ``history.jsonl`` says why each move happened. A
canary still undecided at the end of a day records a **keep** as a move of ``candidate`` onto itself (the
history holds only alias moves; this one changes nothing and keeps the evidence).

A queued day (many workers on one queue) runs the same rollout through :class:`SharedRollout`: the same
routing in every worker, and one look at a time under a lock in the registry folder, on the evidence every
worker committed to the store.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from sleepy.adapters.lora import ANY
from sleepy.adapters.registry import Registry, RegistryError
from sleepy.telemetry.events import EventLog

CANARY, MONITOR = "canary", "monitor"
KEEP, PROMOTE, ROLLBACK, HOLD = "keep", "promote", "rollback", "hold"
STORE_LIMIT = 20000  # newest episodes read from the store when a day starts (both windows fit in it)


class RolloutError(ValueError):
    """Bad rollout input (a fraction outside (0, 1), no candidate to canary); the message is one line."""


@dataclass(frozen=True)
class RolloutRule:
    """The thresholds of the test in the module docstring; defaults are the ones the benchmark measured."""

    min_tasks: int = 20  # tasks on the release under test before any decision
    min_signature_tasks: int = 4  # new tasks of a signature before it alone can roll back (3 let a good release's
    # unlucky 0/3 on a 90 % signature through: 4 false rollbacks in 70 good releases on benchmarks/releases.py)
    margin: float = 0.15  # a drop of more than this (absolute pass rate) is harm
    rollback_belief: float = 0.998  # the guard's; 0.99 rolled back 6/220 good releases (module docstring)
    promote_belief: float = 0.95
    promote_signature_tasks: int = 5  # a promotion needs this many candidate tasks on every common signature
    promote_harm: float = 0.5  # ... and each of them less likely worse than not
    common: float = 0.05  # a signature with this share of the baseline's tasks is common
    window: int = 200  # monitor: the previous production's last tasks before the promotion
    watch: int = 200  # monitor: tasks after the promotion before watching ends
    draws: int = 4000
    primary_belief: float = 0.95  # the primary test: 1 - 0.05 / k over the release's k primary signatures
    primary: bool = True  # False: the guard alone (the rule before the primary test; the benchmark's comparison)
    primary_share: float = 0.5  # canary: the share of a primary signature's tasks sent to the candidate (at least
    # the canary fraction): the evidence goes where the release changed. At 20 % everywhere a broken signature
    # of 9-20 % of the tasks had 4-7 tasks among the candidate's first 50; see benchmarks/results/releases.json


@dataclass(frozen=True)
class Outcome:
    """One finished task: which release ran it and whether it passed."""

    task_id: str
    signature: str
    release: str
    passed: bool
    time: str = ""  # ISO time the episode started (store outcomes); "" for ones fed during the day


def signature_key(signature: str | None, family: str) -> str:
    """The stratum a task is counted in: its declared signature, else its family."""
    return signature or f"family:{family}"


def on_candidate(task_id: str, salt: str, fraction: float) -> bool:
    """Whether a task runs on the candidate: a hash of (candidate id, task id) below the fraction."""
    digest = hashlib.sha256(f"{salt}\0{task_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < fraction


@dataclass
class SignatureEvidence:
    signature: str
    base_passed: int
    base_tasks: int
    new_passed: int
    new_tasks: int
    harm: float  # P(p_new < p_base - margin)

    def line(self) -> str:
        return (f"{self.signature} {_pct(self.base_passed, self.base_tasks)} ({self.base_passed}/{self.base_tasks})"
                f" -> {_pct(self.new_passed, self.new_tasks)} ({self.new_passed}/{self.new_tasks})")


def primary_signatures(registry: Registry, baseline: str, release: str) -> list[str]:
    """The signatures ``release`` routes to a skill that ``baseline`` does not have: a signature it routes that
    the baseline does not, or routes to another skill, or to a skill whose files (their sha256 in files.json,
    which the release id seals) differ, as a retrained skill's do. Read from the two manifests only, before
    any outcome: what the release changed on purpose, so a test can be registered on it in advance. The
    catch-all router key ``*`` (the naive baseline's one skill for every task) names no signature and is
    left out; ``base`` has no skills, so every signature a release routes is new against it."""
    new = registry.get(release, check=False)
    if new is None:
        return []
    old = registry.get(baseline, check=False)

    def skill_files(rel, name: str) -> dict[str, str]:
        if rel is None or rel.folder is None or not any(s.name == name for s in rel.skills):
            return {}
        prefix = rel.skill(name).path.rstrip("/") + "/"
        listed = json.loads((rel.folder / "files.json").read_text())  # hashes to the id: get() checked it
        return {k[len(prefix):]: v for k, v in listed.items() if k.startswith(prefix)}

    out = []
    for sig, name in sorted(new.router.items()):
        if sig == ANY:
            continue
        if old is None or old.router.get(sig) != name or skill_files(old, name) != skill_files(new, name):
            out.append(sig)
    return out


@dataclass
class Decision:
    """One look of the rule: what it decided, why (one line) and the evidence behind it."""

    stage: str  # canary | monitor
    action: str  # keep | promote | rollback | hold
    release: str  # under test
    baseline: str
    tasks: int  # outcomes of the release under test
    reason: str
    pooled_harm: float = 0.0
    non_inferior: float = 0.0
    signatures: list[SignatureEvidence] = field(default_factory=list)
    moved: bool = False  # the registry was moved on this decision
    primary: list[str] = field(default_factory=list)  # the release's pre-registered primary signatures
    by: str = ""  # what decided a rollback: "primary" | "guard"

    def evidence(self) -> dict:
        """What history.jsonl and the event keep (the metrics of the move)."""
        return {"stage": self.stage, "decision": self.action, "release": self.release, "baseline": self.baseline,
                "tasks": self.tasks, "pooled_harm": round(self.pooled_harm, 4),
                "non_inferior": round(self.non_inferior, 4), "primary": self.primary, "by": self.by,
                "signatures": {s.signature: {"baseline": [s.base_passed, s.base_tasks],
                                             "release": [s.new_passed, s.new_tasks], "harm": round(s.harm, 4)}
                               for s in self.signatures}}


def _pct(k: int, n: int) -> str:
    return f"{k / n:.0%}" if n else "-"


# ---------------------------------------------------------------------------------------------- the statistics
_GRID = (np.arange(1000) + 0.5) / 1000


def _posterior(passed: int, tasks: int) -> np.ndarray:
    """Beta(1 + passed, 1 + failed) on the grid, as probabilities summing to 1."""
    a, b = 1 + passed, 1 + tasks - passed
    log = (a - 1) * np.log(_GRID) + (b - 1) * np.log1p(-_GRID)
    w = np.exp(log - log.max())
    return w / w.sum()


@lru_cache(maxsize=65536)
def harm_probability(base: tuple[int, int], new: tuple[int, int], margin: float) -> float:
    """P(p_new < p_base - margin) for independent beta posteriors of (passed, tasks) on each side (cached: a
    look recomputes every signature, most of whose counts did not change since the last one)."""
    px, py = _posterior(*new), _posterior(*base)
    cdf_x = np.concatenate([[0.0], np.cumsum(px)])
    below = np.searchsorted(_GRID, _GRID - margin, side="left")  # grid points of x strictly under y - margin
    return float(np.clip(np.dot(py, cdf_x[below]), 0.0, 1.0))


def _pooled(tallies: list[tuple[int, int, int, int]], margin: float, draws: int) -> tuple[float, float]:
    """(P(delta < -margin), P(delta > -margin)) for delta = the new side's mix-weighted change in pass rate."""
    if not tallies:
        return 0.0, 0.0
    rng = np.random.default_rng(0)
    total = sum(t[3] for t in tallies)
    delta = np.zeros(draws)
    for bk, bn, nk, nn in tallies:
        delta += nn / total * (rng.beta(1 + nk, 1 + nn - nk, draws) - rng.beta(1 + bk, 1 + bn - bk, draws))
    return float(np.mean(delta < -margin)), float(np.mean(delta > -margin))


def _tally(outcomes: Iterable[Outcome]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for o in outcomes:
        t = out.setdefault(o.signature, [0, 0])
        t[0] += o.passed
        t[1] += 1
    return out


def primary_threshold(rule: RolloutRule, k: int) -> float:
    """The primary test's belief for k primary signatures: its 1 - primary_belief split evenly over them."""
    return 1 - (1 - rule.primary_belief) / max(k, 1)


def judge(stage: str, baseline: str, release: str, base: list[Outcome], new: list[Outcome],
          rule: RolloutRule, primary: Iterable[str] = ()) -> Decision:
    """Apply the rule of the module docstring to the outcomes so far of ``baseline`` and ``release``;
    ``primary``: the release's pre-registered primary signatures (:func:`primary_signatures`)."""
    b, n = _tally(base), _tally(new)
    shared = sorted(set(b) & set(n))
    sigs = [SignatureEvidence(s, b[s][0], b[s][1], n[s][0], n[s][1],
                              harm_probability((b[s][0], b[s][1]), (n[s][0], n[s][1]), rule.margin)) for s in shared]
    pooled_harm, non_inferior = _pooled([(b[s][0], b[s][1], n[s][0], n[s][1]) for s in shared], rule.margin,
                                        rule.draws)
    primary = sorted(set(primary)) if rule.primary else []
    d = Decision(stage, KEEP, release, baseline, len(new), "", pooled_harm, non_inferior, sigs, primary=primary)
    who = "the candidate" if stage == CANARY else "production"
    threshold = primary_threshold(rule, len(primary))
    first = max((s for s in sigs if s.signature in primary and s.new_tasks >= rule.min_signature_tasks),
                key=lambda s: s.harm, default=None)
    if first is not None and first.harm >= threshold:  # the primary test: before min_tasks, its own belief
        d.action, d.by = ROLLBACK, "primary"
        d.reason = (f"{stage}: rollback: primary signature {first.line()}; P(drop > {rule.margin:.0%}) = "
                    f"{first.harm:.4f} >= {threshold:.4f}")
        return d
    if len(new) < rule.min_tasks:
        d.reason = f"{stage}: {len(new)} of {rule.min_tasks} tasks on {who} before any decision"
        return d
    if not shared:
        d.reason = f"{stage}: no signature with outcomes on both {baseline} and {release} to compare"
        return d
    judged = [s for s in sigs if s.new_tasks >= rule.min_signature_tasks]
    worst = max(judged, key=lambda s: s.harm, default=None)
    new_k, new_n = sum(s.new_passed for s in sigs), sum(s.new_tasks for s in sigs)
    base_k, base_n = sum(s.base_passed for s in sigs), sum(s.base_tasks for s in sigs)
    overall = f"{_pct(base_k, base_n)} -> {_pct(new_k, new_n)} over {new_n} tasks"
    unseen = _unseen(b, sigs, rule) if stage == CANARY else []
    if worst is not None and worst.harm >= rule.rollback_belief:
        d.action, d.by = ROLLBACK, "guard"
        d.reason = (f"{stage}: rollback: {worst.line()}; P(drop > {rule.margin:.0%}) = {worst.harm:.4f} "
                    f">= {rule.rollback_belief}")
    elif pooled_harm >= rule.rollback_belief:
        d.action, d.by = ROLLBACK, "guard"
        d.reason = (f"{stage}: rollback: {overall}; P(drop > {rule.margin:.0%}) = {pooled_harm:.4f} "
                    f">= {rule.rollback_belief}")
    elif stage == MONITOR and len(new) >= rule.watch:
        d.action = HOLD
        d.reason = f"{stage}: hold: {overall} after the promotion, no significant drop; watching ends"
    elif stage == CANARY and non_inferior >= rule.promote_belief and not unseen:
        d.action = PROMOTE
        d.reason = (f"{stage}: promote: {overall}; P(not worse by {rule.margin:.0%}) = {non_inferior:.3f} "
                    f">= {rule.promote_belief}, every common signature tried and not likely worse")
    else:
        suspect = f"; watching {worst.line()} (P(drop) = {worst.harm:.3f})" if worst and worst.harm >= 0.5 else ""
        short = f"; {len(unseen)} common signature(s) not yet shown not worse" if unseen else ""
        d.reason = (f"{stage}: keep: {overall}; P(not worse by {rule.margin:.0%}) = {non_inferior:.3f}"
                    f"{suspect}{short}")
    return d


def _unseen(base: dict[str, list[int]], sigs: list[SignatureEvidence], rule: RolloutRule) -> list[str]:
    """Common signatures (>= ``common`` of the baseline's tasks) a promotion still lacks evidence on: fewer than
    ``promote_signature_tasks`` tasks on the candidate, or harm_s not yet below ``promote_harm``. A release that
    is fine overall but barely tried on one signature is what the canary exists to catch."""
    total = sum(n for _, n in base.values()) or 1
    seen = {s.signature: s for s in sigs}
    return [sig for sig, (_, n) in sorted(base.items()) if n / total >= rule.common
            and (sig not in seen or seen[sig].new_tasks < rule.promote_signature_tasks
                 or seen[sig].harm >= rule.promote_harm)]


# ---------------------------------------------------------------------------------------------- the controller
def outcomes_from_store(store, limit: int = STORE_LIMIT) -> list[Outcome]:
    """Finished episodes of the store (day and serve), oldest first, each with its task's signature key."""
    rows = [r for r in store.recent_episodes(limit) if r["passed"] is not None]
    ids = sorted({r["task_id"] for r in rows})
    # in slices: SQLite builds before 3.32 take at most 999 parameters in one query
    tasks = {t["id"]: t for i in range(0, len(ids), 900) for t in store.task_rows(ids[i:i + 900])}
    out = []
    for r in reversed(rows):
        t = tasks.get(r["task_id"], {})
        out.append(Outcome(r["task_id"], signature_key(t.get("signature"), r.get("family") or t.get("family", "?")),
                           r["release"], bool(r["passed"]), r["started_at"] or ""))
    return out


def _is_rollback(entry: dict) -> bool:
    """A production move that undoes one (by hand, by the monitor, by a repair): nothing new to watch."""
    why = str(entry.get("why", ""))
    return (why.startswith(("rollback", "registry repair", f"{MONITOR}:"))
            or (entry.get("metrics") or {}).get("decision") == ROLLBACK)


def _last_move(history: list[dict], alias: str) -> dict | None:
    """The alias's last real move; a move onto itself (a canary's end-of-day keep) changes nothing."""
    return next((h for h in reversed(history) if h["alias"] == alias and h["from"] != h["to"]), None)


def _promotion(history: list[dict], production: str) -> dict | None:
    """The move that made ``production`` production, when it was a promotion (a monitor may watch it)."""
    move = _last_move(history, "production")
    return move if move and move["to"] == production and not _is_rollback(move) else None


def _time(iso: str) -> datetime:
    """An ISO time as an aware datetime (history: seconds, store: milliseconds); "" is the earliest."""
    return datetime.fromisoformat(iso) if iso else datetime.min.replace(tzinfo=UTC)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Rollout:
    """The day's canary and monitor over a real registry: routes tasks, looks after each batch, moves aliases.

    ``prior``: outcomes already on record (:func:`outcomes_from_store`), so a resumed or later day continues
    the evidence instead of starting over. ``fraction`` None: no canary (the monitor still watches).
    ``unseen``: how many of ``prior``'s newest outcomes no look has judged yet (a queued worker's batch, see
    :class:`SharedRollout`): a watch they complete is still looked at once, as :meth:`observe` would."""

    def __init__(self, registry: Registry, prior: list[Outcome], fraction: float | None = None,
                 rule: RolloutRule | None = None, auto_rollback: bool = True, events: EventLog | None = None,
                 run_id: int | None = None, unseen: int = 0) -> None:
        self.registry, self.rule, self.auto_rollback = registry, rule or RolloutRule(), auto_rollback
        self.events, self.run_id = events, run_id
        self.decisions: list[Decision] = []
        self.production = registry.resolve("production")
        history = registry.history()
        self.candidate: str | None = None
        self.canary_base: list[Outcome] = []
        self.canary_new: list[Outcome] = []
        self.canary_primary: list[str] = []
        if fraction is not None:
            check_fraction(fraction)
            aliases = registry.aliases()
            if "candidate" not in aliases:
                raise RolloutError(f"no candidate to canary: the registry {registry.root} has no candidate alias "
                                   "(a night makes one)")
            candidate = registry.resolve("candidate")
            if candidate == self.production:
                raise RolloutError(f"no candidate to canary: candidate is production ({candidate})")
            registry.get(candidate)  # a damaged candidate is a one-line RegistryError here, not mid-day
            self.candidate, self.fraction = candidate, fraction
            self.canary_primary = self._primary(self.production, candidate)
            since = {a: _time(h["time"]) if (h := _last_move(history, a)) else _time("")
                     for a in ("production", "candidate")}
            # production's side: its last `window` tasks since it became production (the same release, so the
            # days before the canary count too); the candidate's: every task since it became candidate
            self.canary_base = [o for o in prior if o.release == self.production
                                and _time(o.time) >= since["production"]][-self.rule.window:]
            self.canary_new = [o for o in prior if o.release == candidate
                               and _time(o.time) >= max(since.values())]
        self.watching: str | None = None  # the release production left, when a promotion is being watched
        self.monitor_base: list[Outcome] = []
        self.monitor_new: list[Outcome] = []
        self.monitor_primary: list[str] = []
        move = _promotion(history, self.production)
        if move:
            moved = _time(move["time"])
            after = [o for o in prior if o.release == self.production and _time(o.time) >= moved]
            if len(after) - unseen < self.rule.watch:
                # before: the previous production's last tasks; it ran none since (it is not production now and a
                # rollback to it ends the watch), so no time filter, which history's whole seconds would blur
                self._watch(move["from"], [o for o in prior if o.release == move["from"]], after,
                            tested=(move.get("metrics") or {}).get("stage") == CANARY)

    def _watch(self, previous: str, before: list[Outcome], after: list[Outcome], tested: bool = False) -> None:
        """Watch production against ``previous``; ``tested``: the canary promoted it, so its primary test was
        already run (once per release: a second one on the same signatures would spend its error again)."""
        self.watching, self.monitor_base, self.monitor_new = previous, before[-self.rule.window:], after
        self.monitor_primary = [] if tested else self._primary(previous, self.production)

    def _primary(self, baseline: str, release: str) -> list[str]:
        """The release's primary signatures against the baseline; none (the guard alone) when a manifest
        cannot be read: the registry's own checks report that damage, the rollout must not stop a day on it."""
        try:
            return primary_signatures(self.registry, baseline, release)
        except (RegistryError, OSError, ValueError):
            return []

    # ------------------------------------------------------------------ routing
    def release_for(self, task_id: str, signature: str | None = None) -> str:
        """The release a task runs on now; ``signature``: its key (:func:`signature_key`), which sends a task
        of a primary signature to the candidate at ``primary_share`` (module docstring)."""
        if self.candidate is None:
            return self.production
        fraction = self.fraction
        if signature is not None and signature in self.canary_primary:
            fraction = max(fraction, self.rule.primary_share)
        return self.candidate if on_candidate(task_id, self.candidate, fraction) else self.production

    @property
    def canary_active(self) -> bool:
        return self.candidate is not None

    # ------------------------------------------------------------------ looking
    def observe(self, outcomes: Iterable[Outcome]) -> list[Decision]:
        """Count finished tasks, look once at each live stage, act on what the rule decides."""
        for o in outcomes:
            if self.candidate is not None and o.release == self.candidate:
                self.canary_new.append(o)
            elif o.release == self.production:
                if self.candidate is not None:
                    self.canary_base.append(o)
                if self.watching is not None:
                    self.monitor_new.append(o)
        return self.look()

    def look(self) -> list[Decision]:
        """Look once at each live stage on the evidence as it is, and act on what the rule decides (a queued
        worker's look: its rollout was just rebuilt from the store, which holds every worker's outcomes)."""
        made: list[Decision] = []
        if self.candidate is not None:
            made.append(self._canary())
        if self.watching is not None:
            made.append(self._monitor())
        return made

    def _canary(self) -> Decision:
        assert self.candidate is not None
        d = judge(CANARY, self.production, self.candidate, self.canary_base, self.canary_new, self.rule,
                  self.canary_primary)
        if d.action == PROMOTE:
            previous = self.production
            self.registry.move("production", self.candidate, d.reason, d.evidence())
            d.moved = True
            self.production, self.candidate = self.candidate, None
            # the promotion is watched from now on against what the old production did before it
            self._watch(previous, [o for o in self.canary_base if o.release == previous], [], tested=True)
        elif d.action == ROLLBACK:
            self.registry.move("candidate", self.production, d.reason, d.evidence())
            d.moved, self.candidate = True, None
        return self._record(d)

    def _monitor(self) -> Decision:
        assert self.watching is not None
        d = judge(MONITOR, self.watching, self.production, self.monitor_base, self.monitor_new, self.rule,
                  self.monitor_primary)
        if d.action == ROLLBACK and self.auto_rollback:
            bad, self.production = self.production, self.watching
            self.registry.move("production", self.production, d.reason, d.evidence())
            d.moved = True
            if self.registry.aliases().get("candidate") == bad:  # a later canary must not bring it back
                self.registry.move("candidate", self.production, f"{MONITOR}: candidate {bad} dropped with the "
                                   "rollback of production", d.evidence())
            if self.candidate == bad:
                self.candidate = None
            self.watching = None
        elif d.action == ROLLBACK:
            d.reason += " (auto_rollback is off: production stays; `sleepy rollback` moves it by hand)"
            self.watching = None
        elif d.action == HOLD:
            self.watching = None
        return self._record(d)

    def _record(self, d: Decision) -> Decision:
        self.decisions.append(d)
        if self.events is not None:
            self.events.append({"time": _now(), "sleepy.run.id": self.run_id, "sleepy.run.kind": "day",
                                "sleepy.rollout.stage": d.stage, "sleepy.rollout.decision": d.action,
                                "sleepy.rollout.moved": d.moved, "sleepy.release": d.release,
                                "sleepy.release.baseline": d.baseline, "sleepy.rollout.tasks": d.tasks,
                                "sleepy.rollout.reason": d.reason, "sleepy.rollout.evidence": d.evidence()})
        return d

    def finish(self) -> Decision | None:
        """End of a day: a canary still undecided records its last look (a keep) in the history."""
        last = next((d for d in reversed(self.decisions) if d.stage == CANARY), None)
        if self.candidate is None or last is None or last.action != KEEP:
            return None
        history = self.registry.history()
        if history and _same_keep(history[-1], self.candidate, last):
            return None  # already recorded (another worker of the queue): no new outcome since
        self.registry.move("candidate", self.candidate, last.reason, last.evidence())
        return last

    def summary(self) -> list[dict]:
        """The decisions that moved an alias, and the last look of each stage: what a day reports."""
        return summarize(self.decisions)


def summarize(decisions: list[Decision]) -> list[dict]:
    """The decisions that moved an alias, and the last look of each stage (:meth:`Rollout.summary`)."""
    out = [d for d in decisions if d.moved]
    for stage in (CANARY, MONITOR):
        last = next((d for d in reversed(decisions) if d.stage == stage), None)
        if last is not None and last not in out:
            out.append(last)
    return [{"stage": d.stage, "decision": d.action, "moved": d.moved, "reason": d.reason} for d in out]


def _same_keep(entry: dict, candidate: str, keep: Decision) -> bool:
    """Whether a history line already records this keep: the candidate moved onto itself with the same
    evidence (as history.jsonl holds it, JSON)."""
    return (entry.get("alias") == "candidate" and entry.get("from") == entry.get("to") == candidate
            and entry.get("metrics") == json.loads(json.dumps(keep.evidence())))


class SharedRollout:
    """The rollout of a queued day (``sleepy day --queue NAME --canary F``): many workers, one decision at a time.

    Every worker routes each claimed task with :meth:`Rollout.release_for` on the aliases as they are when it
    claims the batch (:meth:`routing`), so all workers agree which release runs which task, and a move one of
    them made applies to every worker's next batch. After each batch (its episodes committed), :meth:`look`
    takes the registry's ``rollout`` lock (:meth:`Registry.lock`), rebuilds the :class:`Rollout` from the store
    (every worker's outcomes) and the registry's history, and looks once: the decision sees all the evidence,
    and the lock lets exactly one worker move an alias (the next one to look rebuilds from the moved aliases).
    Once the canary decided, ``candidate`` is production and every task runs there; a promotion is then
    watched by the monitor the same way. :meth:`finish`, when the queue is drained, records an undecided
    canary's keep once, however many workers finish.

    The price: each look reads the store's newest :data:`STORE_LIMIT` episodes (one query, plus the tasks'
    signatures), so every batch of every worker costs one such read under the lock; well under a second for
    days of hundreds or a few thousand tasks, which is what a queue day is. Routing reads only the registry:
    the aliases, and when they moved, the history, the manifests and the candidate's files (hashed, as a day's
    start does). With no candidate waiting and production not promoted (its last move a rollback, or none), a
    look reads neither the store nor a release."""

    def __init__(self, registry: Registry, store, fraction: float | None = None, rule: RolloutRule | None = None,
                 auto_rollback: bool = True, events: EventLog | None = None, run_id: int | None = None) -> None:
        if fraction is not None:
            check_fraction(fraction)
        self.registry, self.store, self.fraction, self.rule = registry, store, fraction, rule or RolloutRule()
        self.auto_rollback, self.events, self.run_id = auto_rollback, events, run_id
        self.decisions: list[Decision] = []  # this worker's looks
        self._routing: tuple[dict[str, str], Rollout] | None = None  # the aliases it was built on, the routing

    def _rollout(self, prior: list[Outcome], unseen: int = 0) -> Rollout:
        """The rollout as the registry stands (call under the lock): a canary while a candidate waits for one."""
        fraction = self.fraction if self.fraction is not None and candidate_waiting(self.registry) else None
        return Rollout(self.registry, prior, fraction, self.rule, self.auto_rollback, self.events, self.run_id,
                       unseen)

    def routing(self) -> Rollout:
        """The routing of the next batch: the aliases as they are now (no evidence: it decides nothing)."""
        with self.registry.lock("rollout"):
            aliases = self.registry.aliases()
            if self._routing is None or self._routing[0] != aliases:
                self._routing = aliases, self._rollout([])
            return self._routing[1]

    def look(self, batch: int = 0) -> list[Decision]:
        """After a batch of ``batch`` tasks is committed: under the lock, rebuild from the store and look once."""
        with self.registry.lock("rollout"):
            if not self._live():
                return []
            made = self._rollout(outcomes_from_store(self.store), batch).look()
        self.decisions += made
        return made

    def finish(self) -> Decision | None:
        """The end of the day (the queue drained): under the lock, a canary still undecided records its keep
        (:meth:`Rollout.finish`); the second worker to get here finds the same keep last in the history and
        adds nothing. Looks once more first: the last worker's batch may not have been looked at yet."""
        with self.registry.lock("rollout"):
            if not self._live():
                return None
            rollout = self._rollout(outcomes_from_store(self.store))
            self.decisions += rollout.look()
            return rollout.finish()

    def _live(self) -> bool:
        """Whether a look has anything to judge: a canary waiting, or a promotion that may still be watched."""
        if self.fraction is not None and candidate_waiting(self.registry):
            return True
        return _promotion(self.registry.history(), self.registry.resolve("production")) is not None

    def summary(self) -> list[dict]:
        """This worker's decisions that moved an alias, and its last look of each stage."""
        return summarize(self.decisions)


def candidate_waiting(registry: Registry) -> bool:
    """Whether a candidate other than production waits for a canary. A canary set in the workspace's config
    runs only then: a fresh registry, or one whose last canary already decided, has nothing to try."""
    aliases = registry.aliases()
    return "candidate" in aliases and aliases["candidate"] != registry.resolve("production")


def events_path(workspace: Path) -> Path:
    """Where the day's rollout decisions are logged as wide events."""
    return workspace / "rollout" / "events.jsonl"


def check_fraction(fraction: float) -> None:
    """One-line RolloutError unless 0 < fraction < 1 (0 and 1 are no canary and no production)."""
    if not (isinstance(fraction, int | float) and math.isfinite(fraction) and 0 < fraction < 1):
        raise RolloutError(f"canary fraction must be between 0 and 1 (exclusive), got {fraction}")
