"""LoRA skills with PEFT on the frozen base: training, and loading a release's skills for routing.

One skill per failure cluster. Training uses the same prompt code and the same weighted loss as
pretraining (completion tokens only). A skill is saved in standard PEFT format
(``adapter_config.json`` + ``adapter_model.safetensors``), so vLLM and ``PeftModel`` load it as is.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from sleepy.adapters import distributed
from sleepy.adapters.registry import Release
from sleepy.model.loader import LoadedModel, load_model
from sleepy.model.training import bf16_ok, collate, encode, length_batches, weighted_loss

ANY = "*"  # router key of a skill applied to every task (naive LoRA baseline)
# empty: the architecture's own projections (sleepy.model.architecture.lora_targets), found on the model;
# on a Llama-style model that is q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj
DEFAULT_TARGETS: tuple[str, ...] = ()


@dataclass
class LoraParams:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] = DEFAULT_TARGETS
    lr: float = 2e-3
    steps: int = 40
    batch_tokens: int = 4096
    seed: int = 0


@dataclass
class TrainExample:
    prompt: str
    completion: str
    source: str  # agent | teacher | human | reference | replay
    task_id: str = ""
    signature: str = ""


@dataclass
class SkillTraining:
    trainable_parameters: int
    examples: int
    data_sha256: str
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    params: dict = field(default_factory=dict)
    counts_by_source: dict = field(default_factory=dict)


def data_hash(examples: list[TrainExample]) -> str:
    h = hashlib.sha256()
    for e in examples:
        h.update(e.prompt.encode())
        h.update(b"\0")
        h.update(e.completion.encode())
    return h.hexdigest()


def train_lora(base_path: str, examples: list[TrainExample], params: LoraParams, out_dir: Path,
               on_step: Callable[[int, int, float], None] | None = None, device: str = "auto") -> SkillTraining:
    """Train one LoRA adapter on ``examples`` and save it (PEFT format) in ``out_dir``.

    Under a launcher (:mod:`sleepy.adapters.distributed`) every process runs this; rank 0 saves."""
    import torch
    from peft import LoraConfig, get_peft_model

    from sleepy.model.architecture import fan_in_fan_out, lora_targets

    torch.manual_seed(params.seed)
    lm = load_model(base_path, device=device, fresh=True)
    targets = tuple(params.target_modules) or lora_targets(lm.model)
    model = get_peft_model(lm.model, LoraConfig(r=params.rank, lora_alpha=params.alpha,
                                                lora_dropout=params.dropout, target_modules=list(targets),
                                                fan_in_fan_out=fan_in_fan_out(lm.model, targets), bias="none"))
    trainable = [p for p in model.parameters() if p.requires_grad]
    rows = encode(lm.tokenizer, examples, 1024, prompt_weight=0.0)
    began = time.time()
    losses = fit_adapter(model, trainable, rows, lm.tokenizer.pad_token_id, lm.device, params.steps,
                         params.batch_tokens, params.lr, params.seed, on_step)
    if not distributed.current().main:
        return SkillTraining(0, len(rows), data_hash(examples), losses, 0.0, {}, {})  # rank 0 writes the skill
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    training = SkillTraining(sum(p.numel() for p in trainable), len(rows), data_hash(examples), losses,
                             round(time.time() - began, 2),
                             {k: list(v) if isinstance(v, tuple) else v
                              for k, v in asdict(replace(params, target_modules=targets)).items()},
                             dict(Counter(e.source for e in examples)))
    write_skill_records(out_dir, training, examples)
    return training


def fit_adapter(model, trainable: list, rows: list, pad_id: int, device: str, steps: int, batch_tokens: int,
                lr: float, seed: int, on_step: Callable[[int, int, float], None] | None = None) -> list[float]:
    """The one training loop of every skill kind (LoRA, Share): only ``trainable`` moves, the loss is on the
    completion tokens, batches come in a seeded order. Returns the loss per step."""
    import torch

    if not rows:
        raise ValueError("no usable training examples for this skill")
    group = distributed.current()  # several processes: each takes its rows of every batch
    opt = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.0)
    losses: list[float] = []
    model.train()
    step, epoch = 0, 0
    while step < steps:
        for idx in length_batches(rows, batch_tokens, seed + epoch):
            if step >= steps:
                break
            mine, counts = distributed.share(idx, group)
            ids, mask, weights = collate(rows, mine, pad_id)
            if not counts:
                weights.zero_()
            total = sum(sum(rows[i][1]) for i in idx)  # the whole batch's weight, the same on every process
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16_ok() and device == "cpu"):
                loss = weighted_loss(model, ids.to(device), mask.to(device), weights.to(device), total)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            distributed.sum_gradients(trainable, group)
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            losses.append(round(distributed.sum_value(loss.item(), group), 4))
            step += 1
            if on_step:
                on_step(step, steps, loss.item())
        epoch += 1
    model.eval()
    return losses


def write_skill_records(out_dir: Path, training: SkillTraining, examples: list[TrainExample]) -> None:
    """``training.json`` (the manifest's numbers) and ``data.jsonl`` (what replay reads back) of a skill."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "training.json").write_text(json.dumps(asdict(training), indent=2))
    with (out_dir / "data.jsonl").open("w") as fh:
        for e in examples:
            fh.write(json.dumps(asdict(e)) + "\n")


def load_examples(skill_dir: Path) -> list[TrainExample]:
    path = skill_dir / "data.jsonl"
    return [TrainExample(**json.loads(line)) for line in path.open()] if path.is_file() else []


class RoutedModel:
    """A base model with a release's skills attached; routes each task to one skill (never averaged)."""

    def __init__(self, lm: LoadedModel, release: Release | None) -> None:
        self.lm = lm
        self.release = release
        self.router = dict(release.router) if release else {}
        self._peft = None
        if release and release.skills:
            from peft import PeftModel

            from sleepy.adapters.share import peft_folders  # share skills load as reconstructed LoRA factors

            first, *rest = release.skills
            with peft_folders(release) as folders:
                self._peft = PeftModel.from_pretrained(lm.model, str(folders[first.name]), adapter_name=first.name)
                for s in rest:
                    self._peft.load_adapter(str(folders[s.name]), adapter_name=s.name)
            self._peft.eval()
            lm.model = self._peft
            from sleepy.context.prompt import pack_from_prompt
            from sleepy.model.constrain import introduced_names

            for s in release.skills:
                examples = load_examples(release.folder / s.path)
                lm.introduce(introduced_names((pack_from_prompt(e.prompt) or "", e.prompt, e.completion)
                                              for e in examples))

    @property
    def name(self) -> str:
        return self.release.id if self.release else "base"

    @property
    def cache_key(self) -> str:
        """Names these exact weights: a release id (which seals its base hash), or base plus the model hash."""
        from sleepy.model.loader import model_hash

        return self.release.id if self.release else f"base-{model_hash(self.lm.path)}"

    def skill_for(self, signature: str | None) -> str | None:
        """The skill for this signature; ``*`` in the router is a catch-all (the naive baseline only)."""
        if signature and signature in self.router:
            return self.router[signature]
        return self.router.get(ANY)

    @contextmanager
    def using(self, skill: str | None):
        """Generate with one skill's adapter, or with the base weights when ``skill`` is None."""
        if self._peft is None or skill is None:
            if self._peft is None:
                yield
            else:
                with self._peft.disable_adapter():
                    yield
            return
        self._peft.set_adapter(skill)
        yield


def load_release_model(release: Release | None, model_ref: str | None = None, device: str = "auto") -> RoutedModel:
    base = release.base_model if release else model_ref
    return RoutedModel(load_model(base, device, fresh=release is not None), release)


def sample_replay(examples: list[TrainExample], k: int, seed: int) -> list[TrainExample]:
    if k <= 0 or not examples:
        return []
    rng = random.Random(seed)
    picked = rng.sample(examples, min(k, len(examples)))
    return [TrainExample(e.prompt, e.completion, "replay", e.task_id, e.signature) for e in picked]
