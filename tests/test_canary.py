"""Canary and monitoring (sleepy.loop.rollout): the hash assignment, the sequential rule, real registry moves
with their evidence, bad input on the command line, and a real day with a canary on the micro model."""

import json
import random
import shutil
import sqlite3
import subprocess
import sys

from typer.testing import CliRunner

from sleepy.adapters.lora import RoutedModel, load_release_model
from sleepy.adapters.registry import BASE, Registry, SkillInfo
from sleepy.cli import app
from sleepy.loop.rollout import (
    CANARY,
    KEEP,
    MONITOR,
    PROMOTE,
    ROLLBACK,
    Outcome,
    Rollout,
    RolloutRule,
    events_path,
    judge,
    on_candidate,
    outcomes_from_store,
    primary_signatures,
)
from sleepy.memory.sqlite import SQLiteStore
from sleepy.telemetry.events import EventLog

SIGS = ["py:NameError:a", "py:TypeError:b", "py:IndexError:c", "py:KeyError:d"]


def release(reg: Registry, tmp_path, name: str, base_model: str = "/models/base") -> str:
    """A sealed release with no skills (the base model alone under its own id): cheap, and loads for real."""
    staging = tmp_path / f"staging-{name}"
    staging.mkdir()
    (staging / "note.txt").write_text(name)
    return reg.create(staging, base_model, "hash", {}, [], None, {"name": name}).id


def outcomes(release_id: str, rates: dict[str, float], n: int, seed: int, prefix: str = "t") -> list[Outcome]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        sig = SIGS[i % len(SIGS)]
        out.append(Outcome(f"{prefix}{seed}-{i}", sig, release_id, rng.random() < rates[sig]))
    return out


def even(p: float) -> dict[str, float]:
    return dict.fromkeys(SIGS, p)


def test_assignment_is_stable_and_near_the_fraction():
    ids = [f"gen-rs-borrow-{i}" for i in range(5000)]
    first = [on_candidate(t, "cand1", 0.2) for t in ids]
    assert first == [on_candidate(t, "cand1", 0.2) for t in ids]  # a rerun agrees task by task
    assert abs(sum(first) / len(ids) - 0.2) < 0.02
    other = [on_candidate(t, "cand2", 0.2) for t in ids]  # a new candidate gets its own slice
    assert abs(sum(other) / len(ids) - 0.2) < 0.02 and other != first
    assert sum(on_candidate(t, "cand1", 0.5) for t in ids) / len(ids) > 0.45
    # a bigger fraction only adds tasks: those on the candidate at 0.2 stay there at 0.5
    assert all(on_candidate(t, "cand1", 0.5) for t, f in zip(ids, first, strict=True) if f)


def test_rule_promotes_a_clearly_better_candidate():
    rule = RolloutRule()
    d = judge(CANARY, "prod", "cand", outcomes("prod", even(0.5), 160, 1), outcomes("cand", even(0.9), 40, 2), rule)
    assert d.action == PROMOTE, d.reason
    assert d.non_inferior >= rule.promote_belief and d.tasks == 40
    assert {s.signature for s in d.signatures} == set(SIGS)


def test_rule_rolls_back_a_clearly_worse_one_and_names_the_signature():
    worse = even(0.9) | {"py:TypeError:b": 0.0}
    d = judge(CANARY, "prod", "cand", outcomes("prod", even(0.9), 160, 1), outcomes("cand", worse, 40, 2),
              RolloutRule())
    assert d.action == ROLLBACK and "py:TypeError:b" in d.reason and "0% (0/10)" in d.reason
    assert d.evidence()["signatures"]["py:TypeError:b"]["release"] == [0, 10]
    # the same outcomes after a promotion: the monitor rolls back too
    m = judge(MONITOR, "prev", "prod", outcomes("prev", even(0.9), 160, 1), outcomes("prod", worse, 40, 2),
              RolloutRule())
    assert m.action == ROLLBACK


def test_rule_decides_nothing_below_the_minimum_then_decides():
    rule = RolloutRule(min_tasks=20)
    base = outcomes("prod", even(1.0), 200, 1)
    hopeless = outcomes("cand", even(0.0), 19, 2)
    d = judge(CANARY, "prod", "cand", base, hopeless, rule)
    assert d.action == KEEP and "19 of 20 tasks" in d.reason
    assert judge(CANARY, "prod", "cand", base, outcomes("cand", even(0.0), 20, 2), rule).action == ROLLBACK
    # an equal candidate with few tasks per signature is neither promoted nor rolled back
    same = judge(CANARY, "prod", "cand", outcomes("prod", even(0.7), 160, 1), outcomes("cand", even(0.7), 20, 3),
                 rule)
    assert same.action == KEEP


def test_promotion_waits_for_every_common_signature():
    """Better overall, but one common signature barely tried: no promotion until it has been."""
    base = outcomes("prod", even(0.5), 160, 1)
    new = [o for o in outcomes("cand", even(0.95), 60, 2) if o.signature != "py:KeyError:d"]
    d = judge(CANARY, "prod", "cand", base, new, RolloutRule())
    assert d.action == KEEP and "1 common signature(s) not yet shown not worse" in d.reason


def test_canary_in_a_real_registry_promotes_drops_and_records(tmp_path):
    reg = Registry(tmp_path / "reg")
    a, b, c = (release(reg, tmp_path, n) for n in "abc")
    reg.promote(a, "night 1")
    reg.move("candidate", b, "night 2")
    log = EventLog(tmp_path / "events.jsonl")
    rollout = Rollout(reg, [], 0.3, events=log)
    draw = random.Random(5)
    for i in range(0, 2000, 8):
        batch = [Outcome(f"p{j}", SIGS[j % 4], r := rollout.release_for(f"p{j}"),
                         draw.random() < (0.95 if r == b else 0.5)) for j in range(i, i + 8)]
        rollout.observe(batch)
        if not rollout.canary_active:
            break
    assert reg.resolve("production") == b  # promoted
    promotion = [h for h in reg.history() if h["alias"] == "production"][-1]
    assert promotion["why"].startswith("canary: promote") and promotion["metrics"]["decision"] == PROMOTE
    assert promotion["metrics"]["signatures"] and promotion["metrics"]["tasks"] >= 20
    events = log.read()
    assert [e["sleepy.rollout.decision"] for e in events if e["sleepy.rollout.moved"]] == [PROMOTE]
    looks = [e["sleepy.rollout.decision"] for e in events if e["sleepy.rollout.stage"] == CANARY]
    assert looks[-1] == PROMOTE and set(looks[:-1]) == {KEEP} and len(looks) >= 3
    assert rollout.watching == a  # the promotion is now watched against what a did

    # a worse candidate is dropped: the candidate alias moves to production, production stays
    reg.move("candidate", c, "night 3")
    rollout = Rollout(reg, [], 0.5, events=log)
    for i in range(0, 400, 8):
        batch = [Outcome(f"c{j}", SIGS[j % 4], r := rollout.release_for(f"c{j}"),
                         r != c or SIGS[j % 4] != "py:TypeError:b") for j in range(i, i + 8)]
        rollout.observe(batch)
        if not rollout.canary_active:
            break
    last = reg.history()[-1]
    assert reg.resolve("candidate") == b == reg.resolve("production")
    assert last["alias"] == "candidate" and last["from"] == c and last["why"].startswith("canary: rollback")
    assert "py:TypeError:b" in last["why"] and last["metrics"]["signatures"]["py:TypeError:b"]["harm"] >= 0.99
    assert reg.check() == []


def write_episodes(store: SQLiteStore, items: list[Outcome]) -> None:
    run = store.start_run("day", {"items": items[0].task_id if items else ""})
    for o in items:
        store.upsert_task(o.task_id, "python", "fam", "generated", o.signature, "x = 1\n")
        store.finish_episode(store.start_episode(run.id, o.task_id, o.release), o.passed, 1, None)
    store.finish_run(run.id, {})


def test_auto_rollback_moves_production_back_in_a_real_registry(tmp_path):
    reg = Registry(tmp_path / "reg")
    a, b = release(reg, tmp_path, "a"), release(reg, tmp_path, "b")
    reg.promote(a, "night 1")
    store = SQLiteStore(tmp_path / "sleepy.db")
    write_episodes(store, outcomes(a, even(0.9), 120, 1, "before"))  # a day on a, in the real store
    reg.promote(b, "night 2: gate passed")
    reg.move("candidate", b, "night 2")
    prior = outcomes_from_store(store)
    assert {o.release for o in prior} == {a} and len(prior) == 120 and prior[0].signature in SIGS

    kept = Rollout(reg, prior, None, auto_rollback=False)  # off: reported, never moved
    assert kept.watching == a and len(kept.monitor_base) == 120
    bad = even(0.9) | {"py:IndexError:c": 0.0}
    for i in range(0, 200, 8):
        decided = [d for d in kept.observe(outcomes(b, bad, 8, 100 + i, "off")) if d.action != KEEP]
        if decided:
            break
    assert decided[0].action == ROLLBACK and "auto_rollback is off" in decided[0].reason
    assert reg.resolve("production") == b

    log = EventLog(events_path(tmp_path / "ws"))
    rollout = Rollout(reg, outcomes_from_store(store), None, events=log)
    seen = 0
    while rollout.watching is not None and seen < 200:
        rollout.observe(outcomes(b, bad, 8, seen, "after"))
        seen += 8
    assert reg.resolve("production") == a and reg.resolve("candidate") == a  # the bad release left both aliases
    moves = reg.history()[-2:]
    assert [(m["alias"], m["from"], m["to"]) for m in moves] == [("production", b, a), ("candidate", b, a)]
    assert moves[0]["why"].startswith("monitor: rollback") and "py:IndexError:c" in moves[0]["why"]
    evidence = moves[0]["metrics"]
    assert evidence["stage"] == MONITOR and evidence["release"] == b and evidence["baseline"] == a
    assert evidence["signatures"]["py:IndexError:c"]["baseline"][1] == 30
    (event,) = [e for e in log.read() if e["sleepy.rollout.moved"]]
    assert event["sleepy.rollout.decision"] == ROLLBACK and event["sleepy.release"] == b
    assert seen <= 50 and reg.check() == []
    # a rollback is not a promotion: a later day watches nothing
    assert Rollout(reg, outcomes_from_store(store), None).watching is None


runner = CliRunner()


def test_bad_canary_input_is_one_line_and_exit_2(tmp_path):
    ws = tmp_path / "ws"
    for args, expected in ((["--canary", "1.5"], "--canary: canary fraction must be between 0 and 1"),
                           (["--canary", "0"], "got 0.0"),
                           (["--canary", "0.2"], "no candidate to canary")):
        result = runner.invoke(app, ["day", "--pack", "python", "-n", "2", "--no-memory", "-w", str(ws), *args])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], result.output
    reg = Registry(ws / "registry")
    a = release(reg, tmp_path, "a")
    reg.promote(a, "night 1")
    reg.move("candidate", a, "night 1")
    result = runner.invoke(app, ["day", "--pack", "python", "-n", "2", "--no-memory", "-w", str(ws),
                                 "--canary", "0.2"])
    assert result.exit_code == 2 and f"candidate is production ({a})" in result.output
    assert reg.resolve("production") == a and len(reg.history()) == 2  # nothing moved
    (ws / "config.toml").write_text("canary = 1.5\n")
    result = runner.invoke(app, ["day", "--pack", "python", "-n", "2", "--no-memory", "-w", str(ws)])
    assert result.exit_code == 2 and "canary = 1.5" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_real_day_with_a_canary_runs_each_task_on_its_release(micro, tmp_path):
    from sleepy.loop.day import day_tasks, run_day
    from sleepy.loop.episodes import EpisodeConfig
    from sleepy.memory.recall import ExperienceMemory
    from sleepy.model.loader import load_model

    root, _ = micro
    model = str(root / "model")
    reg = Registry(tmp_path / "reg")
    cand = release(reg, tmp_path, "cand", base_model=model)
    reg.move("candidate", cand, "night 1")
    store = SQLiteStore(tmp_path / "day.db")
    tasks = day_tasks("python", 8, seed=3)
    expected = {t.id: cand if on_candidate(t.id, cand, 0.5) else BASE for t in tasks}
    assert set(expected.values()) == {cand, BASE}
    log = EventLog(tmp_path / "rollout.jsonl")
    rollout = Rollout(reg, outcomes_from_store(store), 0.5, events=log)
    loaded: list[str] = []

    def load(rid: str) -> RoutedModel:
        loaded.append(rid)
        return load_release_model(reg.get(rid), model)

    cfg = EpisodeConfig(attempts=1, batch_size=4, max_new_tokens=8, sources=("model",))
    summary = run_day(RoutedModel(load_model(model), None), store, ExperienceMemory(store), tasks, cfg,
                      {"test": "canary"}, rollout=rollout, load=load)
    assert loaded == [cand]  # loaded once, when first needed
    db = sqlite3.connect(tmp_path / "day.db")
    ran = dict(db.execute("SELECT task_id, release FROM episodes"))
    assert ran == expected
    for event in store.events():
        assert event["sleepy.release"] == expected[event["sleepy.task.id"]]
    assert summary.releases == {r: list(expected.values()).count(r) for r in (BASE, cand)}
    looks = log.read()
    assert len(looks) == 2 and all(e["sleepy.rollout.decision"] == KEEP for e in looks)  # 8 tasks: below 20
    last = reg.history()[-1]  # the day's end records the undecided canary's evidence
    assert last["alias"] == "candidate" and last["from"] == last["to"] == cand and last["why"].startswith("canary:")
    assert last["metrics"]["tasks"] == list(expected.values()).count(cand)
    # the next day continues the evidence from the store
    assert len(Rollout(reg, outcomes_from_store(store), 0.5).canary_new) == last["metrics"]["tasks"]


def test_sleepy_day_canary_on_the_command_line(micro, tmp_path):
    root, _ = micro
    ws = tmp_path / "ws"
    reg = Registry(ws / "registry")
    # the wiring, cheaply; a canary in the config waits for a candidate: until a night hands one over, the
    # day runs on production (where --canary, asking for one now, refuses)
    (ws / "config.toml").write_text("max_steps = 1\ntool_candidates = 2\nmax_new_tokens = 8\ncanary = 0.5\n")
    cmd = [sys.executable, "-m", "sleepy.cli", "day", "--pack", "python", "-n", "6", "--seed", "5", "--attempts", "1",
           "--model", str(root / "model"), "--no-memory", "-w", str(ws)]
    waiting = subprocess.run([*cmd[:7], "2", *cmd[8:]], capture_output=True, text=True, timeout=600)
    assert waiting.returncode == 0, waiting.stderr
    assert "canary = 0.5 (config): no candidate waits for a canary; every task runs on production" in waiting.stderr
    assert {r for (r,) in sqlite3.connect(ws / "sleepy.db").execute("SELECT release FROM episodes")} == {BASE}
    cand = release(reg, tmp_path, "cand", base_model=str(root / "model"))
    reg.move("candidate", cand, "night 1")
    done = subprocess.run(cmd + ["--canary", "0.5"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "tasks per release:" in done.stdout and "canary:" in done.stdout
    ran = dict(sqlite3.connect(ws / "sleepy.db").execute("SELECT task_id, release FROM episodes WHERE run_id = "
                                                         "(SELECT max(id) FROM runs)"))
    assert len(ran) == 6 and all(r == (cand if on_candidate(t, cand, 0.5) else BASE) for t, r in ran.items())
    events = [json.loads(x) for x in events_path(ws).read_text().splitlines()]
    assert events and events[-1]["sleepy.rollout.stage"] == CANARY


# ---------------------------------------------------------------------------------------------- the primary test
def skilled(reg: Registry, tmp_path, name: str, trained: dict[str, str], router: dict[str, str] | None = None,
            parent: str | None = None) -> str:
    """A sealed release with one LoRA-like skill per signature, as a night makes it: ``trained`` maps a signature
    to the night whose weights its skill holds (a copied skill keeps its night's bytes, a retrained one not)."""
    staging = tmp_path / f"staging-{name}"
    skills, routes = [], {}
    for sig, night in trained.items():
        skill = sig.replace(":", "_")
        (staging / "skills" / skill).mkdir(parents=True)
        (staging / "skills" / skill / "adapter_model.safetensors").write_bytes(f"{sig} trained by {night}".encode())
        (staging / "skills" / skill / "adapter_config.json").write_text("{}")
        skills.append(SkillInfo(skill, "lora", [sig], f"skills/{skill}"))
        routes[sig] = skill
    return reg.create(staging, "/models/base", "hash", router if router is not None else routes, skills, parent).id


def test_primary_signatures_are_what_the_candidate_changed_in_its_router(tmp_path):
    reg = Registry(tmp_path / "reg")
    night1 = dict.fromkeys(SIGS[:3], "n1")
    a = skilled(reg, tmp_path, "a", night1)
    b = skilled(reg, tmp_path, "b", night1 | {SIGS[1]: "n2"}, parent=a)  # one skill retrained, same name
    c = skilled(reg, tmp_path, "c", night1 | {SIGS[3]: "n3"}, parent=a)  # a new signature routed
    same = skilled(reg, tmp_path, "same", night1 | {SIGS[0]: "n1"}, parent=a)
    assert primary_signatures(reg, a, b) == [SIGS[1]]
    assert primary_signatures(reg, a, c) == [SIGS[3]]
    assert primary_signatures(reg, b, a) == [SIGS[1]]  # a rollback target differs on the same skill
    assert primary_signatures(reg, a, same) == []  # same bytes under the same skill: nothing new
    assert primary_signatures(reg, BASE, a) == sorted(SIGS[:3])  # against the base model every skill is new
    assert primary_signatures(reg, a, BASE) == []
    rerouted = skilled(reg, tmp_path, "r", night1, router={SIGS[0]: SIGS[2].replace(":", "_")} | {
        s: s.replace(":", "_") for s in SIGS[1:3]})
    assert primary_signatures(reg, a, rerouted) == [SIGS[0]]  # routed to another (old) skill
    naive = skilled(reg, tmp_path, "naive", {"*": "n4"})
    assert primary_signatures(reg, a, naive) == []  # the catch-all names no signature: the guard alone


def staged(tmp_path, seed: int) -> tuple[Registry, str, str]:
    """Production a (night 1) and candidate b (night 2 retrained py:TypeError:b's skill) in a real registry."""
    reg = Registry(tmp_path / f"reg-{seed}")
    night1 = dict.fromkeys(SIGS, "n1")
    a = skilled(reg, tmp_path / f"a{seed}", "a", night1)
    b = skilled(reg, tmp_path / f"b{seed}", "b", night1 | {SIGS[1]: "n2"}, parent=a)
    reg.promote(a, "night 1")
    reg.move("candidate", b, "night 2: the gate passed; waits for the canary")
    return reg, a, b


def test_the_canary_sends_more_of_a_primary_signatures_tasks_to_the_candidate(tmp_path):
    """What the release changed on purpose gets primary_share of its tasks on the candidate, the rest the
    fraction; the assignment stays a hash (stable), and a task on the candidate at the fraction stays there."""
    reg, a, b = staged(tmp_path, 0)
    rollout = Rollout(reg, [], 0.2)
    assert rollout.canary_primary == [SIGS[1]]
    ids = [f"t{i}" for i in range(4000)]
    share = {sig: sum(rollout.release_for(t, sig) == b for t in ids) / len(ids) for sig in SIGS}
    assert abs(share[SIGS[1]] - RolloutRule.primary_share) < 0.03, share
    assert all(abs(share[s] - 0.2) < 0.03 for s in SIGS if s != SIGS[1]), share
    assert [rollout.release_for(t, SIGS[1]) for t in ids] == [rollout.release_for(t, SIGS[1]) for t in ids]
    assert all(rollout.release_for(t, SIGS[1]) == b for t in ids if rollout.release_for(t, SIGS[0]) == b)
    assert [rollout.release_for(t) for t in ids] == [rollout.release_for(t, SIGS[0]) for t in ids]
    off = Rollout(reg, [], 0.2, RolloutRule(primary_share=0.0))  # off: every signature at the fraction
    assert [off.release_for(t, SIGS[1]) for t in ids] == [off.release_for(t) for t in ids]


def canary_day(reg: Registry, a: str, b: str, cand_rates: dict[str, float], seed: int,
               rule: RolloutRule | None = None) -> Rollout:
    """A day's tasks cycling the signatures through the canary: production passes 75 % of each, the candidate
    ``cand_rates``; until the canary decides."""
    rollout = Rollout(reg, outcomes(a, even(0.75), 200, seed, "before"), 0.25, rule)
    draw = random.Random(seed)
    for i in range(0, 2000, 8):
        batch = [Outcome(f"d{seed}-{j}", SIGS[j % 4], r := rollout.release_for(f"d{seed}-{j}", SIGS[j % 4]),
                         draw.random() < (cand_rates if r == b else even(0.75))[SIGS[j % 4]])
                 for j in range(i, i + 8)]
        rollout.observe(batch)
        if not rollout.canary_active:
            break
    return rollout


def test_a_bad_release_is_rolled_back_on_its_primary_signature_first(tmp_path):
    """The candidate's retrained skill breaks its own signature: the primary test (its own belief, no wait for
    min_tasks) drops it before the guard alone would, on the same tasks; the evidence names the test."""
    bad = even(0.75) | {SIGS[1]: 0.1}
    for seed in range(3):
        reg, a, b = staged(tmp_path, seed)
        shutil.copytree(reg.root, tmp_path / f"guard-{seed}")  # the same ids: the same tasks on the candidate
        rollout = canary_day(reg, a, b, bad, seed)
        assert rollout.canary_primary == [SIGS[1]]
        (d,) = [d for d in rollout.decisions if d.moved]
        assert d.action == ROLLBACK and d.by == "primary" and SIGS[1] in d.reason, d.reason
        assert "primary signature" in d.reason and d.evidence()["primary"] == [SIGS[1]]
        last = reg.history()[-1]
        assert (last["alias"], last["from"], last["to"]) == ("candidate", b, a)
        assert last["metrics"]["by"] == "primary" and reg.resolve("production") == a
        alone = canary_day(Registry(tmp_path / f"guard-{seed}"), a, b, bad, seed, RolloutRule(primary=False))
        (g,) = [g for g in alone.decisions if g.moved]
        assert g.action == ROLLBACK and g.by == "guard" and d.tasks < g.tasks  # the primary test was earlier
    # the primary test's own threshold, not the guard's: the same tally rolls back only when it is primary
    base = [Outcome(f"b{i}", SIGS[1], "prod", i % 4 != 0) for i in range(40)]  # 75 %
    new = [Outcome(f"n{i}", SIGS[1], "cand", i == 0) for i in range(6)]  # 1/6: P(drop) = 0.970
    as_primary = judge(CANARY, "prod", "cand", base, new, RolloutRule(), [SIGS[1]])
    plain = judge(CANARY, "prod", "cand", base, new, RolloutRule())
    assert as_primary.action == ROLLBACK and as_primary.by == "primary"
    assert 0.95 <= plain.signatures[0].harm < 0.99 and plain.action == KEEP  # 6 tasks: below min_tasks too
    two = judge(CANARY, "prod", "cand", base, new, RolloutRule(), [SIGS[1], SIGS[2]])  # 0.05 split over two
    assert two.action == KEEP  # 0.970 < 1 - 0.05 / 2


def test_a_good_release_is_not_rolled_back_on_its_primary_signature(tmp_path):
    """The candidate's retrained skill does as well as production's on its signature: promoted, never dropped;
    the monitor then watches it with the guard alone (the primary test ran once, in the canary)."""
    for seed in range(3):
        reg, a, b = staged(tmp_path, seed)
        rollout = canary_day(reg, a, b, even(0.75) | {SIGS[1]: 0.85}, seed)
        assert rollout.canary_primary == [SIGS[1]]
        assert [d.action for d in rollout.decisions if d.moved] == [PROMOTE]
        assert all(d.action != ROLLBACK for d in rollout.decisions)
        assert reg.resolve("production") == b and rollout.watching == a and rollout.monitor_primary == []
        # a later day reads the promotion from the history: the canary's, so still no second primary test
        assert Rollout(reg, [], None).monitor_primary == []
    # a release the gate promoted straight away gets the primary test in the monitor instead
    reg2 = Registry(tmp_path / "gate")
    a2 = skilled(reg2, tmp_path / "ga", "a", dict.fromkeys(SIGS, "n1"))
    b2 = skilled(reg2, tmp_path / "gb", "b", dict.fromkeys(SIGS, "n1") | {SIGS[2]: "n2"}, parent=a2)
    reg2.promote(a2, "night 1")
    reg2.promote(b2, "night 2: gate passed")
    watched = Rollout(reg2, outcomes(a2, even(0.75), 200, 1, "before"), None)
    assert watched.watching == a2 and watched.monitor_primary == [SIGS[2]]
