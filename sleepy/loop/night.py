"""``sleepy night``: mine recurring failures, train one skill per cluster, build a candidate, gate it.

1. Mining: signatures with at least ``min_failures`` failed episodes since the last night.
2. Data per cluster, verified before use: the agent's own verified fixes of that signature
   (rejection sampling: only samples the verifier passed ever reach the store), human corrections
   (``sleepy correct``), and a teacher. The built-in teacher is the reference fix (the pack's, for
   generated tasks; the project's own file, for a project's day tasks; never a held-out task's),
   under a per-night budget: a stand-in for a human reviewer; with
   ``teacher_url``, first a stronger model behind an OpenAI-compatible endpoint. Every teacher
   fix is verified, then remembered (so memory gains it too). Replay mixes in earlier skills' data.
   The leakage guard checks every training set; a frozen koan in it aborts the night.
3. One LoRA skill per cluster; the candidate release = production's skills + the new ones, with
   the router pointing each cluster's signature at its skill.
4. The gate (:mod:`sleepy.loop.gate`) decides; production moves only on a pass. A night that fails
   or is killed anywhere before the final alias move leaves ``production`` untouched. With a canary
   configured (``canary > 0``) a pass only makes the release ``candidate``: the next day's canary
   (:mod:`sleepy.loop.rollout`) promotes it, keeps watching or drops it.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from sleepy.adapters.distributed import train_in_processes
from sleepy.adapters.lora import (
    ANY,
    LoraParams,
    RoutedModel,
    SkillTraining,
    TrainExample,
    load_examples,
    load_release_model,
    sample_replay,
    train_lora,
)
from sleepy.adapters.registry import Registry, SkillInfo
from sleepy.adapters.share import (
    Basis,
    ShareConfig,
    average_skills,
    basis_dir,
    copy_basis,
    merge_release_folder,
    read_skills,
    reconstruct,
    should_merge,
    train_share,
    write_peft,
)
from sleepy.context.prompt import ContextBuilder
from sleepy.context.view import view_of
from sleepy.loop.evaluate import EvalReport, evaluate
from sleepy.loop.gate import GateDecision, decide
from sleepy.loop.teacher import Teacher
from sleepy.memory.recall import ExperienceMemory
from sleepy.memory.repository import Repository
from sleepy.model.loader import load_model, model_hash, resolve
from sleepy.report.progress import ProgressFn, counter, training_steps
from sleepy.tasks.edit import END
from sleepy.tasks.leakage import LeakageGuard
from sleepy.tasks.packs import PACKS, get_pack, reference
from sleepy.tasks.project.mutate import HELD_OUT_ORIGIN
from sleepy.tasks.task import Task
from sleepy.tasks.verify import verify


@dataclass
class NightConfig:
    min_failures: int = 3
    max_skills: int = 4
    teacher_budget: int = 64  # reference fixes per night (generated tasks and a project's day tasks)
    max_examples_per_skill: int = 96
    replay_ratio: float = 0.5  # replayed examples per new example
    # also replay the production model's own verified fixes of other signatures (what a new adapter must not
    # unlearn); needed before the first promotion, when there are no earlier skills to replay
    self_replay: int = 0  # fixes per signature (0: off)
    gate_seeds: int = 3
    gate_temperature: float = 0.5  # seeds after the first sample at this temperature; seed 0 is greedy
    holdout_per_family: int = 10
    max_new_tokens: int = 96
    lora: LoraParams = field(default_factory=LoraParams)
    # routed: one skill per cluster, routed per task | naive: one LoRA on all data (plus the replay pool when
    # replay_ratio > 0), applied to every task | averaged: skills as routed, but every task gets their mean delta
    strategy: str = "routed"
    skills: str = "auto"  # routed skill kind: share | lora | auto (share once a basis exists; LoRA bootstraps it)
    share: ShareConfig = field(default_factory=ShareConfig)
    teacher_url: str | None = None  # an OpenAI-compatible endpoint asked for fixes (verified before use)
    teacher_api_key_env: str | None = None  # the environment variable holding its API key (the key is never stored)
    jobs: int = 2
    budget: int = 900
    copy_anchors: bool = True  # the gate decodes as the day does (sleepy.model.constrain)
    copy_names: bool = True
    sources: tuple[str, ...] = ("tool", "model")  # the gate measures the system as deployed (memory aside)
    train_processes: int = 1  # >1: each LoRA skill trains data-parallel under accelerate launch
    # > 0: a candidate the gate passes is handed to the day's canary (this fraction of day tasks runs on it)
    # instead of promoted: the frozen set is small, and the canary's day tasks decide promote/keep/rollback
    canary: float = 0.0
    auto_rollback: bool = True  # a cycle's staged days: the monitor moves production back on a significant drop


def night_config(settings, jobs: int = 2, seed: int = 0) -> NightConfig:
    """The night's configuration from the workspace settings (:class:`sleepy.config.Settings`)."""
    return NightConfig(min_failures=settings.min_failures, max_skills=settings.max_skills,
                       self_replay=settings.self_replay,
                       strategy=settings.strategy, teacher_url=settings.teacher_url, skills=settings.skills,
                       teacher_api_key_env=settings.teacher_api_key_env,
                       share=ShareConfig(k=settings.share_k, storage_dtype=settings.share_dtype,
                                         extra_vectors=settings.share_extra_vectors,
                                         steps=settings.lora_steps, seed=seed),
                       max_new_tokens=settings.max_new_tokens, gate_seeds=settings.gate_seeds,
                       holdout_per_family=settings.holdout_per_family, jobs=jobs, budget=settings.prompt_budget,
                       copy_anchors=settings.copy_anchors, copy_names=settings.copy_names,
                       train_processes=settings.train_processes, canary=settings.canary,
                       auto_rollback=settings.auto_rollback,
                       sources=tuple(x for x in settings.candidates if x != "memory") or ("model",),
                       lora=LoraParams(rank=settings.lora_rank, alpha=2 * settings.lora_rank,
                                       steps=settings.lora_steps, seed=seed))


@dataclass
class ClusterReport:
    signature: str
    failures: int
    skill: str | None = None
    examples: dict = field(default_factory=dict)
    trainable_parameters: int = 0
    final_loss: float | None = None
    seconds: float = 0.0
    dropped_for_holdout: int = 0


@dataclass
class NightReport:
    pack: str
    since: str | None
    clusters: list[ClusterReport] = field(default_factory=list)
    candidate: str | None = None
    production_before: str = "base"
    production_after: str = "base"
    decision: dict | None = None
    seconds: float = 0.0
    phase_seconds: dict = field(default_factory=dict)
    note: str = ""
    evaluated: dict = field(default_factory=dict)  # alias -> cache key of the gate's saved results
    handed_to_canary: bool = False  # the gate passed the candidate and the canary, not the night, decides


def skill_name(signature: str) -> str:
    return signature.replace(":", "_").replace("/", "_")[:80]


def _example(task: Task, after: str, source_kind: str, builder: ContextBuilder) -> TrainExample | None:
    diag = verify(task).primary
    if diag is None:
        return None
    # The model is trained on the view it is shown at inference (a one-line program formatted).
    view = view_of(task.pack, task.source)
    edit = view.edit_to(after)
    if edit is None:
        return None
    prompt = builder.for_task(task, view.shown, view.diagnostic(diag)).text
    return TrainExample(prompt, edit + END + "\n", source_kind, task.id, diag.key)


def self_replay_pool(store: Repository, pack: str, exclude: set[str], builder: ContextBuilder,
                     per_signature: int) -> list[TrainExample]:
    """The agent's own verified fixes of every signature it has solved, except ``exclude``: examples of
    behaviour the production model already has, so replay anchors it even when no skill exists yet."""
    prefix = "rust:" if pack == "rust" else "py:"
    solved = [s for s in store.fix_signatures("agent") if s.startswith(prefix) and s not in exclude]
    pool: list[TrainExample] = []
    for signature in solved:
        fixes = [f for f in store.fixes_for(signature) if f.provenance == "agent"][:per_signature]
        for fix in fixes:
            task = _stored_task(store, fix.task_id)
            ex = _example(task, fix.after, "agent", builder) if task is not None else None
            if ex:
                pool.append(ex)
    return pool


def collect_examples(store: Repository, memory: ExperienceMemory, signature: str, failed_ids: list[str],
                     builder: ContextBuilder, teacher_left: int, cap: int, teacher: Teacher | None = None
                     ) -> tuple[list[TrainExample], int]:
    """Verified examples for one cluster; returns them and how much teacher budget was used.

    Sources in order: the agent's (and people's) verified fixes, the remote teacher, then the pack's
    reference fix (:func:`sleepy.tasks.packs.reference`). Teacher fixes of either kind are verified, then remembered.
    """
    examples: list[TrainExample] = []
    seen: set[str] = set()
    for fix in store.fixes_for(signature):
        if fix.provenance not in ("agent", "human", "teacher") or fix.task_id in seen:
            continue
        task = _stored_task(store, fix.task_id)
        if task is None:
            continue
        ex = _example(task, fix.after, fix.provenance, builder)
        if ex:
            examples.append(ex)
            seen.add(fix.task_id)
        if len(examples) >= cap:
            return examples, 0
    used = 0
    for task_id in failed_ids:
        if used >= teacher_left or len(examples) >= cap or task_id in seen:
            continue
        task = _stored_task(store, task_id)
        before = verify(task) if task is not None else None
        if task is None or before.passed:
            continue
        fixed, proof, kind = None, None, ""
        if teacher is not None:
            used += 1
            answer = teacher.fix(task, before.primary, builder)
            fixed, proof, kind = answer.fixed, answer.proof, "teacher"
        if fixed is None:
            ref = reference(task)
            if ref is not None and ref.fix is not None:
                used += 1
                proof = verify(ref, ref.fix)
                task, before = ref, verify(ref)
                fixed, kind = (ref.fix, "reference") if proof.passed and not before.passed else (None, "")
        if fixed is None:
            continue
        memory.remember(task, task.source, fixed, before.primary, kind, proof)
        ex = _example(task, fixed, kind, builder)
        if ex:
            examples.append(ex)
            seen.add(task_id)
    return examples, used


def _stored_task(store: Repository, task_id: str) -> Task | None:
    rows = store.task_rows([task_id])
    if not rows:
        return None
    r = rows[0]
    return Task.from_row(r)


def run_night(store: Repository, memory: ExperienceMemory, registry: Registry, pack: str, cfg: NightConfig,
              model_ref: str | None = None, evals_dir: Path | None = None,
              log: Callable[[str], None] = lambda _m: None, progress: ProgressFn | None = None) -> NightReport:
    """Mine, train, gate: one night, holding the registry's night lock throughout.

    ``progress(what, done, total)`` hears of every training step and every task the gate evaluates."""
    with registry.night_lock():
        return _night(store, memory, registry, pack, cfg, model_ref, evals_dir, log, progress)


def _night(store: Repository, memory: ExperienceMemory, registry: Registry, pack: str, cfg: NightConfig,
           model_ref: str | None, evals_dir: Path | None, log: Callable[[str], None],
           progress: ProgressFn | None = None) -> NightReport:
    began = time.time()
    phases: dict[str, float] = {}
    since = store.last_finished("night")
    run = store.start_run("night", {"pack": pack, "since": since})
    production_id = registry.resolve("production")
    production = registry.get("production")
    base_model = production.base_model if production else resolve(model_ref)
    report = NightReport(pack, since, production_before=production_id, production_after=production_id)

    # 1. mining
    failures = [(t, s) for t, s in store.failed_episodes(since) if s.startswith("rust:" if pack == "rust" else "py:")]
    counts = Counter(s for _, s in failures)
    clusters = [s for s, n in counts.most_common() if n >= cfg.min_failures][: cfg.max_skills]
    report.clusters = [ClusterReport(s, counts[s]) for s in clusters]
    phases["mining"] = round(time.time() - began, 2)
    if not clusters:
        report.note = f"no signature failed {cfg.min_failures}+ times since the last night"
        return _finish(store, run.id, report, began, phases)

    # 2. data
    t0 = time.time()
    lm = load_model(base_model)
    builder = ContextBuilder(lm.count_tokens, budget=cfg.budget)
    guard = LeakageGuard([t for p in PACKS for t in get_pack(p).frozen()])
    # Generated holdout tasks share templates with day tasks: training examples that match one (after
    # normalising names) are dropped, so the holdout stays disjoint from all training data.
    holdout_guard = LeakageGuard(get_pack(pack).holdout(cfg.holdout_per_family))
    replay_pool = [e for s in (production.skills if production else [])
                   for e in load_examples(production.folder / s.path) if e.source != "replay"]
    if cfg.self_replay and cfg.replay_ratio > 0:
        own = self_replay_pool(store, pack, set(clusters), builder, cfg.self_replay)
        replay_pool += [e for e in own if not any(g.leaks(e.prompt + e.completion) for g in (guard, holdout_guard))]
    teacher_left = cfg.teacher_budget
    teacher = Teacher(cfg.teacher_url, api_key_env=cfg.teacher_api_key_env) if cfg.teacher_url else None
    datasets: dict[str, list[TrainExample]] = {}
    for c in report.clusters:
        ids = [t for t, s in failures if s == c.signature]
        examples, used = collect_examples(store, memory, c.signature, ids, builder, teacher_left,
                                          cfg.max_examples_per_skill, teacher)
        teacher_left -= used
        kept = [e for e in examples if not holdout_guard.leaks(e.prompt + e.completion)]
        c.dropped_for_holdout = len(examples) - len(kept)
        examples = kept
        if not examples:
            continue
        examples += sample_replay([e for e in replay_pool if e.signature != c.signature],
                                  int(len(examples) * cfg.replay_ratio), cfg.lora.seed)
        guard.assert_clean(((e.task_id or "example", e.prompt + e.completion) for e in examples),
                           f"training set of {c.signature}")
        datasets[c.signature] = examples
        c.examples = dict(Counter(e.source for e in examples))
    phases["data"] = round(time.time() - t0, 2)
    if not datasets:
        report.note = "no verified training data for any cluster"
        return _finish(store, run.id, report, began, phases)

    # 3. skills and the candidate release
    t0 = time.time()
    staging = registry.staging()
    skills: dict[str, SkillInfo] = {}
    router: dict[str, str] = {}
    if production:
        for s in production.skills:
            if s.name == AVERAGE:  # rebuilt from the per-cluster skills below
                continue
            shutil.copytree(production.folder / s.path, staging / s.path)
            skills[s.name] = s
        router.update({k: v for k, v in production.router.items() if v != AVERAGE})
    # Production's share skills need its basis whatever kind this night trains.
    kind = _skill_kind(cfg, production is not None and copy_basis(production.folder, staging))
    if cfg.strategy == "naive":
        # The baseline the design argues against: one adapter on everything, applied to every task.
        # Per-cluster replay samples are left out: the whole replay pool goes in once.
        pooled = [e for sig in datasets for e in datasets[sig] if e.source != "replay"]
        datasets = {ANY: pooled + (list(replay_pool) if cfg.replay_ratio > 0 else [])}
        skills.clear()
        router.clear()
    for signature, data in datasets.items():
        name = "naive" if signature == ANY else skill_name(signature)
        log(f"training skill {name} on {len(data)} examples")
        shutil.rmtree(staging / "skills" / name, ignore_errors=True)
        on_step = training_steps(progress, f"training {name}")
        if kind == "share":
            basis = Basis.load(basis_dir(staging))
            training = train_share(base_model, data, basis, replace(cfg.share, seed=cfg.lora.seed),
                                   staging / "skills" / name, on_step)
        elif cfg.train_processes > 1:
            training = SkillTraining(**train_in_processes(base_model, data, cfg.lora, staging / "skills" / name,
                                                          cfg.train_processes))
        else:
            training = train_lora(base_model, data, cfg.lora, staging / "skills" / name, on_step)
        covered = [c.signature for c in report.clusters] if signature == ANY else [signature]
        for c in report.clusters:
            if c.signature == signature or signature == ANY:
                c.skill, c.trainable_parameters = name, training.trainable_parameters
                c.final_loss, c.seconds = (training.losses[-1] if training.losses else None), training.seconds
        skills[name] = SkillInfo(name, "share" if kind == "share" else "lora", covered, f"skills/{name}",
                                 training.trainable_parameters, asdict(training) | {"signatures": covered})
        router[signature] = name
    notes = {"night_of": since, "pack": pack, "skills": kind}
    if kind in ("share", "lora+bootstrap"):
        basis, share_skills, raw = read_skills(staging, list(skills.values()))
        merge_now, why = should_merge(cfg.share, basis, share_skills, raw)
        if merge_now:
            # A merge rebuilds the basis and re-projects old skills too: the gate below sees the merged ones.
            merged = merge_release_folder(staging, list(skills.values()), cfg.share)
            skills = {s.name: s for s in merged.skills}
            for c in report.clusters:  # one count per skill everywhere: what the release stores, not the bootstrap
                if c.skill in skills:
                    c.trainable_parameters = skills[c.skill].trainable_parameters
            notes["merge"] = {"why": why, "basis": merged.basis_id, "errors": merged.errors}
            log(f"share merge ({why}): basis {merged.basis_id}")
    if cfg.strategy == "averaged":
        # The baseline that averages skills: one adapter with the mean delta of all of them, for every task.
        basis, share_skills, raw = read_skills(staging, list(skills.values()))
        adapters = {n: reconstruct(basis, sk) for n, sk in share_skills.items()} | raw
        mean = average_skills(adapters)
        write_peft(mean, staging / "skills" / AVERAGE, base_model)
        covered = sorted({sig for s in skills.values() for sig in s.signatures})
        skills[AVERAGE] = SkillInfo(AVERAGE, "lora", covered, f"skills/{AVERAGE}",
                                    sum(s.trainable_parameters for s in skills.values()),
                                    {"averaged": sorted(adapters)})
        router = {ANY: AVERAGE}
    candidate = registry.create(staging, base_model, model_hash(base_model), router, list(skills.values()),
                                production_id, notes)
    report.candidate = candidate.id
    phases["training"] = round(time.time() - t0, 2)

    # 4. the gate
    t0 = time.time()
    prod_model = load_release_model(production, base_model)
    held = project_holdout(store, pack)
    log(f"gate: production ({prod_model.name}) and the candidate ({candidate.id}) on the same tasks and seeds")
    prod_reports = gate_eval(prod_model, pack, cfg, evals_dir, held, progress, "production")
    cand_reports = gate_eval(load_release_model(candidate, base_model), pack, cfg, evals_dir, held, progress,
                             "candidate")
    report.evaluated = {"production": prod_model.cache_key, "candidate": candidate.id}
    decision = decide(prod_reports, cand_reports)
    report.decision = decision.to_json()
    phases["gate"] = round(time.time() - t0, 2)
    why = f"night: {len(datasets)} skill(s) trained, gated: {decision.reason}"
    if decision.promote and cfg.canary > 0:
        # Staged: the gate's frozen set is small, so production stays and the next day's canary decides.
        report.handed_to_canary = True
        why += (f"; handed to the canary ({cfg.canary:.0%} of day tasks), production stays {production_id} "
                "until the canary promotes it")
    elif decision.promote:
        registry.promote(candidate.id, decision.reason, _metrics(decision))
        report.production_after = candidate.id
    else:
        registry.record_gate(candidate.id, decision.reason, _metrics(decision))
    # Only now, with the verdict on record: a night killed before this leaves no alias on an ungated release.
    target = candidate.id
    if cfg.canary > 0 and not decision.promote:
        # The day's canary runs whatever `candidate` names: a refused release must not get day tasks, so the
        # alias stays where it was (a candidate still waiting for its canary keeps waiting).
        target = registry.aliases().get("candidate", production_id)
        why += f"; refused, so not handed to the canary: candidate stays {target}"
    registry.move("candidate", target, why, _metrics(decision) | ({"canary": cfg.canary}
                                                                 if report.handed_to_canary else {}))
    return _finish(store, run.id, report, began, phases)


AVERAGE = "average"  # the averaged strategy's one global skill


def _skill_kind(cfg: NightConfig, has_basis: bool) -> str:
    """share: coefficients on the production basis; lora: plain LoRA; lora+bootstrap: LoRA, then build the basis."""
    if cfg.strategy == "naive" or cfg.skills == "lora":
        return "lora"
    if cfg.skills not in ("share", "auto"):
        raise ValueError(f"unknown skills kind {cfg.skills!r}: choose share, lora or auto")
    return "share" if has_basis else "lora+bootstrap"


def project_holdout(store: Repository, pack: str) -> list[Task]:
    """The held-out breakages of every project this workspace learns (``sleepy day --project`` stores them):
    the gate measures on them too, so a skill is promoted on code of the project it never trained on."""
    return [Task.from_row(r) for r in store.tasks_of_origin(HELD_OUT_ORIGIN, pack)]


def eval_path(evals_dir: Path, pack: str, release: str, cfg: NightConfig, seed: int,
              extra: list[Task] | tuple = ()) -> Path:
    temperature = 0.0 if seed == 0 else cfg.gate_temperature
    # how edits are decoded is part of the result: a saved eval of other decoding is never reused
    decoding = f"a{int(cfg.copy_anchors)}n{int(cfg.copy_names)}-{'+'.join(cfg.sources)}"
    # so is the set: a project's held-out tasks join the gate, named by a digest of what they are
    tasks = f"-p{hashlib.sha256(''.join(t.id + t.source for t in extra).encode()).hexdigest()[:10]}" if extra else ""
    return evals_dir / f"{pack}-{release}-h{cfg.holdout_per_family}{tasks}-t{temperature}-{decoding}-seed{seed}.json"


def gate_eval(model: RoutedModel, pack: str, cfg: NightConfig, evals_dir: Path | None,
              extra: list[Task] | tuple = (), progress: ProgressFn | None = None, role: str = "") -> list[EvalReport]:
    """Evaluate a release on the gate's seeds: the frozen set, the holdout and ``extra`` (a project's held-out
    breakages). Releases are immutable, so a saved result is reused. ``progress`` hears of each task done,
    labelled ``gate: <role or release>, seed N``."""
    reports = []
    pack_tasks = get_pack(pack)
    tasks = pack_tasks.frozen() + pack_tasks.holdout(cfg.holdout_per_family) + list(extra) if extra else None
    total = len(tasks) if tasks else len(pack_tasks.frozen()) + (len(pack_tasks.holdout(cfg.holdout_per_family))
                                                                 if cfg.holdout_per_family else 0)
    for seed in range(cfg.gate_seeds):
        path = eval_path(evals_dir, pack, model.cache_key, cfg, seed, extra) if evals_dir is not None else None
        if path is not None and path.is_file():
            reports.append(EvalReport.load(path))
            continue
        temperature = 0.0 if seed == 0 else cfg.gate_temperature
        label = f"gate: {role or model.name}, seed {seed}"
        rep = evaluate(model, pack, cfg.holdout_per_family, seed=seed, temperature=temperature, jobs=cfg.jobs,
                       max_new_tokens=cfg.max_new_tokens, copy_anchors=cfg.copy_anchors, copy_names=cfg.copy_names,
                       sources=cfg.sources, tasks=tasks, on_done=counter(progress, label, total))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            rep.save(path)
        reports.append(rep)
    return reports


def _metrics(d: GateDecision) -> dict:
    return {"regressions": len(d.regressions), "improvements": len(d.improvements),
            "production_passes": d.production_passes, "candidate_passes": d.candidate_passes, "tasks": d.tasks}


def _finish(store: Repository, run_id: int, report: NightReport, began: float, phases: dict) -> NightReport:
    report.seconds = round(time.time() - began, 2)
    report.phase_seconds = phases
    store.finish_run(run_id, asdict(report))
    return report
