"""Shared-subspace skills on the micro model: basis, coefficient-only training, merge, PEFT export, routing."""

import json
from pathlib import Path

import pytest
import torch

from sleepy.adapters.lora import LoraParams, RoutedModel, TrainExample, load_release_model, train_lora
from sleepy.adapters.registry import Registry, SkillInfo
from sleepy.adapters.share import (
    Basis,
    LoraFactors,
    ShareConfig,
    ShareError,
    ShareSkill,
    basis_dir,
    build_basis,
    export_release,
    export_skill,
    load_lora_factors,
    lora_equivalent_parameters,
    merge,
    merge_release_folder,
    project,
    reconstruct,
    reconstruction_error,
    should_merge,
    train_share,
    write_peft,
)
from sleepy.adapters.share.layer import inject
from sleepy.model.loader import load_model
from sleepy.model.training import collate, encode, weighted_loss

RANK = 4


def _examples(root: Path, start: int, n: int) -> list[TrainExample]:
    rows = [json.loads(line) for line in (root / "work" / "data.jsonl").open()]
    return [TrainExample(r["prompt"], r["completion"], "reference") for r in rows[start:start + n]]


@pytest.fixture(scope="module")
def loras(micro, tmp_path_factory):
    """Three rank-4 LoRA skills trained a few steps each on different examples: (model dir, {name: folder})."""
    root, _ = micro
    out = tmp_path_factory.mktemp("share-loras")
    folders = {}
    for i in range(3):
        folders[f"l{i}"] = out / f"l{i}"
        train_lora(str(root / "model"), _examples(root, 3 * i, 3), LoraParams(rank=RANK, alpha=8, steps=3, seed=i),
                   folders[f"l{i}"])
    return root, folders


@pytest.fixture(scope="module")
def factors(loras):
    _, folders = loras
    return {name: load_lora_factors(path) for name, path in folders.items()}


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def _ids(root):
    lm = load_model(str(root / "model"))
    return torch.tensor([lm.tokenizer("fn main() { let x = 1; }")["input_ids"]])


# ---------------------------------------------------------------------------------------------- basis
def test_basis_shapes_orthonormal_with_a_variance_report(factors, tmp_path):
    basis = build_basis(factors, ShareConfig(k=5))
    assert len(basis.modules) == 14  # 7 target modules x 2 layers
    for module, (ub, ua) in basis.modules.items():
        b, a = factors["l0"].factors[module]
        assert ub.shape == (b.shape[0], 5) and ua.shape == (a.shape[1], 5)
        for u in (ub, ua):
            assert torch.allclose(u.T @ u, torch.eye(5), atol=1e-5)
        for side in ("B", "A"):
            rep = basis.report["modules"][module][side]
            assert rep["columns"] == 3 * RANK and rep["k"] == 5
            assert rep["explained"] == sorted(rep["explained"], reverse=True) and sum(rep["explained"]) <= 1 + 1e-4
            assert rep["explained_at_k"] == pytest.approx(sum(rep["explained"][:5]), abs=1e-5)
    # explained variance: the smallest k reaching the threshold, within the bounds
    ev = build_basis(factors, ShareConfig(explained_variance=0.6, k_min=2, k_max=6))
    for rep in (s for m in ev.report["modules"].values() for s in m.values()):
        k = rep["k"]
        assert 2 <= k <= 6
        assert rep["explained_at_k"] >= 0.6 - 1e-6 or k == 6
        assert k == 2 or sum(rep["explained"][:k - 1]) < 0.6
    # storage: safetensors + JSON, same id and report after a round trip; a changed tensor is refused
    basis.save(tmp_path / "basis")
    again = Basis.load(tmp_path / "basis")
    assert again.id == basis.id and again.report == json.loads(json.dumps(basis.report))
    assert json.loads((tmp_path / "basis" / "variance.json").read_text())["summary"]["modules"] == 14
    meta = json.loads((tmp_path / "basis" / "basis.json").read_text())
    meta["id"] = "0" * 16
    (tmp_path / "basis" / "basis.json").write_text(json.dumps(meta))
    with pytest.raises(ShareError, match="does not match"):
        Basis.load(tmp_path / "basis")


def test_projection_is_exact_when_the_basis_spans_the_skills(factors):
    spanning = build_basis(factors, ShareConfig(k=3 * RANK))  # 11 centred directions + the mean's residual
    small = build_basis(factors, ShareConfig(k=2))
    for f in factors.values():
        exact = reconstruction_error(f, reconstruct(spanning, project(spanning, f)))
        assert exact["delta"] < 1e-5 and exact["B"] < 1e-5 and exact["A"] < 1e-5
        lossy = reconstruction_error(f, reconstruct(small, project(small, f)))
        assert 0.05 < lossy["delta"] <= lossy["delta_max"] <= 1.0 + 1e-6
    # the trace formula agrees with the explicit weight deltas
    f = factors["l1"]
    g = reconstruct(small, project(small, f))
    num = sum(((f.delta(m) - g.delta(m)) ** 2).sum() for m in f.factors)
    den = sum((f.delta(m) ** 2).sum() for m in f.factors)
    assert reconstruction_error(f, g)["delta"] == pytest.approx(float((num / den) ** 0.5), rel=1e-4)


def test_half_precision_storage_halves_the_files_and_keeps_what_was_evaluated(factors, tmp_path):
    """float16 files: half the bytes, the same id and tensors after a load, and spanned deltas still come back."""
    full = build_basis(factors, ShareConfig(k=3 * RANK))
    half = build_basis(factors, ShareConfig(k=3 * RANK, storage_dtype="float16"))
    full.save(tmp_path / "full")
    half.save(tmp_path / "half")
    size = {n: (tmp_path / n / "basis.safetensors").stat().st_size for n in ("full", "half")}
    assert size["half"] < 0.52 * size["full"]
    again = Basis.load(tmp_path / "half")
    assert again.id == half.id and again.storage_dtype == "float16"
    assert all(torch.equal(again.modules[m][0], half.modules[m][0]) for m in half.modules)
    for name, f in factors.items():
        skill = project(half, f)
        err = reconstruction_error(f, reconstruct(half, skill))
        assert err["delta"] < 2e-3  # fp16 rounding of basis and coefficients only
        skill.save(tmp_path / name)
        loaded = ShareSkill.load(tmp_path / name, again)
        assert loaded.storage_dtype == "float16"
        assert all(torch.equal(loaded.coefficients[m][i], skill.coefficients[m][i])
                   for m in skill.coefficients for i in (0, 1))
    with pytest.raises(ValueError, match="storage_dtype"):
        ShareConfig(storage_dtype="int8")


def test_synthetic_subspace_and_a_single_rank_one_skill():
    """Skills drawn from a known 3-dim subspace are spanned exactly by k=3; one rank-1 skill is its own mean."""
    g = torch.Generator().manual_seed(0)
    q_out, _ = torch.linalg.qr(torch.randn(40, 3, generator=g))
    q_in, _ = torch.linalg.qr(torch.randn(30, 3, generator=g))
    skills = {f"s{i}": LoraFactors(2, 4.0, {"m.lin": (q_out @ torch.randn(3, 2, generator=g),
                                                      (q_in @ torch.randn(3, 2, generator=g)).T)}) for i in range(4)}
    basis = build_basis(skills, ShareConfig(k=6))
    ub, ua = basis.modules["m.lin"]
    assert ub.shape[1] == ua.shape[1] == 3  # capped at the directions the data holds
    for f in skills.values():
        assert reconstruction_error(f, reconstruct(basis, project(basis, f)))["delta"] < 1e-5
    one = {"x": LoraFactors(1, 1.0, {"m.lin": (torch.randn(40, 1, generator=g), torch.randn(1, 30, generator=g))})}
    b1 = build_basis(one, ShareConfig(k=4))
    assert b1.report["modules"]["m.lin"]["B"]["mean_direction"] and b1.modules["m.lin"][0].shape == (40, 1)
    assert reconstruction_error(one["x"], reconstruct(b1, project(b1, one["x"])))["delta"] < 1e-5
    untrained = LoraFactors(1, 1.0, {**one["x"].factors, "m.other": (torch.zeros(5, 1), torch.randn(1, 5))})
    assert set(project(b1, untrained).coefficients) == {"m.lin"}  # a zero delta needs no basis
    untrained.factors["m.other"] = (torch.ones(5, 1), torch.ones(1, 5))
    with pytest.raises(ShareError, match="not in the basis"):
        project(b1, untrained)


def test_config_refuses_a_zero_initialisation():
    with pytest.raises(ValueError, match="zero"):
        ShareConfig(init_scale_b=0.0)
    with pytest.raises(ValueError):
        ShareConfig(explained_variance=1.5)


# ---------------------------------------------------------------------------------------------- training
def test_every_coefficient_tensor_gets_a_gradient_on_the_first_step(loras, factors):
    root, _ = loras
    basis = build_basis(factors, ShareConfig(k=6))
    lm = load_model(str(root / "model"), fresh=True)
    lm.model.requires_grad_(False)
    layers = inject(lm.model, basis, ShareConfig(rank=2, alpha=4, extra_vectors=2),
                    generator=torch.Generator().manual_seed(0))
    assert len(layers) == 14
    rows = encode(lm.tokenizer, _examples(root, 0, 2), 1024, prompt_weight=0.0)
    ids, mask, weights = collate(rows, [0, 1], lm.tokenizer.pad_token_id)
    weighted_loss(lm.model, ids, mask, weights).backward()
    named = [(f"{n}.{p}", t) for n, layer in layers.items() for p, t in layer.named_parameters() if t.requires_grad]
    assert {n.rsplit(".", 1)[-1] for n, _ in named} == {"coef_b", "coef_a", "extra_b", "extra_a"}
    assert len(named) == 4 * 14
    for name, t in named:
        assert t.grad is not None and t.grad.abs().sum() > 0, name
    assert all(p.grad is None for n, p in lm.model.named_parameters() if ".base." in n or "embed" in n)
    for layer in layers.values():  # extra vectors start outside the basis, unit length
        assert torch.allclose(layer.basis_b.T @ layer.extra_b, torch.zeros(6, 2), atol=1e-5)
        assert torch.allclose(layer.extra_b.norm(dim=0), torch.ones(2), atol=1e-5)


@pytest.fixture(scope="module")
def trained(loras, factors, tmp_path_factory):
    """A share skill trained on a basis of l0, l1 (k=8): (basis, training, folder)."""
    root, _ = loras
    basis = build_basis({n: factors[n] for n in ("l0", "l1")}, ShareConfig(k=8))
    folder = tmp_path_factory.mktemp("share-skill") / "s"
    cfg = ShareConfig(k=8, rank=1, alpha=2, extra_vectors=1, steps=5, lr=3e-2)
    training = train_share(str(root / "model"), _examples(root, 20, 3), basis, cfg, folder)
    return basis, training, folder


def test_training_lowers_loss_with_orders_of_magnitude_fewer_parameters(trained, factors):
    basis, training, folder = trained
    assert training.losses[-1] < training.losses[0]
    skill = ShareSkill.load(folder, basis)
    assert skill.extra_vectors == 1 and skill.trainable_parameters() == training.trainable_parameters
    meta = json.loads((folder / "share.json").read_text())
    assert meta["kind"] == "share" and meta["basis_id"] == basis.id and (folder / "data.jsonl").is_file()
    coefficient_only = sum(cb.numel() + ca.numel() for cb, ca in skill.coefficients.values())
    lora8 = lora_equivalent_parameters(basis, rank=8)
    assert coefficient_only == 14 * (9 + 9) * 1 and lora8 == 16384
    assert coefficient_only * 50 < lora8  # 252 vs 16384 on the micro model (65x; larger models: far more)
    other = build_basis({"l2": factors["l2"]}, ShareConfig(k=2))
    with pytest.raises(ShareError, match="re-project"):
        ShareSkill.load(folder, other)


# ---------------------------------------------------------------------------------------------- merge
def test_merge_reprojects_every_skill_and_reports_its_error(trained, factors):
    basis, _, folder = trained
    skill = ShareSkill.load(folder, basis)
    roomy = merge(basis, {"s": skill}, {"l2": factors["l2"]}, ShareConfig(k=8))  # 1 + 4 columns: spanned
    assert set(roomy.errors) == {"s", "l2"} and all(e["delta"] < 1e-5 for e in roomy.errors.values())
    assert all(s.basis_id == roomy.basis.id and not s.extras for s in roomy.skills.values())
    assert roomy.basis.report["reconstruction_error"] == roomy.errors
    before = reconstruct(basis, skill)  # the extras are folded into the new basis: same delta
    assert reconstruction_error(before, reconstruct(roomy.basis, roomy.skills["s"]))["delta"] < 1e-5
    tight = merge(basis, {"s": skill}, {"l2": factors["l2"]}, ShareConfig(k=1))
    assert max(e["delta"] for e in tight.errors.values()) > 0.05  # reported, not hidden
    with pytest.raises(ShareError, match="twice"):
        merge(basis, {"s": skill}, {"s": factors["l2"]}, ShareConfig())
    assert should_merge(ShareConfig(), basis, {"s": skill}, {})[0]  # extras: nightly merge
    assert not should_merge(ShareConfig(), roomy.basis, roomy.skills, {})[0]
    on_error = ShareConfig(merge_policy="on_error", merge_max_error=0.05)
    assert not should_merge(on_error, roomy.basis, roomy.skills, {"l2": factors["l2"]})[0]  # already spanned
    assert should_merge(on_error, tight.basis, tight.skills, {"l0": factors["l0"]})[0]


# ---------------------------------------------------------------------------------------------- export
def test_peft_export_round_trip_gives_the_share_layer_outputs(loras, trained, tmp_path):
    from peft import PeftModel

    root, _ = loras
    basis, _, folder = trained
    skill = ShareSkill.load(folder, basis)
    g = torch.Generator().manual_seed(1)  # a large delta, so "same outputs" is a strong claim
    skill.coefficients = {m: (torch.randn(cb.shape, generator=g) * 0.5, torch.randn(ca.shape, generator=g))
                          for m, (cb, ca) in skill.coefficients.items()}
    ids = _ids(root)
    base = _logits(load_model(str(root / "model"), fresh=True).model, ids)
    ours = load_model(str(root / "model"), fresh=True).model
    inject(ours, basis, ShareConfig(), skill=skill)
    share_logits = _logits(ours, ids)
    write_peft(reconstruct(basis, skill), tmp_path / "peft", str(root / "model"))
    assert {p.name for p in (tmp_path / "peft").iterdir()} == {"adapter_config.json", "adapter_model.safetensors"}
    peft_model = PeftModel.from_pretrained(load_model(str(root / "model"), fresh=True).model, str(tmp_path / "peft"))
    peft_logits = _logits(peft_model, ids)
    assert (share_logits - base).abs().max() > 0.05
    assert torch.allclose(share_logits, peft_logits, atol=1e-4, rtol=1e-4)
    cfg = json.loads((tmp_path / "peft" / "adapter_config.json").read_text())
    assert cfg["peft_type"] == "LORA" and cfg["r"] == 1 and cfg["lora_alpha"] == 2


@pytest.fixture(scope="module")
def release(loras, trained, tmp_path_factory):
    """A sealed release: LoRA skill l2 routed to one signature, the trained share skill (plus basis) to another."""
    import shutil

    root, folders = loras
    basis, training, folder = trained
    work = tmp_path_factory.mktemp("share-release")
    staging = work / "staging"
    shutil.copytree(folders["l2"], staging / "skills" / "l2")
    shutil.copytree(folder, staging / "skills" / "fix")
    basis.save(basis_dir(staging))
    skills = [SkillInfo("l2", "lora", ["rust:E0308:x"], "skills/l2", 8192),
              SkillInfo("fix", "share", ["rust:E0382:y"], "skills/fix", training.trainable_parameters)]
    reg = Registry(work / "registry")
    return reg.create(staging, str(root / "model"), "hash", {"rust:E0308:x": "l2", "rust:E0382:y": "fix"}, skills,
                      None)


def test_export_release_writes_peft_folders_router_and_base(release, tmp_path):
    from peft import PeftModel

    router = export_release(release, tmp_path / "out")
    lora_src = release.folder / "skills" / "l2"
    for name in ("adapter_config.json", "adapter_model.safetensors"):  # a LoRA skill is exported unchanged
        assert (tmp_path / "out" / "skills" / "l2" / name).read_bytes() == (lora_src / name).read_bytes()
    assert router["router"] == release.router and router["skills"]["fix"]["path"] == "skills/fix"
    assert json.loads((tmp_path / "out" / "router.json").read_text()) == router
    assert (tmp_path / "out" / "base_model.txt").read_text().strip() == release.base_model
    assert json.loads((tmp_path / "out" / "base_model.json").read_text())["release"] == release.id
    exported = tmp_path / "out" / "skills" / "fix"
    PeftModel.from_pretrained(load_model(release.base_model, fresh=True).model, str(exported))
    export_skill(release.folder, release.skill("fix"), tmp_path / "one")
    assert (tmp_path / "one" / "adapter_model.safetensors").is_file()


def test_routed_model_routes_to_a_share_skill(release, trained):
    basis, _, folder = trained
    routed = load_release_model(release)
    assert routed.skill_for("rust:E0382:y") == "fix" and routed.skill_for("rust:E0308:x") == "l2"
    ids = _ids(Path(release.base_model).parent)
    with routed.using(None):
        base = _logits(routed.lm.model, ids)
    with routed.using("fix"):
        fix = _logits(routed.lm.model, ids)
    with routed.using("l2"):
        l2 = _logits(routed.lm.model, ids)
    assert (fix - base).abs().max() > 1e-2 and (fix - l2).abs().max() > 1e-2  # routed, not averaged
    ours = load_model(release.base_model, fresh=True).model  # the routed share skill is exactly our layer
    inject(ours, basis, ShareConfig(), skill=ShareSkill.load(folder, basis))
    assert torch.allclose(fix, _logits(ours, ids), atol=1e-5)
    assert isinstance(routed, RoutedModel)


def test_merge_release_folder_turns_every_skill_into_a_share_skill(release, tmp_path):
    import shutil

    staging = tmp_path / "staging"
    shutil.copytree(release.folder, staging)
    report = merge_release_folder(staging, release.skills, ShareConfig(k=8))
    assert {s.kind for s in report.skills} == {"share"} and set(report.errors) == {"l2", "fix"}
    assert not (staging / "skills" / "l2" / "adapter_model.safetensors").exists()
    basis = Basis.load(basis_dir(staging))
    assert basis.id == report.basis_id
    for s in report.skills:
        meta = json.loads((staging / s.path / "share.json").read_text())
        assert meta["basis_id"] == basis.id and "delta" in meta["reconstruction_error"]
        assert s.trainable_parameters == ShareSkill.load(staging / s.path, basis).trainable_parameters()
    assert report.errors["fix"]["delta"] < 1e-5 and report.errors["l2"]["delta"] < 1e-5  # 1 + 4 columns, k=8


def test_average_skills_is_the_exact_mean_of_deltas_not_of_factors():
    import torch

    from sleepy.adapters.share import LoraFactors, average_skills

    g = torch.Generator().manual_seed(0)
    m = "model.layers.0.self_attn.q_proj"
    skills = {f"s{i}": LoraFactors(rank=r, alpha=alpha, factors={m: (torch.randn(6, r, generator=g),
                                                                     torch.randn(r, 5, generator=g))},
                                   target_modules=("q_proj",))
              for i, (r, alpha) in enumerate([(2, 4.0), (3, 3.0), (1, 8.0)])}
    mean = average_skills(skills)
    expected = sum(f.delta(m) for f in skills.values()) / len(skills)
    assert mean.rank == 6 and torch.allclose(mean.delta(m), expected, atol=1e-4)
    b_mean = sum(f.factors[m][0][:, :1] for f in skills.values()) / 3  # what averaging factors would give
    a_mean = sum(f.factors[m][1][:1] for f in skills.values()) / 3
    assert not torch.allclose((b_mean @ a_mean).double(), expected, atol=1e-2)


def test_gguf_export_carries_a_share_skill_as_the_lora_it_reconstructs(release, tmp_path):
    """A share skill has no LoRA files of its own: the GGUF adapter holds the factors its PEFT export holds."""
    import numpy as np
    from gguf import GGUFReader
    from safetensors.numpy import load_file

    from sleepy.adapters.gguf import export_gguf

    export_gguf(release, release.base_model, tmp_path / "gguf", dtype="f32")
    peft = export_skill(release.folder, next(s for s in release.skills if s.name == "fix"), tmp_path / "peft")
    factors = load_file(str(peft / "adapter_model.safetensors"))
    reader = GGUFReader(str(tmp_path / "gguf" / "skills" / "fix" / "adapter.gguf"))
    tensors = {t.name: np.array(t.data).reshape(tuple(reversed(t.shape.tolist()))) for t in reader.tensors}
    v_a = factors["base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight"]
    assert np.allclose(tensors["blk.0.attn_v.weight.lora_a"], v_a)
    assert len(tensors) == 2 * sum(k.endswith("lora_A.weight") for k in factors)
