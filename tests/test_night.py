"""The night on a real micro model: mining thresholds, verified data, leakage abort, routing, crash safety."""

import json

import pytest
from conftest import needs_rustc

from sleepy.adapters.lora import LoraParams, RoutedModel, load_release_model
from sleepy.adapters.registry import BASE, Registry, RegistryError
from sleepy.loop.agent import Work, attempt, diagnose
from sleepy.loop.day import day_tasks, run_day
from sleepy.loop.episodes import EpisodeConfig
from sleepy.loop.night import NightConfig, run_night
from sleepy.memory.recall import ExperienceMemory
from sleepy.memory.sqlite import SQLiteStore
from sleepy.model.generation import GenerationConfig
from sleepy.model.loader import load_model
from sleepy.tasks.leakage import LeakageError
from sleepy.tasks.packs import get_pack

QUICK = NightConfig(min_failures=1, max_skills=2, teacher_budget=6, gate_seeds=1, holdout_per_family=1,
                    max_new_tokens=12, skills="lora",
                    lora=LoraParams(steps=2, rank=4, alpha=8))


@pytest.fixture(scope="module")
def day_db(micro, tmp_path_factory):
    """One day of (failed) micro-model episodes, recorded once."""
    root, _ = micro
    ws = tmp_path_factory.mktemp("night")
    store = SQLiteStore(ws / "s.db")
    lm = load_model(str(root / "model"))
    run_day(RoutedModel(lm, None), store, ExperienceMemory(store), day_tasks("rust", 6, seed=9),
            EpisodeConfig(attempts=1, max_new_tokens=8, sources=("model",)), {"t": "night"})  # failures to mine
    store.close()
    return root, ws / "s.db"


@pytest.fixture
def failed_day(day_db, tmp_path):
    """A fresh copy of that day's store for each test (a night consumes the failures it mines)."""
    import shutil

    root, db = day_db
    shutil.copy(db, tmp_path / "s.db")
    return root, tmp_path, SQLiteStore(tmp_path / "s.db")


@pytest.fixture(scope="module")
def evals(tmp_path_factory):
    """The gate's saved results, shared by this module's nights: each night whose production is the base model
    evaluates it once, then reuses that result as a night does (releases are immutable; decoding is in the key)."""
    return tmp_path_factory.mktemp("evals")


@pytest.fixture(scope="module")
def quick_night(day_db, evals, tmp_path_factory):
    """One QUICK night on its own copy of the day, for the tests that only read what it made: (model folder,
    store, registry, report, what the same night raised when tried first while another night held the lock)."""
    import shutil

    root, db = day_db
    folder = tmp_path_factory.mktemp("quick-night")
    shutil.copy(db, folder / "s.db")
    store = SQLiteStore(folder / "s.db")
    reg = Registry(folder / "reg")
    refused = None
    with reg.night_lock():
        try:
            run_night(store, ExperienceMemory(store), reg, "rust", QUICK, str(root / "model"))
        except RegistryError as err:
            refused = err
    report = run_night(store, ExperienceMemory(store), reg, "rust", QUICK, str(root / "model"), evals)
    return root, store, reg, report, refused


@needs_rustc
def test_mining_threshold(failed_day, tmp_path):
    root, _, store = failed_day
    high = run_night(store, ExperienceMemory(store), Registry(tmp_path / "r1"), "rust",
                     NightConfig(min_failures=99), str(root / "model"))
    assert high.clusters == [] and "no signature failed 99+" in high.note
    assert Registry(tmp_path / "r1").resolve("production") == BASE


@needs_rustc
def test_night_trains_verified_skills_and_gates(quick_night):
    _, store, reg, rep, _ = quick_night
    assert rep.candidate and rep.decision is not None and len(rep.clusters) == 2
    release = reg.get(rep.candidate)
    assert set(release.router) == {c.signature for c in rep.clusters if c.skill}
    for skill in release.skills:
        data = [json.loads(line) for line in (release.folder / skill.path / "data.jsonl").open()]
        assert data and all(d["source"] == "reference" for d in data)
        for d in data:  # every teacher fix used was verified and remembered first
            fixes = [f for f in store.fixes_for(d["signature"]) if f.task_id == d["task_id"]]
            assert fixes and fixes[0].provenance == "reference"
        assert (release.folder / skill.path / "adapter_model.safetensors").is_file()
    assert reg.resolve("production") == (rep.candidate if rep.decision["promote"] else BASE)


@needs_rustc
def test_a_frozen_koan_in_training_data_aborts_the_night(failed_day, tmp_path, monkeypatch):
    root, _, store = failed_day
    koan = get_pack("rust").frozen()[0]
    import sleepy.loop.night as night_module
    monkeypatch.setattr(night_module, "reference", lambda _task: koan)
    reg = Registry(tmp_path / "reg")
    with pytest.raises(LeakageError, match=koan.id):
        run_night(store, ExperienceMemory(store), reg, "rust", QUICK, str(root / "model"))
    assert reg.resolve("production") == BASE and reg.list() == []


@needs_rustc
def test_router_sends_unrouted_tasks_to_the_base_weights(quick_night):
    root, _, reg, rep, _ = quick_night
    routed = load_release_model(reg.get(rep.candidate), str(root / "model"))
    base = RoutedModel(load_model(str(root / "model"), fresh=True), None)
    tasks = get_pack("rust").stream(12, seed=77)
    verdicts = diagnose(tasks)
    unrouted = [Work(t, t.source, v.primary) for t, v in zip(tasks, verdicts, strict=True)
                if routed.skill_for(v.signature) is None][:3]
    assert unrouted and routed.skill_for("rust:E9999:never-seen") is None
    greedy = GenerationConfig(max_new_tokens=12)
    a = [s.samples[0].completion.token_ids for s in attempt(routed, unrouted, greedy)]
    b = [s.samples[0].completion.token_ids for s in attempt(base, unrouted, greedy)]
    assert a == b and all(s.skill is None for s in attempt(routed, unrouted, greedy))


def test_saved_gate_results_are_kept_apart_by_how_edits_were_decoded(tmp_path):
    from dataclasses import replace

    from sleepy.loop.night import eval_path

    paths = {eval_path(tmp_path, "rust", "r1", replace(QUICK, copy_anchors=a, copy_names=n), 0)
             for a in (True, False) for n in (True, False)}
    assert len(paths) == 4


@needs_rustc
def test_one_night_at_a_time(quick_night):
    """The quick night was first tried while another held the lock: refused; once the lock was free it ran."""
    import re

    _, _, _, rep, refused = quick_night
    assert isinstance(refused, RegistryError) and re.search("another night is running .*pid", str(refused))
    assert rep.candidate


@needs_rustc
def test_share_nights_bootstrap_a_basis_then_train_coefficients_only(failed_day, evals, tmp_path):
    """auto: the first night trains LoRA and folds it into a basis; the next trains coefficients on it."""
    import shutil
    from dataclasses import replace

    from sleepy.adapters.share import ShareConfig, basis_dir

    root, ws, store = failed_day
    shutil.copy(ws / "s.db", tmp_path / "second.db")
    reg = Registry(tmp_path / "reg")
    cfg = replace(QUICK, skills="auto", share=ShareConfig(k=4, steps=2))
    first = run_night(store, ExperienceMemory(store), reg, "rust", cfg, str(root / "model"), evals)
    boot = reg.get(first.candidate)
    assert basis_dir(boot.folder).is_dir() and boot.skills and {s.kind for s in boot.skills} == {"share"}
    assert boot.notes["skills"] == "lora+bootstrap" and "merge" in boot.notes
    for s in boot.skills:
        assert not (boot.folder / s.path / "adapter_model.safetensors").exists()
    reg.promote(boot.id, "test: production with a basis")
    second_store = SQLiteStore(tmp_path / "second.db")
    second = run_night(second_store, ExperienceMemory(second_store), reg, "rust", cfg, str(root / "model"), evals)
    release = reg.get(second.candidate)
    assert release.notes["skills"] == "share" and "merge" not in release.notes  # nothing new outside the basis
    stored = {s.name: s.trainable_parameters for s in boot.skills}  # one count per skill: what the release holds
    assert all(c.trainable_parameters == stored[c.skill] for c in first.clusters if c.skill)
    lora_params = next(s.manifest["trainable_parameters"] for s in boot.skills)  # the bootstrap LoRA it came from
    share_params = [c.trainable_parameters for c in second.clusters if c.skill]
    assert share_params and all(0 < p < lora_params / 10 for p in share_params)
    routed = load_release_model(release, str(root / "model"))
    signature = next(iter(release.router))
    assert routed.skill_for(signature) == release.router[signature]


@needs_rustc
def test_averaged_strategy_applies_the_mean_delta_to_every_task(failed_day, evals, tmp_path):
    from dataclasses import replace

    from sleepy.adapters.share import ShareConfig, load_lora_factors, read_skills, reconstruct

    root, _, store = failed_day
    reg = Registry(tmp_path / "reg")
    cfg = replace(QUICK, strategy="averaged", skills="auto", share=ShareConfig(k=4, steps=2))
    rep = run_night(store, ExperienceMemory(store), reg, "rust", cfg, str(root / "model"), evals)
    release = reg.get(rep.candidate)
    assert release.router == {"*": "average"}
    members = [s for s in release.skills if s.name != "average"]
    basis, share, raw = read_skills(release.folder, members)
    deltas = [reconstruct(basis, sk) for sk in share.values()] + list(raw.values())
    mean = load_lora_factors(release.folder / "skills" / "average")
    module = next(iter(mean.factors))
    expected = sum(f.delta(module) for f in deltas) / len(deltas)
    assert len(deltas) == len(rep.clusters) and (mean.delta(module) - expected).abs().max() < 1e-5
    routed = load_release_model(release, str(root / "model"))
    assert routed.skill_for("rust:E9999:never-seen") == "average"


@needs_rustc
def test_self_replay_pool_holds_the_agents_own_fixes_of_other_signatures(failed_day):
    """Replay before any promotion: the model's own verified fixes, never of the signatures being trained."""
    from sleepy.context.prompt import ContextBuilder
    from sleepy.loop.night import self_replay_pool
    from sleepy.tasks.verify import verify

    _, _, store = failed_day
    memory = ExperienceMemory(store)
    for t in day_tasks("rust", 10, seed=31):
        before, proof = verify(t), verify(t, t.fix)
        assert not before.passed and proof.passed
        store.upsert_task(t.id, t.pack, t.family, t.origin, before.primary.key, t.source)
        memory.remember(t, t.source, t.fix, before.primary, "agent", proof)
    signatures = store.fix_signatures("agent")
    assert len(signatures) >= 2
    pool = self_replay_pool(store, "rust", {signatures[0]}, ContextBuilder(), 1)
    assert sorted({e.signature for e in pool}) == signatures[1:]
    assert len(pool) == len(signatures) - 1 and all(e.source == "agent" for e in pool)
    assert all(e.prompt.startswith("### task rust") and "### edit" in e.prompt for e in pool)
    assert self_replay_pool(store, "python", set(), ContextBuilder(), 1) == []


def production_fails_everything(evals, cfg: NightConfig, model_path: str, passed: bool = False) -> None:
    """Saved gate results of the base model on every gate task, each ``passed``: the night reuses a release's
    saved results as it always does, so with False the gate passes any candidate that solves one task (the
    rustc tools alone do), and with True it refuses one that fails any."""
    from sleepy.loop.evaluate import EvalReport, EvalRow
    from sleepy.loop.night import eval_path
    from sleepy.model.loader import model_hash

    pack = get_pack("rust")
    tasks = pack.frozen() + pack.holdout(cfg.holdout_per_family)
    rows = [EvalRow(t.id, "frozen" if t.origin == "frozen" else "holdout", t.family, None, t.signature, passed,
                    None, "") for t in tasks]
    key = f"base-{model_hash(model_path)}"
    for seed in range(cfg.gate_seeds):
        path = eval_path(evals, "rust", key, cfg, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        EvalReport(key, "rust", model_path, seed, 1, 0.0, rows).save(path)


@needs_rustc
def test_with_a_canary_the_night_hands_a_passing_candidate_over_and_production_stays(failed_day, tmp_path):
    """canary > 0: the gate's pass makes the release `candidate` only; the cycle's matrix and verdict say that
    production did not change; the next day's rollout runs the canary on it; a refused candidate never
    becomes the one the canary tries."""
    import shutil
    from dataclasses import replace

    from sleepy.loop.cycle import _staged, run_cycle
    from sleepy.report.verdict import cycle_verdict, night_verdict

    root, ws, store = failed_day
    shutil.copy(ws / "s.db", tmp_path / "second.db")  # failures for a second night to mine
    model = str(root / "model")
    cfg = replace(QUICK, canary=0.3, sources=("tool",))  # the gate measures the tools: quick and deterministic
    reg = Registry(tmp_path / "reg")
    production_fails_everything(tmp_path / "cycle" / "evals", cfg, model)
    result = run_cycle(store, ExperienceMemory(store), reg, "rust", 1, 3, EpisodeConfig(
        attempts=1, max_new_tokens=8, sources=("model",)), cfg, model, tmp_path / "cycle")
    night = result.nights[1]
    candidate = reg.resolve("candidate")
    assert candidate != BASE and reg.resolve("production") == BASE  # gated, handed over, not promoted
    assert night.handed_to_canary and night.promoted is False and night.production == BASE
    assert night.reason.endswith("task(s) improved; handed to the canary")
    assert night.results == result.nights[0].results and not any(night.results.values())  # production's results
    moves = reg.history()
    assert [(m["alias"], m["to"]) for m in moves] == [("candidate", candidate)]
    assert "handed to the canary (30% of day tasks), production stays base" in moves[0]["why"]
    assert moves[0]["metrics"]["canary"] == 0.3 and moves[0]["metrics"]["improvements"] > 0
    sentence = cycle_verdict(result).sentences[1]
    assert ("The gate passed 1 candidate and refused 0. 1 went to the canary instead of production: it promoted 0 "
            "and dropped 0; 1 still waits for it.") in sentence, sentence
    rollout = _staged(reg, store, cfg)  # the next day of the cycle: a canary on the candidate
    assert rollout is not None and rollout.candidate == candidate and rollout.production == BASE
    assert _staged(reg, store, replace(cfg, canary=0.0)) is None

    # a second night whose candidate the gate refuses (production's saved results pass everything)
    production_fails_everything(tmp_path / "cycle" / "evals", cfg, model, passed=True)
    second = SQLiteStore(tmp_path / "second.db")
    rep = run_night(second, ExperienceMemory(second), reg, "rust", cfg, model, tmp_path / "cycle" / "evals")
    assert rep.decision is not None and not rep.decision["promote"] and not rep.handed_to_canary
    assert rep.candidate != candidate and reg.resolve("candidate") == candidate  # the waiting one keeps waiting
    last = reg.history()[-1]
    assert last["alias"] == "candidate" and last["from"] == last["to"] == candidate
    assert last["why"].endswith(f"refused, so not handed to the canary: candidate stays {candidate}")
    assert night_verdict(rep).sentences[0].startswith("Kept production: ")
    assert reg.check() == []
