"""Share skills end to end: train coefficients on the frozen basis, merge, export as PEFT LoRA.

How a night uses this (items 5-6 of issue 7 wire it; nothing here touches the loop):

* Bootstrap: train LoRA skills as today (``train_lora`` into ``<staging>/skills/<name>``), then
  ``merge_release_folder(staging, skills, config)``: it builds ``<staging>/basis/`` from them and
  rewrites each as a share skill (coefficients only; ``data.jsonl``/``training.json`` stay).
* A share night: copy the production release's skills *and* its basis into the staging folder
  (``copy_basis(production.folder, staging)``), then per cluster
  ``train_share(base, examples, Basis.load(basis_dir(staging)), config, staging / "skills" / name)``
  and record ``SkillInfo(name, "share", signatures, f"skills/{name}", training.trainable_parameters)``.
  A share skill trained without extra vectors lies in the basis already: nothing to merge.
* Merge: when ``should_merge(...)`` says so (``config.merge_policy``: nightly, or when a skill's delta
  lies too far outside the basis), ``merge_release_folder`` reconstructs every skill, adds the raw LoRA
  ones, rebuilds the basis, re-projects every skill analytically and returns the reconstruction error
  per skill. A merge changes old skills: the gate must run again on the merged candidate.
* Serving: ``RoutedModel`` loads share skills through :func:`peft_folders` (reconstructed into PEFT
  LoRA folders in a temporary directory), so routing is unchanged; :func:`export_release` writes a
  release for vLLM/PEFT: ``skills/<name>/`` (PEFT LoRA), ``router.json``, ``base_model.json`` and
  ``base_model.txt``.

Release layout with share skills::

    <release>/basis/basis.safetensors, basis.json, variance.json
    <release>/skills/<name>/share.json, coefficients.safetensors, training.json, data.jsonl   (kind "share")
    <release>/skills/<name>/adapter_config.json, adapter_model.safetensors, ...                (kind "lora")
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sleepy.adapters.lora import SkillTraining, TrainExample, data_hash, fit_adapter, write_skill_records
from sleepy.adapters.registry import Release, SkillInfo
from sleepy.adapters.share.basis import (
    SKILL_META,
    Basis,
    LoraFactors,
    ShareError,
    ShareSkill,
    build_basis,
    is_share_skill,
    load_lora_factors,
    project,
    reconstruct,
    reconstruction_error,
)
from sleepy.adapters.share.config import ShareConfig
from sleepy.files import new_folder, owned_temp_folder
from sleepy.model.loader import load_model
from sleepy.model.training import encode

if TYPE_CHECKING:
    from torch import nn

BASIS_DIR = "basis"  # the release-relative folder of the shared basis
PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")


def basis_dir(folder: Path) -> Path:
    """Where a release (or staging) folder keeps its shared basis."""
    return folder / BASIS_DIR


def copy_basis(src_release: Path, dst_folder: Path) -> bool:
    """Copy a release's basis into a staging folder (next to the skills copied from it); False if it has none."""
    if not (basis_dir(src_release)).is_dir():
        return False
    shutil.copytree(basis_dir(src_release), basis_dir(dst_folder), dirs_exist_ok=True)
    return True


# ---------------------------------------------------------------------------------------------- training
def share_layers(model: nn.Module) -> dict:
    from sleepy.adapters.share.layer import ShareLinear

    return {n: m for n, m in model.named_modules() if isinstance(m, ShareLinear)}


def skill_from_layers(model: nn.Module, basis: Basis, config: ShareConfig) -> ShareSkill:
    """Read the trained coefficients (and extras) out of a model's share layers."""
    from sleepy.adapters.share.basis import module_suffixes

    coefs, extras = {}, {}
    for name, layer in share_layers(model).items():
        coefs[name] = (layer.coef_b.detach().float().cpu(), layer.coef_a.detach().float().cpu())
        if layer.extra_b is not None:
            extras[name] = (layer.extra_b.detach().float().cpu(), layer.extra_a.detach().float().cpu())
    return ShareSkill(config.rank, config.alpha, basis.id, coefs, extras, module_suffixes(coefs), basis.storage_dtype)


def lora_equivalent_parameters(basis: Basis, rank: int = 8) -> int:
    """Trainable parameters of a rank-``rank`` LoRA on the modules the basis covers (the comparison point)."""
    return sum(rank * (b.shape[0] + a.shape[0]) for b, a in basis.modules.values())


def train_share(base_path: str, examples: list[TrainExample], basis: Basis, config: ShareConfig, out_dir: Path,
                on_step: Callable[[int, int, float], None] | None = None) -> SkillTraining:
    """Train one coefficient-only skill on the frozen base and frozen basis; save it as a share skill folder.

    Same prompts, loss (completion tokens only) and batching as ``train_lora``, so the two kinds of
    skill differ only in what is trainable. Writes ``share.json``, ``coefficients.safetensors``,
    ``training.json`` and ``data.jsonl`` (replay reads it with ``load_examples``).
    """
    import torch

    from sleepy.adapters.share.layer import inject

    torch.manual_seed(config.seed)
    lm = load_model(base_path, fresh=True)
    model = lm.model
    model.requires_grad_(False)
    layers = inject(model, basis, config, generator=torch.Generator().manual_seed(config.seed))
    trainable = [p for layer in layers.values() for p in layer.parameters() if p.requires_grad]
    rows = encode(lm.tokenizer, examples, 1024, prompt_weight=0.0)
    began = time.time()
    losses = fit_adapter(model, trainable, rows, lm.tokenizer.pad_token_id, lm.device, config.steps,
                         config.batch_tokens, config.lr, config.seed, on_step)
    skill = skill_from_layers(model, basis, config)
    params = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}
    training = SkillTraining(sum(p.numel() for p in trainable), len(rows), data_hash(examples), losses,
                             round(time.time() - began, 2), params, dict(Counter(e.source for e in examples)))
    skill.save(out_dir, {"lora_rank8_equivalent": lora_equivalent_parameters(basis), "config": params})
    write_skill_records(out_dir, training, examples)
    return training


# ---------------------------------------------------------------------------------------------- merge
@dataclass
class MergeResult:
    """The new basis, every skill re-projected on it, and each skill's reconstruction error against its
    pre-merge factors (``reconstruction_error``: ``delta`` overall, ``delta_max`` worst module)."""

    basis: Basis
    skills: dict[str, ShareSkill]
    errors: dict[str, dict] = field(default_factory=dict)


def merge(basis: Basis | None, skills: Mapping[str, ShareSkill], new_adapters: Mapping[str, LoraFactors],
          config: ShareConfig) -> MergeResult:
    """Reconstruct every share skill (extras included), add the raw adapters, rebuild the basis, re-project all.

    Each skill keeps its own rank and alpha; only its coefficients change. Nothing is averaged: every
    skill is projected on its own, and the errors say how much of each survived.
    """
    clash = sorted(set(skills) & set(new_adapters))
    if clash:
        raise ShareError(f"skill names used twice in a merge: {', '.join(clash)}")
    if skills and basis is None:
        raise ShareError("share skills need the basis their coefficients refer to")
    references = {name: reconstruct(basis, s) for name, s in skills.items()}
    references.update(new_adapters)
    new_basis = build_basis(references, config)
    projected = {name: project(new_basis, f) for name, f in references.items()}
    errors = {name: reconstruction_error(f, reconstruct(new_basis, projected[name])) for name, f in references.items()}
    new_basis.report["reconstruction_error"] = errors
    return MergeResult(new_basis, projected, errors)


def outside_error(basis: Basis, factors: LoraFactors) -> dict:
    """How far a skill's delta lies outside ``basis``: the error of projecting it (0 when the basis spans it)."""
    return reconstruction_error(factors, reconstruct(basis, project(basis, factors)))


def should_merge(config: ShareConfig, basis: Basis | None, skills: Mapping[str, ShareSkill],
                 new_adapters: Mapping[str, LoraFactors]) -> tuple[bool, str]:
    """Apply ``config.merge_policy``: (merge now?, why). Nothing new -> never (a merge would only rotate)."""
    with_extras = sorted(n for n, s in skills.items() if s.extras)
    if basis is None:
        return bool(new_adapters), "no basis yet: build it from the LoRA skills" if new_adapters else "nothing to build"
    if not new_adapters and not with_extras:
        return False, "every skill already lies in the basis"
    if config.merge_policy == "nightly":
        return True, f"nightly merge: {len(new_adapters)} new adapter(s), {len(with_extras)} skill(s) with extras"
    worst: dict[str, float] = {}
    for name, f in new_adapters.items():
        worst[name] = outside_error(basis, f)["delta"] if set(f.factors) <= set(basis.modules) else 1.0
    for name in with_extras:
        worst[name] = outside_error(basis, reconstruct(basis, skills[name]))["delta"]
    name, err = max(worst.items(), key=lambda kv: kv[1])
    if err > config.merge_max_error:
        return True, f"{name} lies {err:.3f} outside the basis (> {config.merge_max_error})"
    return False, f"worst skill {name} lies {err:.3f} outside the basis (<= {config.merge_max_error})"


def read_skills(folder: Path, skills: list[SkillInfo]) -> tuple[Basis | None, dict[str, ShareSkill],
                                                                  dict[str, LoraFactors]]:
    """A release or staging folder's basis, its share skills and its raw LoRA skills."""
    basis = Basis.load(basis_dir(folder)) if (basis_dir(folder) / "basis.safetensors").is_file() else None
    share, lora = {}, {}
    for s in skills:
        path = folder / s.path
        if is_share_skill(path):
            if basis is None:
                raise ShareError(f"share skill {s.name} but no basis in {folder}")
            share[s.name] = ShareSkill.load(path, basis)
        else:
            lora[s.name] = load_lora_factors(path)
    return basis, share, lora


@dataclass
class MergeReport:
    basis_id: str
    skills: list[SkillInfo]  # updated: every skill now kind "share"
    errors: dict[str, dict]
    variance: dict


def merge_release_folder(folder: Path, skills: list[SkillInfo], config: ShareConfig) -> MergeReport:
    """Merge in place in a staging folder: new ``basis/``, every skill rewritten as a share skill.

    LoRA skill folders lose their adapter files (their ``data.jsonl`` and ``training.json`` stay);
    each ``share.json`` records the skill's reconstruction error. Returns the updated ``SkillInfo``
    list for ``Registry.create``. Never call it on a sealed release: releases are immutable.
    """
    basis, share, lora = read_skills(folder, skills)
    result = merge(basis, share, lora, config)
    target = basis_dir(folder)
    if target.exists():
        shutil.rmtree(target)
    result.basis.save(target)
    updated = []
    for s in skills:
        path = folder / s.path
        skill = result.skills[s.name]
        origin = "lora" if s.name in lora else "share"
        for name in (*PEFT_FILES, "README.md"):  # the LoRA files (and PEFT's model card) no longer describe it
            (path / name).unlink(missing_ok=True)
        previous = json.loads((path / SKILL_META).read_text()) if (path / SKILL_META).is_file() else {}
        manifest = {k: v for k, v in previous.items() if k in ("config", "lora_rank8_equivalent")}
        manifest.update({"merged_from": origin, "reconstruction_error": result.errors[s.name]})
        manifest.setdefault("lora_rank8_equivalent", lora_equivalent_parameters(result.basis))
        skill.save(path, manifest)
        updated.append(SkillInfo(s.name, "share", list(s.signatures), s.path, skill.trainable_parameters(),
                                 {**s.manifest, "reconstruction_error": result.errors[s.name]}))
    return MergeReport(result.basis.id, updated, result.errors, result.basis.report.get("summary", {}))


def average_skills(adapters: Mapping[str, LoraFactors]) -> LoraFactors:
    """One LoRA whose delta is exactly the mean of the skills' deltas: ΔW = (1/n) Σ s_i B_i A_i.

    The Share-averaged baseline of the forgetting benchmark. Averaging the factors separately would be
    wrong (the mean of products is not the product of means); stacking them is exact:
    ``[B_1 ... B_n] @ [A_1; ...; A_n] = Σ B_i A_i``, with each skill's scaling and the 1/n folded into its B.
    """
    import torch

    if not adapters:
        raise ShareError("no skills to average")
    n = len(adapters)
    modules = sorted({m for f in adapters.values() for m in f.factors})
    rank = sum(f.rank for f in adapters.values())
    factors = {}
    for m in modules:
        bs, as_ = [], []
        for f in adapters.values():
            if m in f.factors:
                b, a = f.factors[m]
            else:  # a skill that leaves this module alone contributes zero
                out_dim, in_dim = next((g.factors[m][0].shape[0], g.factors[m][1].shape[1])
                                       for g in adapters.values() if m in g.factors)
                b, a = torch.zeros(out_dim, f.rank), torch.zeros(f.rank, in_dim)
            bs.append(b.float() * (f.scaling / n))
            as_.append(a.float())
        factors[m] = (torch.cat(bs, dim=1), torch.cat(as_, dim=0))
    targets = tuple(sorted({t for f in adapters.values() for t in f.target_modules}))
    return LoraFactors(rank=rank, alpha=float(rank), factors=factors, target_modules=targets)  # scaling 1


# ---------------------------------------------------------------------------------------------- export
def write_peft(factors: LoraFactors, out_dir: Path, base_model: str | None = None) -> Path:
    """Write plain LoRA factors as a standard PEFT folder (``adapter_config.json`` + ``adapter_model.safetensors``).

    ``target_modules`` are the short module names, as ``train_lora`` writes them (what vLLM expects);
    a matching module without factors here gets PEFT's zero-initialised B, i.e. no change.
    """
    from peft import LoraConfig
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    alpha = int(factors.alpha) if float(factors.alpha).is_integer() else factors.alpha
    cfg = LoraConfig(r=factors.rank, lora_alpha=alpha, target_modules=list(factors.target_modules),
                     lora_dropout=0.0, bias="none", base_model_name_or_path=base_model)
    cfg.save_pretrained(str(out_dir))
    tensors = {}
    for module, (b, a) in sorted(factors.factors.items()):
        tensors[f"base_model.model.{module}.lora_A.weight"] = a.float().contiguous()
        tensors[f"base_model.model.{module}.lora_B.weight"] = b.float().contiguous()
    save_file(tensors, str(out_dir / "adapter_model.safetensors"), metadata={"format": "pt"})
    return out_dir


def export_skill(folder: Path, skill: SkillInfo, out_dir: Path, base_model: str | None = None) -> Path:
    """One skill of a release (or staging) folder as a PEFT LoRA folder: LoRA files copied byte for byte,
    share skills reconstructed from the folder's basis."""
    src = folder / skill.path
    out_dir.mkdir(parents=True, exist_ok=True)
    if not is_share_skill(src):
        for name in PEFT_FILES:
            shutil.copy2(src / name, out_dir / name)
        return out_dir
    basis = Basis.load(basis_dir(folder))
    return write_peft(reconstruct(basis, ShareSkill.load(src, basis)), out_dir, base_model)


def export_release(release: Release, out_dir: Path) -> dict:
    """Every skill of ``release`` as a PEFT folder under ``out_dir/skills/<name>/``, plus the routing table
    (``router.json``) and the base model (``base_model.json``, ``base_model.txt``): what a vLLM or PEFT
    deployment needs, with no sleepy code. Returns the ``router.json`` content.

    ``out_dir`` must not exist: the folder is written whole under a temporary name and renamed at the end."""
    with new_folder(out_dir) as tmp:
        return _export_release_into(release, tmp, out_dir)


def _export_release_into(release: Release, out_dir: Path, final_dir: Path) -> dict:
    skills = {}
    for s in release.skills:
        export_skill(release.folder, s, out_dir / "skills" / s.name, release.base_model)
        skills[s.name] = {"path": f"skills/{s.name}", "kind": s.kind, "signatures": s.signatures}
    router = {"release": release.id, "router": release.router, "skills": skills,
              "note": "one skill per task by signature ('*' = every task); unrouted tasks use the base model"}
    (out_dir / "router.json").write_text(json.dumps(router, indent=2, sort_keys=True))
    base = {"base_model": release.base_model, "base_hash": release.base_hash, "release": release.id}
    (out_dir / "base_model.json").write_text(json.dumps(base, indent=2, sort_keys=True))
    (out_dir / "base_model.txt").write_text(release.base_model + "\n")
    modules = " ".join(f"{name}={(final_dir / 'skills' / name).resolve()}" for name in skills)
    (out_dir / "README.md").write_text(
        f"# sleepy release {release.id}\n\nEvery skill is a standard PEFT LoRA adapter in `skills/<name>/`; "
        "`router.json` maps error signatures to skills (route one skill per request, never mix them).\n\n"
        "Serve them all on one base model with vLLM's multi-LoRA:\n\n"
        f"```\nvllm serve {release.base_model} --enable-lora --max-lora-rank 64 \\\n"
        f"    --lora-modules {modules or 'NAME=PATH'}\n```\n\n"
        "then ask for a skill by its name as the `model` of a request. With PEFT:\n\n"
        "```python\nfrom peft import PeftModel\nfrom transformers import AutoModelForCausalLM\n\n"
        f"base = AutoModelForCausalLM.from_pretrained({release.base_model!r})\n"
        "model = PeftModel.from_pretrained(base, 'skills/NAME')\n```\n")
    return router


@contextmanager
def peft_folders(release: Release) -> Iterator[dict[str, Path]]:
    """Skill name -> a PEFT LoRA folder, for loading a release with ``PeftModel``; valid inside the block.

    LoRA skills point at their release folder; share skills are reconstructed into a temporary
    directory removed on exit (PEFT has read the weights by then), so nothing is cached that could
    drift from the sealed release.
    """
    tmp = None
    try:
        out: dict[str, Path] = {}
        for s in release.skills:
            src = release.folder / s.path
            if is_share_skill(src):
                tmp = tmp or owned_temp_folder("sleepy-share-")  # a kill here: the next start removes it
                out[s.name] = export_skill(release.folder, s, tmp / s.name, release.base_model)
            else:
                out[s.name] = src
        yield out
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

