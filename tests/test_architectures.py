"""Architectures, proven one by one: each causal-LM family goes through sleepy's whole skill path.

Every model here is tiny (2 layers, hidden 64), random-initialised from transformers' own config class and
saved to a local folder with a tokenizer trained here (byte-level BPE; a SentencePiece-style Unigram one for
Gemma 2; a ChatML chat template for Qwen2), because nothing can be downloaded. For each: it loads through
the loader (``--model PATH``), the chat template is used where there is one, constrained decoding works or is
switched off with a logged reason, the LoRA targets are the architecture's own, a LoRA skill trains, a Share
basis builds and a share skill trains on it, the PEFT export reloads with ``PeftModel.from_pretrained`` to the
same logits, and the gate runs on a handful of Python tasks.
"""

from __future__ import annotations

import json
import logging
import shutil
import string
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

from sleepy.adapters.lora import LoraParams, TrainExample, load_release_model, train_lora
from sleepy.adapters.registry import Registry, SkillInfo
from sleepy.adapters.share import Basis, ShareConfig, ShareSkill, basis_dir, export_release, merge_release_folder
from sleepy.adapters.share import train_share as train_share_skill
from sleepy.adapters.share.layer import inject
from sleepy.model.architecture import NoTargets, lora_targets
from sleepy.model.constrain import allowed_for, decode_problem, token_table
from sleepy.model.generation import GenerationConfig, generate
from sleepy.model.loader import load_model, model_hash

LLAMA_NAMES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
VOCAB = 600
STEPS = 2  # training steps of every skill: the path is under test here, not what it learns
POSITIONS = 2048


@dataclass(frozen=True)
class Spec:
    """One architecture: its config class and sizes, its tokenizer kind and the projections LoRA must find."""

    model_type: str  # transformers' name for the config class (LlamaConfig: "llama")
    targets: tuple[str, ...]
    sizes: dict = field(default_factory=dict)
    tokenizer: str = "bpe"  # bpe (byte-level) | unigram (SentencePiece-style) | chatml (byte-level + template)


LLAMA_SIZES = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
               "num_key_value_heads": 2, "max_position_embeddings": POSITIONS}
SPECS = {
    "llama": Spec("llama", LLAMA_NAMES, LLAMA_SIZES),
    "qwen2": Spec("qwen2", LLAMA_NAMES, LLAMA_SIZES, tokenizer="chatml"),
    "qwen3": Spec("qwen3", LLAMA_NAMES, LLAMA_SIZES | {"head_dim": 16}),
    "mistral": Spec("mistral", LLAMA_NAMES, LLAMA_SIZES | {"head_dim": 16}),
    "phi3": Spec("phi3", ("qkv_proj", "o_proj", "gate_up_proj", "down_proj"), LLAMA_SIZES),
    "gemma2": Spec("gemma2", LLAMA_NAMES, LLAMA_SIZES | {"head_dim": 16, "query_pre_attn_scalar": 16},
                   tokenizer="unigram"),
    "gpt2": Spec("gpt2", ("c_attn", "c_proj", "c_fc"),
                 {"n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": POSITIONS}),
    "gpt_neox": Spec("gpt_neox", ("query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"),
                     {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                      "max_position_embeddings": POSITIONS}),
    "starcoder2": Spec("starcoder2", ("q_proj", "k_proj", "v_proj", "o_proj", "c_fc", "c_proj"), LLAMA_SIZES),
}
ARCHS = [a for a, s in SPECS.items() if s.model_type in CONFIG_MAPPING_NAMES]  # those this transformers has


# ---------------------------------------------------------------------------------------------- tokenizers
def bpe_tokenizer(texts: list[str], specials: dict[str, str], bos: bool):
    """Byte-level BPE (GPT-2, Llama 3, Qwen style): every token decodes exactly on its own."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    names = [t for v in specials.values() for t in ([v] if isinstance(v, str) else v)]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=names, show_progress=False,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if bos:
        first = specials["bos_token"]
        tok.post_processor = processors.TemplateProcessing(single=f"{first} $A",
                                                           special_tokens=[(first, tok.token_to_id(first))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=POSITIONS, **specials)


def unigram_tokenizer(texts: list[str]):
    """A SentencePiece-style Unigram tokenizer (Llama 2 / Gemma): '▁' marks spaces, the first one is dropped
    when decoding, so a token decoded alone loses its leading space."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"}
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    tok.train_from_iterator(texts, trainers.UnigramTrainer(vocab_size=VOCAB, special_tokens=list(specials.values()),
                                                           unk_token="<unk>", show_progress=False,
                                                           initial_alphabet=list(string.printable)))
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=POSITIONS, **specials)


def build_tokenizer(kind: str, texts: list[str]):
    if kind == "unigram":
        return unigram_tokenizer(texts)
    if kind == "chatml":  # Qwen-style: no BOS, <|im_end|> ends a turn
        tok = bpe_tokenizer(texts, {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
                                    "extra_special_tokens": ["<|im_start|>"]}, bos=False)
        tok.chat_template = CHATML
        return tok
    specials = {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "pad_token": "<|pad|>", "unk_token": "<|unk|>"}
    return bpe_tokenizer(texts, specials, bos=True)


# ---------------------------------------------------------------------------------------------- models
@dataclass
class Built:
    arch: str
    path: str


def build_model(arch: str, tokenizer, folder: Path) -> Built:
    """The architecture's own config class, random weights, saved with its tokenizer as a model folder."""
    from transformers import AutoConfig, AutoModelForCausalLM

    spec = SPECS[arch]
    ids = {k: tokenizer.convert_tokens_to_ids(getattr(tokenizer, k.replace("_id", ""))) for k in
           ("bos_token_id", "eos_token_id", "pad_token_id") if getattr(tokenizer, k.replace("_id", ""), None)}
    config = AutoConfig.for_model(spec.model_type, vocab_size=len(tokenizer), **spec.sizes, **ids)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return Built(arch, str(folder))


@pytest.fixture(scope="module")
def examples() -> list[TrainExample]:
    """Verified repairs of generated Python tasks, as the night trains on them (prompt + reference edit)."""
    from sleepy.context.prompt import ContextBuilder
    from sleepy.model.pretrain import KNOWN_FAMILIES, example_for
    from sleepy.tasks.packs import get_pack
    from sleepy.tasks.verify import verify_many

    pack = get_pack("python")
    tasks = [pack.generate(fam, 41_000_000) for fam in KNOWN_FAMILIES["python"]]
    builder = ContextBuilder(budget=900)
    found = [(t, r.primary) for t, r in zip(tasks, verify_many([(t, None) for t in tasks], jobs=2), strict=True)
             if r.primary is not None]
    rows = [example_for(t, d, builder, None) for t, d in found]
    assert len(rows) >= 3, "three skills need three verified repairs"
    return [TrainExample(e.prompt, e.completion, "reference", e.task_id, e.signature) for e in rows]


@pytest.fixture(scope="module")
def corpus(examples) -> list[str]:
    from sleepy.tasks.packs import get_pack

    return [e.prompt + e.completion for e in examples] + [t.source for t in get_pack("python").frozen()]


@pytest.fixture(scope="module", params=ARCHS)
def built(request, corpus, tmp_path_factory) -> Built:
    """One tiny model per architecture, built once for the module."""
    arch = request.param
    tokenizer = build_tokenizer(SPECS[arch].tokenizer, corpus)
    return build_model(arch, tokenizer, tmp_path_factory.mktemp(f"arch-{arch}") / "model")


@dataclass
class Night:
    """What a night leaves for one architecture: LoRA skills, a Share basis built from them, a share skill trained
    on it, all sealed in a release (share skills ``l0``, ``l1``, ``fix``; LoRA skill ``raw``)."""

    built: Built
    lora: dict  # training.json of l0
    targets: list[str]  # adapter_config.json target_modules of l0
    merge_errors: dict
    release: object  # sleepy.adapters.registry.Release


@pytest.fixture(scope="module")
def night(built, examples, tmp_path_factory) -> Night:
    """The steps of a LoRA-then-Share night on this architecture, each as cheap as it gets (2 steps, 1 example)."""
    root = tmp_path_factory.mktemp(f"night-{built.arch}")
    staging = root / "staging"
    halves = {"l0": examples[:1], "l1": examples[1:2]}
    for seed, (name, data) in enumerate(halves.items()):
        train_lora(built.path, data, LoraParams(rank=4, alpha=8, steps=STEPS, seed=seed), staging / "skills" / name)
    shutil.copytree(staging / "skills" / "l0", staging / "skills" / "raw")  # stays a LoRA skill
    lora = json.loads((staging / "skills" / "l0" / "training.json").read_text())
    targets = json.loads((staging / "skills" / "l0" / "adapter_config.json").read_text())["target_modules"]
    skills = [SkillInfo(n, "lora", [f"py:{n}"], f"skills/{n}", 0) for n in halves]
    merged = merge_release_folder(staging, skills, ShareConfig(k=4))  # the night's LoRA -> Share bootstrap
    # a large random start, so the exported skill's logits differ clearly from the base model's
    share = ShareConfig(k=4, steps=STEPS, init_scale=1.0, init_scale_b=0.5)
    training = train_share_skill(built.path, examples[2:3], Basis.load(basis_dir(staging)), share,
                                 staging / "skills" / "fix")
    skills = [*merged.skills, SkillInfo("fix", "share", ["*"], "skills/fix", training.trainable_parameters),
              SkillInfo("raw", "lora", ["py:raw"], "skills/raw", lora["trainable_parameters"])]
    release = Registry(root / "registry").create(staging, built.path, model_hash(built.path),
                                                 {"*": "fix", "py:raw": "raw"}, skills, None)
    return Night(built, lora, sorted(targets), merged.errors, release)


SOURCE = """def total(items):
    result = 0
    for item in items:
        result += item.price
    return reslt
"""
PROMPT = ("### task python\nFix the program so it passes.\n### error\nNameError: name 'reslt' is not defined\n 5:12\n"
          "### code\n" + "".join(f"{i}| {ln}\n" for i, ln in enumerate(SOURCE.splitlines(), 1)) + "### edit\n")


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def _ids(tokenizer) -> torch.Tensor:
    return torch.tensor([tokenizer(PROMPT)["input_ids"][:96]])


# ---------------------------------------------------------------------------------------------- the tests
def test_loads_through_model_path_with_its_chat_template(built):
    """``--model PATH`` (load_release_model without a release) gives the architecture, the chat template where
    the tokenizer has one, training ids equal to generation ids, and generation."""
    from sleepy.model.training import prompt_ids

    routed = load_release_model(None, built.path)
    lm = routed.lm
    assert lm.model.config.model_type == SPECS[built.arch].model_type
    chat = SPECS[built.arch].tokenizer == "chatml"
    assert lm.chat == chat
    text = lm.format_prompt(PROMPT)
    if chat:
        assert text.startswith("<|im_start|>user\n") and text.endswith("<|im_end|>\n<|im_start|>assistant\n")
    else:
        assert text == PROMPT
    served = lm.tokenizer(text, add_special_tokens=not chat)["input_ids"]
    assert prompt_ids(lm.tokenizer, PROMPT) == served  # a skill trains on exactly what it is served
    out = generate(lm, [PROMPT], GenerationConfig(max_new_tokens=4))[0][0]
    assert out.input_tokens == len(served) and 0 <= out.output_tokens <= 4


def test_lora_targets_are_the_architectures_own_projections(built, night):
    lm = load_model(built.path, fresh=True)
    found = lora_targets(lm.model)
    assert set(found) == set(SPECS[built.arch].targets)
    if set(found) == set(LLAMA_NAMES):  # Llama-style: what sleepy always adapted, in the same order
        assert found == LLAMA_NAMES
    assert night.targets == sorted(found) and night.lora["params"]["target_modules"] == list(found)


def test_no_linear_projections_is_one_line():
    with pytest.raises(NoTargets, match="no linear projections found") as err:
        lora_targets(torch.nn.Sequential(torch.nn.Embedding(4, 4)))
    assert "\n" not in str(err.value)


def test_constrained_decoding_works_or_is_off_with_a_logged_reason(built, caplog, monkeypatch):
    monkeypatch.setattr("sleepy.model.constrain._reported", set())  # the reason is logged once per model
    lm = load_model(built.path)
    problem = decode_problem(lm.tokenizer)
    cfg = GenerationConfig(max_new_tokens=6)
    with caplog.at_level(logging.WARNING, logger="sleepy.model"):
        constrained = generate(lm, [PROMPT], cfg, sources=[SOURCE])[0][0]
    if problem is None:  # byte-level tokens: an anchor may only continue with program text
        table = token_table(lm.tokenizer)
        allowed = {lm.tokenizer.decode([i]) for i in allowed_for(table, SOURCE, "@@ 5\n-     return re")}
        assert any("slt".startswith(t) for t in allowed)
        assert all(any("    return re" + t.split("\n")[0] in ln for ln in SOURCE.splitlines()) for t in allowed)
        assert allowed_for(table, SOURCE, "@@ 1\n-     return zzz") == set()
    else:
        assert SPECS[built.arch].tokenizer == "unigram"
        assert f"constrained anchors and names are off for {lm.name}: {problem}" in caplog.text
        free = generate(lm, [PROMPT], cfg)[0][0]
        assert constrained.token_ids == free.token_ids  # off means decoded exactly as unconstrained


def test_a_lora_skill_trains(night):
    assert len(night.lora["losses"]) == STEPS and all(0 < loss < 100 for loss in night.lora["losses"])
    assert night.lora["trainable_parameters"] > 0 and night.lora["examples"] == 1


def test_a_share_basis_builds_from_the_skills(built, night):
    from sleepy.model.architecture import block_projections

    basis = Basis.load(basis_dir(night.release.folder))
    lm = load_model(built.path, fresh=True)
    assert set(basis.modules) == set(block_projections(lm.model))  # every projection of every block
    assert set(night.merge_errors) == {"l0", "l1"}
    fix = night.release.skill("fix")
    assert fix.kind == "share" and 0 < fix.trainable_parameters < night.lora["trainable_parameters"]
    skill = ShareSkill.load(night.release.folder / fix.path, basis)
    assert skill.basis_id == basis.id


def test_peft_export_reloads_to_the_same_logits(built, night, tmp_path):
    from peft import PeftModel

    export_release(night.release, tmp_path / "out")
    tok = load_model(built.path).tokenizer
    ids = _ids(tok)
    base = _logits(load_model(built.path, fresh=True).model, ids)
    basis = Basis.load(basis_dir(night.release.folder))
    ours = load_model(built.path, fresh=True).model  # the share skill as sleepy's own layer computes it
    inject(ours, basis, ShareConfig(), skill=ShareSkill.load(night.release.folder / "skills" / "fix", basis))
    share = _logits(ours, ids)
    routed = load_release_model(night.release)
    for name, expected in (("fix", share), ("raw", None)):
        exported = PeftModel.from_pretrained(load_model(built.path, fresh=True).model,
                                             str(tmp_path / "out" / "skills" / name))
        peft = _logits(exported, ids)
        with routed.using(name):
            served = _logits(routed.lm.model, ids)
        assert torch.allclose(peft, served, atol=1e-4, rtol=1e-4), name
        assert (peft - base).abs().max() > (1e-2 if name == "fix" else 0), name
        if expected is not None:
            assert torch.allclose(peft, expected, atol=1e-4, rtol=1e-4)


def test_the_gate_runs(built, night):
    from sleepy.loop.evaluate import evaluate
    from sleepy.loop.gate import decide
    from sleepy.tasks.packs import get_pack

    tasks = get_pack("python").holdout(1)[:2]
    run = {"tasks": tasks, "max_new_tokens": 8, "sources": ("model",), "jobs": 2}
    production = evaluate(load_release_model(None, built.path), "python", **run)
    candidate = evaluate(load_release_model(night.release), "python", **run)
    decision = decide([production], [candidate])
    assert sum(decision.tasks.values()) == 2 and decision.reason
    assert candidate.release == night.release.id and production.release == "base"


def test_gguf_export_reaches_llama_cpp_or_is_refused_in_one_line(built, tmp_path):
    """Llama, Mistral and Qwen2 export to GGUF and llama.cpp continues prompts as transformers does (f32: these
    random tiny models have near-ties a half-precision export would flip); the others are one line."""
    from sleepy.adapters.gguf import ARCHITECTURES, GGUFExportError, export_gguf, greedy_round_trip

    out = tmp_path / "gguf"
    if SPECS[built.arch].model_type not in ARCHITECTURES:
        with pytest.raises(GGUFExportError, match=f"'{SPECS[built.arch].model_type}'") as refused:
            export_gguf(None, built.path, out)
        assert "\n" not in str(refused.value) and not out.exists()
        return
    export_gguf(None, built.path, out, dtype="f32")
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (install.sh builds it from source)")
    prompts = [f"def total_{i}(items):\n    result = {i}\n" for i in range(8)]
    runs = greedy_round_trip(out, built.path, prompts, new_tokens=8)
    assert all(r.same_split for r in runs)
    assert sum(r.same_tokens for r in runs) >= 7, [(r.transformers, r.llama_cpp) for r in runs]
