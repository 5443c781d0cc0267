"""``sleepy pretrain``: build the bundled tiny coder from scratch, reproducibly.

Data: repairs of generated tasks from the *known* families only (the *new* families are left out
entirely so that later nights have something to learn and the benchmark can show it), each as the
prompt the agent will see (built by :mod:`sleepy.context`, the same code as inference) followed by
the reference edit. A share of prompts carries a recalled fix of the same signature from another
task, so the model learns to use the memory block that the day loop fills later. The leakage guard
checks every example against the frozen eval sets before a single step is taken.

Stages: a preset may start from an existing model (``init_from``, its tokenizer kept) and generate its
tasks with most names made up (``made_up_rate``): a continuation that can only be learned by copying
names from the program, since no name list predicts them.

Training: a plain loop (nanoGPT style) over length-bucketed batches in a seeded order, loss on the
edit tokens (prompt tokens weighted lower), AdamW with warmup and cosine decay, checkpoints that
a rerun resumes from, and a rich progress bar with loss, tokens/s and ETA.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sleepy.context.prompt import ContextBuilder, Memory
from sleepy.files import atomic_write_text
from sleepy.memory.repository import sha
from sleepy.model.constrain import NAMES_FILE, introduced_names
from sleepy.model.loader import ModelLoadError, model_hash, read_names, resolve
from sleepy.model.tiny import Architecture, build_model, build_tokenizer
from sleepy.model.training import (
    atomic_save,
    bf16_ok,
    collate,
    encode,
    evaluate_loss,
    length_batches,
    weighted_loss,
)
from sleepy.tasks.edit import END, diff_to_edit
from sleepy.tasks.leakage import LeakageGuard
from sleepy.tasks.packs import PACKS, get_pack
from sleepy.tasks.task import Task
from sleepy.tasks.verify import verify_many
from sleepy.tasks.vocabulary import DEFAULT_MADE_UP_RATE, made_up_names

PRETRAIN_SEED_BASE = 20_000_000
VALIDATION_SEED_BASE = 30_000_000
KNOWN_FAMILIES = {
    "rust": ("borrow", "type-mismatch", "missing-items", "result-option"),
    "python": ("name-import", "type-error", "index-key", "none-handling"),
}
PROMPT_BUDGET = 900


def new_families(pack: str) -> tuple[str, ...]:
    return tuple(f for f in get_pack(pack).families if f not in KNOWN_FAMILIES[pack])


@dataclass(frozen=True)
class Preset:
    name: str
    arch: Architecture
    examples_per_family: int
    epochs: float
    batch_tokens: int
    lr: float
    warmup_steps: int
    memory_rate: float = 0.3
    prompt_weight: float = 0.1
    seed: int = 0
    packs: tuple[str, ...] = PACKS
    validation_per_family: int = 8
    checkpoint_every: int = 200
    init_from: str | None = None  # a model folder, "bundled" or "preset:NAME": continue from it (weights, tokenizer)
    made_up_rate: float | None = None  # share of vocabulary names made up while generating (None: default)
    seed_base: int = PRETRAIN_SEED_BASE  # generator seeds used: seed_base .. seed_base + examples_per_family - 1
    real_rust_per_program: int = 0  # mutants per rust-doc example program (sleepy.tasks.real_code); 0: none
    real_cap_per_operator: int = 1200  # at most this many verified repairs per mutation operator
    real_repeat: int = 1  # each real-code repair appears this many times per epoch


PRESETS = {
    "micro": Preset("micro", Architecture(vocab_size=400, hidden=64, layers=2, heads=4, kv_heads=2,
                                          intermediate=128, max_positions=1024),
                    examples_per_family=6, epochs=1.0, batch_tokens=4096, lr=3e-3, warmup_steps=2,
                    validation_per_family=1, checkpoint_every=5),
    "small": Preset("small", Architecture(vocab_size=3072, hidden=256, layers=6, heads=8, kv_heads=4,
                                          intermediate=704, max_positions=1024),
                    examples_per_family=2000, epochs=2.5, batch_tokens=12288, lr=2e-3, warmup_steps=100),
    # the small model's data plus repairs of real programs (Rust's documentation examples broken on purpose)
    "small-real": Preset("small-real", Architecture(vocab_size=3072, hidden=256, layers=6, heads=8, kv_heads=4,
                                                    intermediate=704, max_positions=1024),
                         examples_per_family=2000, epochs=2.0, batch_tokens=12288, lr=2e-3, warmup_steps=100,
                         real_rust_per_program=6, real_cap_per_operator=700),
    # continues small-real on the same data for 3 more epochs at a lower learning rate (92 min on 2 cores, resumable
    # across sittings): Rust koans 6/32 and holdout 39/40, Python 2/24 and 33/40; not shipped (README, model card)
    "small-real-more": Preset("small-real-more", Architecture(vocab_size=3072, hidden=256, layers=6, heads=8,
                                                              kv_heads=4, intermediate=704, max_positions=1024),
                              examples_per_family=2000, epochs=3.0, batch_tokens=12288, lr=5e-4, warmup_steps=20,
                              real_rust_per_program=6, real_cap_per_operator=700, init_from="preset:small-real",
                              checkpoint_every=50),
    # continues the shipped small model on tasks whose vocabulary names are all made up, with new seeds
    "small-copy": Preset("small-copy", Architecture(vocab_size=3072, hidden=256, layers=6, heads=8, kv_heads=4,
                                                    intermediate=704, max_positions=1024),
                         examples_per_family=500, epochs=1.5, batch_tokens=12288, lr=6e-4, warmup_steps=20,
                         init_from="bundled", made_up_rate=1.0, seed_base=PRETRAIN_SEED_BASE + 5_000_000,
                         checkpoint_every=50),
}


@dataclass
class Example:
    prompt: str
    completion: str
    task_id: str
    pack: str
    family: str
    signature: str


@dataclass
class PretrainResult:
    output_dir: str
    parameters: int
    steps: int
    tokens_seen: int
    seconds: float
    final_loss: float
    validation_loss: float
    examples: int
    history: list[dict] = field(default_factory=list)


# --------------------------------------------------------------------------- data


def example_for(task: Task, diag, builder: ContextBuilder, memory: Memory | None) -> Example:
    prompt = builder.build(task.pack, task.source, diag, [memory] if memory else None).text
    completion = diff_to_edit(task.source, task.fix).render() + END + "\n"
    return Example(prompt, completion, task.id, task.pack, task.family, diag.key)


def memory_of(task: Task, diag) -> Memory:
    """How a verified fix looks when recalled: its error, the code line at the error, its edit."""
    line = diag.primary.line_start if diag.primary else 1
    lines = task.source.splitlines()
    code_line = lines[line - 1] if 0 < line <= len(lines) else ""
    return Memory(signature=diag.key, message=f"{diag.code}: {diag.message}", code_line=code_line,
                  edit=diff_to_edit(task.source, task.fix).render(), source_id=task.id)


def _verified(tasks: list[Task], jobs: int, on_progress=None) -> list[tuple[Task, object]]:
    """Only verified repairs become training data: the program must fail and its fix must pass."""
    results, fixes = [], []
    for start in range(0, len(tasks), 100):
        chunk = tasks[start:start + 100]
        results += verify_many([(t, None) for t in chunk], jobs=jobs)
        fixes += verify_many([(t, t.fix) for t in chunk], jobs=jobs)
        if on_progress:
            on_progress(min(start + 100, len(tasks)), len(tasks))
    return [(t, r.primary) for t, r, f in zip(tasks, results, fixes, strict=True)
            if not r.passed and r.primary is not None and f.passed]


def build_examples(preset: Preset, seed_base: int, per_family: int, jobs: int = 2,
                   on_progress=None) -> list[Example]:
    """Generated repairs of the known families, verified with the real toolchain."""
    tasks = [get_pack(p).generate(fam, seed_base + i) for p in preset.packs for fam in KNOWN_FAMILIES[p]
             for i in range(per_family)]
    return _as_examples(preset, seed_base, _verified(tasks, jobs, on_progress))


def new_family_signatures(pack: str, per_family: int = 40, jobs: int = 2) -> set[str]:
    """The error signatures the left-out families start from (sampled from their generator)."""
    tasks = [get_pack(pack).generate(fam, VALIDATION_SEED_BASE + i) for fam in new_families(pack)
             for i in range(per_family)]
    return {r.primary.key for r in verify_many([(t, None) for t in tasks], jobs=jobs) if r.primary}


def build_real_examples(preset: Preset, jobs: int = 2, on_progress=None) -> list[Example]:
    """Verified repairs of Rust's documentation examples broken on purpose (sleepy.tasks.real_code).

    A mutant is kept only when rustc names an error code (no parse errors, no lints) that none of
    the new families starts from, so the left-out families stay unseen."""
    from sleepy.tasks.real_code import broken_tasks, doc_programs

    tasks = list(broken_tasks(doc_programs(), preset.seed, preset.real_rust_per_program))
    excluded = new_family_signatures("rust", jobs=jobs)
    usable = [(t, d) for t, d in _verified(tasks, jobs, on_progress)
              if re.fullmatch(r"rust:E\d{4}:.*", d.key) and d.key not in excluded]
    per_operator: dict[str, int] = defaultdict(int)
    capped = []
    for t, d in usable:
        operator = t.description.rsplit(" ", 1)[-1]
        if per_operator[operator] < preset.real_cap_per_operator:
            per_operator[operator] += 1
            capped.append((t, d))
    return _as_examples(preset, preset.seed_base + 1, capped) * preset.real_repeat


def _as_examples(preset: Preset, seed_base: int, usable: list[tuple[Task, object]]) -> list[Example]:
    by_sig: dict[str, list[tuple[Task, object]]] = defaultdict(list)
    for t, d in usable:
        by_sig[d.key].append((t, d))
    rng = random.Random(preset.seed + seed_base)
    builder = ContextBuilder(budget=PROMPT_BUDGET)
    examples = []
    for t, d in usable:
        memory = None
        peers = by_sig[d.key]
        if len(peers) > 1 and rng.random() < preset.memory_rate:
            other = rng.choice([p for p in peers if p[0].id != t.id])
            memory = memory_of(*other)
        examples.append(example_for(t, d, builder, memory))
    return examples


class StaleWorkFolder(RuntimeError):
    """A work folder whose cached data was built by other code or another preset: resuming from it would
    train on data the current code no longer makes (and mix checkpoints of two data sets)."""


DATA_STAMP = "data.json"
_DATA_FIELDS = ("examples_per_family", "memory_rate", "seed", "packs", "validation_per_family", "made_up_rate",
                "seed_base", "real_rust_per_program", "real_cap_per_operator", "real_repeat")


def data_fingerprint(preset: Preset) -> str:
    """What the work folder's caches depend on: the preset's data fields and architecture (tokenizer and
    checkpoints), plus one probe task per pack rendered exactly as training renders it (prompt template,
    edit format, generator, diagnostics), so a code change that would build other data is noticed
    without anybody bumping a version number."""
    probes = []
    for pack in preset.packs:
        with made_up_names(preset.made_up_rate if preset.made_up_rate is not None else DEFAULT_MADE_UP_RATE):
            task = get_pack(pack).generate(KNOWN_FAMILIES[pack][0], VALIDATION_SEED_BASE)
        verified = _verified([task], jobs=1)
        if not verified:  # a fingerprint without its probe could not tell two data formats apart
            raise StaleWorkFolder(f"the {pack} probe task {task.id} did not verify; cannot fingerprint the data")
        t, d = verified[0]
        e = example_for(t, d, ContextBuilder(budget=PROMPT_BUDGET), memory_of(t, d))
        probes.append(e.prompt + e.completion)
    fields = {k: getattr(preset, k) for k in _DATA_FIELDS} | {"arch": asdict(preset.arch)}  # tokenizer, checkpoints
    return sha(json.dumps({"fields": fields, "probes": probes}, sort_keys=True, default=list))[:16]


def check_work_folder(work_dir: Path, fingerprint: str) -> None:
    """Refuse (never delete) a work folder whose cached data another version of the data code built."""
    stamp = work_dir / DATA_STAMP
    cached = [n for n in ("generated.jsonl", "data.jsonl", "validation.jsonl") if (work_dir / n).is_file()]
    if not cached:
        return
    try:
        found = json.loads(stamp.read_text()).get("fingerprint") if stamp.is_file() else "none (made before stamps)"
    except (json.JSONDecodeError, AttributeError):
        found = f"unreadable {DATA_STAMP}"
    if found != fingerprint:
        raise StaleWorkFolder(f"{work_dir} holds training data built by other code or settings (fingerprint "
                              f"{found}, now {fingerprint}): move it away or pass another --workspace")


def stamp_work_folder(work_dir: Path, fingerprint: str) -> None:
    atomic_write_text(work_dir / DATA_STAMP, json.dumps({"fingerprint": fingerprint}))


def check_leakage(examples: list[Example]) -> None:
    guard = LeakageGuard([t for p in PACKS for t in get_pack(p).frozen()])
    guard.assert_clean(((e.task_id, e.prompt + e.completion) for e in examples), "pretraining data")


# --------------------------------------------------------------------------- training


def pretrain(preset_name: str, out_dir: Path, work_dir: Path, jobs: int = 2, show_progress: bool = True,
             max_steps: int | None = None) -> PretrainResult:
    """Build data, train, and write a standard HF model folder to ``out_dir``; resumes from ``work_dir``."""
    import torch
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    preset = PRESETS[preset_name]
    init = _init_folder(preset, work_dir)  # before the long data build: a missing model fails at once
    work_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = data_fingerprint(preset)
    check_work_folder(work_dir, fingerprint)
    stamp_work_folder(work_dir, fingerprint)
    torch.manual_seed(preset.seed)
    random.seed(preset.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                        TimeElapsedColumn(), TimeRemainingColumn(), disable=not show_progress)
    with progress:
        data_path = work_dir / "data.jsonl"
        if data_path.is_file():
            examples = [Example(**json.loads(line)) for line in data_path.open()]
        else:
            bar = progress.add_task("verifying data", total=None, info="")
            def report(d: int, t: int) -> None:
                progress.update(bar, completed=d, total=t, info=f"{d}/{t}")

            generated_path = work_dir / "generated.jsonl"  # the generated part, kept apart so a rerun reuses it
            if generated_path.is_file():
                examples = [Example(**json.loads(line)) for line in generated_path.open()]
            else:
                with made_up_names(preset.made_up_rate if preset.made_up_rate is not None else DEFAULT_MADE_UP_RATE):
                    examples = build_examples(preset, preset.seed_base, preset.examples_per_family, jobs, report)
                _write_jsonl(generated_path, examples)
            if preset.real_rust_per_program:
                progress.update(bar, description="verifying real-code repairs", completed=0, total=None)
                examples += build_real_examples(preset, jobs, report)
            check_leakage(examples)
            _write_jsonl(data_path, examples)
            progress.remove_task(bar)
        val_path = work_dir / "validation.jsonl"
        if val_path.is_file():
            validation = [Example(**json.loads(line)) for line in val_path.open()]
        else:
            validation = build_examples(preset, VALIDATION_SEED_BASE, preset.validation_per_family, jobs)
            val_path.write_text("".join(json.dumps(asdict(e)) + "\n" for e in validation))

        tok_dir = Path(init) if init else work_dir / "tokenizer"
        if (tok_dir / "tokenizer.json").is_file():
            from transformers import PreTrainedTokenizerFast
            tokenizer = PreTrainedTokenizerFast.from_pretrained(tok_dir)
        else:
            tokenizer = build_tokenizer((e.prompt + e.completion for e in examples), preset.arch.vocab_size)
            tokenizer.save_pretrained(tok_dir)

        rows = encode(tokenizer, examples, preset.arch.max_positions, preset.prompt_weight)
        val_rows = encode(tokenizer, validation, preset.arch.max_positions, preset.prompt_weight)
        epoch_batches = [length_batches(rows, preset.batch_tokens, preset.seed + e)
                         for e in range(math.ceil(preset.epochs))]
        per_epoch = len(epoch_batches[0])
        schedule = [b for e in epoch_batches for b in e][: max(1, int(per_epoch * preset.epochs))]
        total_steps = len(schedule) if max_steps is None else min(max_steps, len(schedule))

        if init:
            from transformers import AutoModelForCausalLM

            model = AutoModelForCausalLM.from_pretrained(init, dtype=torch.float32)
        else:
            model = build_model(preset.arch, tokenizer)
        params = sum(p.numel() for p in model.parameters())
        opt = torch.optim.AdamW(model.parameters(), lr=preset.lr, betas=(0.9, 0.95), weight_decay=0.1)

        def lr_at(step: int) -> float:
            if step < preset.warmup_steps:
                return preset.lr * (step + 1) / preset.warmup_steps
            frac = (step - preset.warmup_steps) / max(1, len(schedule) - preset.warmup_steps)
            return preset.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))

        ckpt_path = work_dir / "checkpoint.pt"
        step, tokens_seen, seconds_before, history = 0, 0, 0.0, []
        init_hash = model_hash(init) if init else None
        if ckpt_path.is_file():
            state = torch.load(ckpt_path, weights_only=False)
            if state.get("init_hash") != init_hash:
                raise ModelLoadError(f"the checkpoint in {work_dir} continued another model ({state.get('init_hash')}, "
                                     f"not {init_hash}): use a fresh work folder")
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            step, tokens_seen = state["step"], state["tokens_seen"]
            seconds_before, history = state["seconds"], state["history"]
            torch.set_rng_state(state["torch_rng"])

        def checkpoint() -> None:
            atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                          "tokens_seen": tokens_seen, "seconds": seconds_before + time.time() - began,
                          "history": history, "torch_rng": torch.get_rng_state(), "init_hash": init_hash}, ckpt_path)

        bar = progress.add_task(f"pretrain {preset.name} ({params / 1e6:.1f}M params)", total=total_steps,
                                completed=step, info="")
        began = time.time()
        window_tokens, window_start, loss_ema = 0, time.time(), None
        model.train()
        while step < total_steps:
            ids, mask, weights = collate(rows, schedule[step], tokenizer.pad_token_id)
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16_ok()):
                loss = weighted_loss(model, ids, mask, weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            n_tok = int(mask.sum())
            tokens_seen += n_tok
            window_tokens += n_tok
            loss_ema = loss.item() if loss_ema is None else 0.95 * loss_ema + 0.05 * loss.item()
            rate = window_tokens / max(1e-6, time.time() - window_start)
            progress.update(bar, completed=step, info=f"loss {loss_ema:.3f}  {rate:,.0f} tok/s")
            if step % preset.checkpoint_every == 0 or step == total_steps:
                val = evaluate_loss(model, val_rows, tokenizer.pad_token_id)
                history.append({"step": step, "loss": round(loss_ema, 4), "validation_loss": round(val, 4),
                                "tokens": tokens_seen, "seconds": round(seconds_before + time.time() - began, 1)})
                checkpoint()
                if not show_progress:
                    print(json.dumps(history[-1]), flush=True)
                model.train()
        seconds = seconds_before + time.time() - began

    val = evaluate_loss(model, val_rows, tokenizer.pad_token_id)
    result = PretrainResult(str(out_dir), params, step, tokens_seen, round(seconds, 1), round(loss_ema or 0.0, 4),
                            round(val, 4), len(rows), history)
    names = introduced_names((e.pack, e.prompt, e.completion) for e in examples)
    for pack, more in ((init and read_names(init)) or {}).items():  # a continuation keeps what its start learned
        names[pack] = sorted({*names.get(pack, ()), *more})
    save_model(model, tokenizer, out_dir, preset, result, init, init_hash, names)
    return result


def _real_sources(preset: Preset) -> list[dict]:
    if not preset.real_rust_per_program:
        return []
    from sleepy.tasks.real_code import RUST_DOC_LICENCE, RUST_DOC_SOURCE

    return [{"source": f"{RUST_DOC_SOURCE}: example programs broken on purpose, "
                       f"{preset.real_rust_per_program} mutants per program at most, seed {preset.seed}",
             "licence": RUST_DOC_LICENCE}]


def _write_jsonl(path: Path, examples: list[Example]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(asdict(e)) + "\n" for e in examples))
    os.replace(tmp, path)


def _init_folder(preset: Preset, work_dir: Path) -> str | None:
    """The local model folder a continuation starts from; it must carry its own tokenizer.
    ``preset:NAME`` is the model another preset trained in the same workspace (``<pretrain>/NAME/model``)."""
    if not preset.init_from:
        return None
    if preset.init_from.startswith("preset:"):
        name = preset.init_from.removeprefix("preset:")
        init = str(work_dir.parent / name / "model")
        if not Path(init).is_dir():
            raise ModelLoadError(f"preset {preset.name} continues preset {name}'s model, which is not trained yet: "
                                 f"run `sleepy pretrain --preset {name}` first")
    else:
        init = resolve(preset.init_from)
    if not (Path(init) / "config.json").is_file() or not (Path(init) / "tokenizer.json").is_file():
        raise ModelLoadError(f"preset {preset.name} continues {init}, which is not a local model folder with a "
                             "config.json and tokenizer.json")
    return init


def _init_record(init: str | None, init_hash: str | None) -> dict | None:
    """Which model a continuation started from: enough to rebuild it from git history."""
    if init is None:
        return None
    card = Path(init) / "training.json"
    previous = json.loads(card.read_text()) if card.is_file() else {}
    return {"path": init, "hash": init_hash, "preset": previous.get("preset"),
            "training": previous.get("training")}


def save_model(model, tokenizer, out_dir: Path, preset: Preset, result: PretrainResult,
               init: str | None = None, init_hash: str | None = None,
               names: dict[str, list[str]] | None = None) -> None:
    """Write the model folder atomically: a half-written bundled model never replaces a good one."""
    import torch

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.to(torch.bfloat16).save_pretrained(tmp, safe_serialization=True)
    model.to(torch.float32)
    tokenizer.save_pretrained(tmp)
    card = {
        "preset": preset.name, "architecture": asdict(preset.arch), "parameters": result.parameters,
        "training": {k: v for k, v in asdict(result).items() if k != "history"},
        "history": result.history,
        "known_families": {p: KNOWN_FAMILIES[p] for p in preset.packs},
        "new_families": {p: new_families(p) for p in preset.packs},
        "data": [{"source": f"sleepy {p} pack generator (templates written for this project), seeds "
                            f"{preset.seed_base}..{preset.seed_base + preset.examples_per_family - 1}"
                            + (f", made-up name rate {preset.made_up_rate}" if preset.made_up_rate is not None else ""),
                  "licence": "MIT (this project)"} for p in preset.packs] + _real_sources(preset),
        "hardware": f"{os.cpu_count()} CPU threads, torch {torch.__version__}",
        "leakage_check": "every example checked against all frozen eval koans (sleepy.tasks.leakage)",
        "initialised_from": _init_record(init, init_hash),
    }
    (tmp / "training.json").write_text(json.dumps(card, indent=2))
    if names is not None:  # what constrained decoding lets it write in '+' lines (sleepy.model.constrain)
        (tmp / NAMES_FILE).write_text(json.dumps(names, indent=1))
    if out_dir.exists():
        old = out_dir.with_name(out_dir.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, out_dir)
