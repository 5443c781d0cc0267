"""A release for llama.cpp and Ollama: the base model as one GGUF file, every skill as a GGUF LoRA adapter,
an Ollama ``Modelfile`` per skill and the router table.

The ``gguf`` package gives the file format and the table of tensor names per architecture; llama.cpp's own
converter scripts ship with its sources, not with the package, so what is sleepy's is the rest:

* **Rotary layout.** Hugging Face Llama-family checkpoints rotate the two halves of each head's query and key
  (``rotate_half``); llama.cpp's ``llama`` architecture rotates adjacent pairs. The query and key rows are
  reordered per head so both compute the same attention (:func:`_to_pairs`); a LoRA on those projections
  gets the same reordering of its ``B`` (the rows it writes), so ``W + sBA`` stays consistent. Qwen2 in
  llama.cpp uses the half layout already and is written as is.
* **LoRA scale.** llama.cpp scales an adapter by ``alpha / rank`` per tensor (or by 1 when alpha is 0). When
  every module has the same rank and PEFT scale the adapter keeps its factors and ``alpha = scale * rank``;
  otherwise (rank or alpha patterns, rsLoRA with several ranks) each module's scale is folded into its
  ``B`` and alpha is written as 0.
* **Tokenizer.** Byte-level BPE only (what every supported architecture's coder models use); the vocabulary,
  merges and special tokens are copied, and the pre-tokenizer is named after the Hugging Face one it
  matches (``gpt-2``; ``starcoder`` when digits are split one by one, as the bundled model does), so
  llama.cpp splits text the way the model was trained. A model without a chat template gets one that passes
  the messages' text through, so a chat request to llama.cpp's server carries sleepy's prompt unchanged.

Everything is written into a temporary folder beside the target and renamed into place at the end
(:func:`sleepy.files.new_folder`): an export that fails leaves no half-written folder under the name asked for.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Hugging Face model_type -> (llama.cpp architecture, whether query/key rows go from halves to pairs)
ARCHITECTURES = {"llama": ("llama", True), "mistral": ("llama", True), "qwen2": ("qwen2", False)}
DTYPES = ("f16", "f32")
# The split regexes of the tokenizers llama.cpp knows by name (a Qwen2 or Llama 3 tokenizer.json carries one)
_LETTERS = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|"
_REST = r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
SPLIT_PATTERNS = {_LETTERS + r"\p{N}" + _REST: "qwen2", _LETTERS + r"\p{N}{1,3}" + _REST: "llama-bpe"}
# A model without a chat template gets sleepy's prompt as it is, as with local weights (loader.format_for):
# llama.cpp's server and Ollama then send a chat request's text through unchanged.
PASS_THROUGH_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"


class GGUFExportError(ValueError):
    """A model, skill or folder that cannot be exported; the message is one line naming the problem."""


# ---------------------------------------------------------------------------------------------- the model
def _architecture(config) -> tuple[str, bool]:
    kind = getattr(config, "model_type", "?")
    if kind not in ARCHITECTURES:
        names = ", ".join(sorted(ARCHITECTURES))
        raise GGUFExportError(f"gguf export supports {names} models; this one is {kind!r} (export --format peft "
                              "works for every architecture)")
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    rope_type = rope.get("rope_type", rope.get("type", "default")) if isinstance(rope, dict) else "default"
    if rope_type not in ("default", None):
        raise GGUFExportError(f"gguf export handles plain rotary embeddings; this model uses {rope_type!r} rope "
                              "scaling")
    return ARCHITECTURES[kind]


def _rope_theta(config) -> float:
    rope = getattr(config, "rope_parameters", None)
    if isinstance(rope, dict) and "rope_theta" in rope:
        return float(rope["rope_theta"])
    return float(getattr(config, "rope_theta", 10000.0))


def _head_dim(config) -> int:
    return int(getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads)


def _to_pairs(rows: np.ndarray, heads: int) -> np.ndarray:
    """Reorder the output rows of a query or key projection from rotate-half to adjacent-pair rotary layout:
    within each head, row ``i`` of the first half and row ``i`` of the second half become rows ``2i, 2i+1``."""
    head_dim = rows.shape[0] // heads
    shaped = rows.reshape(heads, 2, head_dim // 2, *rows.shape[1:])
    return shaped.swapaxes(1, 2).reshape(rows.shape)


def _heads_for(hf_name: str, config) -> int | None:
    """How many heads the rows of a projection hold, for the ones whose rows are reordered; else None."""
    if ".q_proj." in hf_name or hf_name.endswith(".q_proj"):
        return config.num_attention_heads
    if ".k_proj." in hf_name or hf_name.endswith(".k_proj"):
        return getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    return None


def _name_map(arch: str, blocks: int):
    import gguf

    kind = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch)
    return gguf.get_tensor_name_map(kind, blocks)


def _gguf_name(names, hf_name: str) -> str:
    found = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
    if found is None:
        raise GGUFExportError(f"no GGUF name for tensor {hf_name!r}: the model has a layer llama.cpp does not know")
    return found


def _base_tensors(model, config, arch: str, pairs: bool, dtype: str) -> Iterator[tuple[str, np.ndarray]]:
    names = _name_map(arch, config.num_hidden_layers)
    tied = bool(getattr(config, "tie_word_embeddings", False))
    for hf_name, tensor in model.state_dict().items():
        if (tied and hf_name == "lm_head.weight") or "rotary_emb" in hf_name:
            continue  # llama.cpp reuses token_embd when output.weight is absent
        data = tensor.detach().float().cpu().numpy()
        heads = _heads_for(hf_name, config) if pairs else None
        if heads is not None:
            data = _to_pairs(data, heads)
        if dtype == "f16" and data.ndim == 2:
            data = data.astype(np.float16)  # llama.cpp keeps norms and biases in f32, as here
        yield _gguf_name(names, hf_name), np.ascontiguousarray(data)


def _pre_tokenizer(spec: dict) -> str:
    """llama.cpp's name for the text splitting of a Hugging Face tokenizer.json, or a one-line refusal."""
    pre = spec.get("pre_tokenizer") or {}
    parts = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    kinds = [p.get("type") for p in parts]
    if kinds == ["ByteLevel"]:
        return "gpt-2"
    if kinds == ["Digits", "ByteLevel"] and parts[0].get("individual_digits"):
        return "starcoder"
    if kinds == ["Split", "ByteLevel"] and (name := SPLIT_PATTERNS.get(parts[0].get("pattern", {}).get("Regex", ""))):
        return name  # Qwen2 and Llama 3 split with a regex of their own, then map bytes
    raise GGUFExportError(f"gguf export knows byte-level BPE tokenizers; this one splits text with {kinds}")


def _write_tokenizer(writer, tokenizer, vocab_size: int) -> None:
    import gguf

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise GGUFExportError("gguf export needs a fast (tokenizers) tokenizer with a tokenizer.json")
    spec = json.loads(backend.to_str())
    model = spec.get("model", {})
    if model.get("type") != "BPE":
        raise GGUFExportError(f"gguf export knows byte-level BPE tokenizers; this one is {model.get('type')!r}")
    pre = _pre_tokenizer(spec)
    by_id = {i: t for t, i in model["vocab"].items()}
    special = {}
    for added in spec.get("added_tokens", []):
        by_id[added["id"]] = added["content"]
        special[added["id"]] = added.get("special", False)
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        tokens.append(by_id[i])
        types.append(gguf.TokenType.CONTROL if special.get(i) else
                     gguf.TokenType.USER_DEFINED if i in special else gguf.TokenType.NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    for token, add in (("bos", writer.add_bos_token_id), ("eos", writer.add_eos_token_id),
                       ("unk", writer.add_unk_token_id), ("pad", writer.add_pad_token_id)):
        token_id = getattr(tokenizer, f"{token}_token_id", None)
        if token_id is not None:
            add(int(token_id))
    bos = getattr(tokenizer, "bos_token_id", None)
    writer.add_add_bos_token(bos is not None and tokenizer("x")["input_ids"][:1] == [bos])
    writer.add_add_eos_token(False)
    template = getattr(tokenizer, "chat_template", None)
    writer.add_chat_template(template if isinstance(template, str) and template else PASS_THROUGH_TEMPLATE)


def write_base(loaded, path: Path, dtype: str = "f16") -> dict:
    """The model of ``loaded`` (a :class:`~sleepy.model.loader.LoadedModel`) as one GGUF file; returns what
    a LoRA adapter for it needs to know (architecture, whether query/key rows were reordered, the config)."""
    import gguf

    if dtype not in DTYPES:
        raise GGUFExportError(f"unknown gguf dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    config = loaded.model.config
    arch, pairs = _architecture(config)
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(Path(loaded.name).name)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32)
    vocab_size = int(config.vocab_size)
    writer.add_vocab_size(vocab_size)
    writer.add_context_length(int(config.max_position_embeddings))
    writer.add_embedding_length(int(config.hidden_size))
    writer.add_block_count(int(config.num_hidden_layers))
    writer.add_feed_forward_length(int(config.intermediate_size))
    writer.add_head_count(int(config.num_attention_heads))
    writer.add_head_count_kv(int(getattr(config, "num_key_value_heads", None) or config.num_attention_heads))
    head_dim = _head_dim(config)
    writer.add_rope_dimension_count(head_dim)
    if head_dim * config.num_attention_heads != config.hidden_size:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_rope_freq_base(_rope_theta(config))
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    _write_tokenizer(writer, loaded.tokenizer, vocab_size)
    for name, data in _base_tensors(loaded.model, config, arch, pairs, dtype):
        writer.add_tensor(name, data)
    _finish(writer)
    return {"arch": arch, "pairs": pairs, "config": config}


def _finish(writer) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


# ---------------------------------------------------------------------------------------------- adapters
def _lora_scales(adapter_config: dict, ranks: dict[str, int]) -> dict[str, float]:
    """PEFT's scale per module (``alpha / r``, or ``alpha / sqrt(r)`` with rsLoRA, patterns included)."""
    alpha = float(adapter_config.get("lora_alpha", 8))
    alpha_pattern = adapter_config.get("alpha_pattern") or {}
    rslora = bool(adapter_config.get("use_rslora"))
    scales = {}
    for module, rank in ranks.items():
        a = next((float(v) for k, v in alpha_pattern.items() if module.endswith(k)), alpha)
        scales[module] = a / (rank ** 0.5 if rslora else rank)
    return scales


def write_lora(peft_dir: Path, path: Path, base: dict) -> dict:
    """One PEFT LoRA folder as a GGUF LoRA adapter for the base that :func:`write_base` wrote; returns
    ``{"alpha": ..., "tensors": n}``."""
    import gguf
    from safetensors.numpy import load_file

    adapter_config = json.loads((peft_dir / "adapter_config.json").read_text())
    if adapter_config.get("use_dora") or adapter_config.get("modules_to_save"):
        raise GGUFExportError(f"{peft_dir.name}: llama.cpp adapters hold plain LoRA only (no DoRA, no saved "
                              "modules)")
    weights = load_file(str(peft_dir / "adapter_model.safetensors"))
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in weights.items():
        for part in ("lora_A", "lora_B"):
            marker = f".{part}.weight"
            if key.endswith(marker):
                module = key[: -len(marker)].removeprefix("base_model.model.")
                pairs.setdefault(module, {})[part] = value.astype(np.float32)
    if not pairs:
        raise GGUFExportError(f"{peft_dir.name}: no LoRA factors in adapter_model.safetensors")
    ranks = {m: f["lora_A"].shape[0] for m, f in pairs.items()}
    scales = _lora_scales(adapter_config, ranks)
    uniform = len(set(ranks.values())) == 1 and len(set(scales.values())) == 1
    alpha = next(iter(scales.values())) * next(iter(ranks.values())) if uniform else 0.0
    config = base["config"]
    names = _name_map(base["arch"], config.num_hidden_layers)
    writer = gguf.GGUFWriter(str(path), base["arch"])
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    for module, factors in sorted(pairs.items()):
        a, b = factors["lora_A"], factors["lora_B"]
        if not uniform:
            b = b * scales[module]
        heads = _heads_for(module, config) if base["pairs"] else None
        if heads is not None:
            b = _to_pairs(b, heads)
        target = _gguf_name(names, module + ".weight")
        writer.add_tensor(f"{target}.lora_a", np.ascontiguousarray(a))
        writer.add_tensor(f"{target}.lora_b", np.ascontiguousarray(b))
    _finish(writer)
    return {"alpha": alpha, "tensors": 2 * len(pairs)}


# ---------------------------------------------------------------------------------------------- the release
def _modelfile(base: str, adapter: str | None) -> str:
    """An Ollama Modelfile: sleepy builds the whole prompt itself, so the template passes it through."""
    lines = [f"FROM {base}"] + ([f"ADAPTER {adapter}"] if adapter else [])
    lines += ['TEMPLATE """{{ .Prompt }}"""', "PARAMETER temperature 0"]
    return "\n".join(lines) + "\n"


def export_gguf(release, base_model: str, out_dir: Path, dtype: str = "f16") -> dict:
    """``base.gguf``, ``skills/<name>/adapter.gguf`` with a ``Modelfile`` each, ``Modelfile`` for the base alone,
    ``router.json`` and a README, written all at once into ``out_dir`` (which must not exist).

    ``release`` is a :class:`~sleepy.adapters.registry.Release`, or None to export the base model alone.
    Returns the ``router.json`` content."""
    from sleepy.adapters.share import export_skill
    from sleepy.files import new_folder
    from sleepy.model.loader import load_model

    with new_folder(out_dir) as tmp:  # refuses an existing folder before the model loads
        loaded = load_model(base_model, device="cpu")
        base = write_base(loaded, tmp / "base.gguf", dtype)
        (tmp / "Modelfile").write_text(_modelfile("./base.gguf", None))
        skills = {}
        for s in release.skills if release is not None else ():
            folder = tmp / "skills" / s.name
            peft_dir = export_skill(release.folder, s, tmp / "peft" / s.name, release.base_model)
            folder.mkdir(parents=True)
            written = write_lora(peft_dir, folder / "adapter.gguf", base)
            (folder / "Modelfile").write_text(_modelfile("../../base.gguf", "./adapter.gguf"))
            skills[s.name] = {"path": f"skills/{s.name}/adapter.gguf", "kind": s.kind,
                              "signatures": s.signatures, "alpha": written["alpha"]}
        shutil.rmtree(tmp / "peft", ignore_errors=True)
        router = {"release": release.id if release is not None else None,
                  "router": release.router if release is not None else {}, "skills": skills,
                  "base": "base.gguf", "architecture": base["arch"], "dtype": dtype,
                  "note": "one skill per task by signature ('*' = every task); unrouted tasks use the base model"}
        (tmp / "router.json").write_text(json.dumps(router, indent=2, sort_keys=True))
        (tmp / "README.md").write_text(_readme(router))
    return router


def _readme(router: dict) -> str:
    first = next(iter(router["skills"]), "NAME")
    return (f"# sleepy release {router['release']} for llama.cpp and Ollama\n\n"
            f"`base.gguf` is the base model ({router['architecture']}, {router['dtype']}); every skill is a GGUF "
            "LoRA adapter in `skills/<name>/adapter.gguf`. `router.json` maps error signatures to skills: route "
            "one skill per request, never mix them.\n\n"
            f"llama.cpp:\n\n```\nllama-server -m base.gguf --lora skills/{first}/adapter.gguf\n```\n\n"
            f"Ollama (one model per skill; the Modelfile passes sleepy's prompt through unchanged):\n\n"
            f"```\nollama create sleepy-{first} -f skills/{first}/Modelfile\n```\n")


# ---------------------------------------------------------------------------------------------- round trip
@dataclass
class GreedyRun:
    """One prompt through both engines: the tokens each generated greedily, and whether llama.cpp split the
    prompt's text into the same tokens as the model's own tokenizer."""

    prompt: str
    transformers: list[int]
    llama_cpp: list[int]
    same_split: bool

    @property
    def same_tokens(self) -> bool:
        return self.transformers == self.llama_cpp


def koan_prompts(n: int) -> list[str]:
    """The first six lines of each frozen koan, Rust then Python, ``n`` of them: code the model continues,
    for comparing engines on what it actually writes."""
    from sleepy.tasks.packs import get_pack

    sources = [t.source for pack in ("rust", "python") for t in get_pack(pack).frozen()]
    return ["\n".join(s.splitlines()[:6]) + "\n" for s in sources[:n]]


def greedy_round_trip(out_dir: Path, base_model: str, prompts: list[str], new_tokens: int = 16,
                      skill: str | None = None, peft_dir: Path | None = None) -> list[GreedyRun]:
    """Greedy generation from the same token ids in transformers (with the skill's PEFT folder, when given)
    and in llama.cpp on the export (with ``skills/<skill>/adapter.gguf``): how far the export can be trusted.

    Needs llama-cpp-python (``install.sh`` builds it from source); a one-line error says so otherwise."""
    import torch

    from sleepy.model.loader import load_model

    try:
        import llama_cpp
    except ImportError as exc:
        raise GGUFExportError("llama-cpp-python is not installed: pip install llama-cpp-python builds it "
                              "from source") from exc
    lm = load_model(base_model, device="cpu", fresh=True)
    model = lm.model
    if peft_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(peft_dir))
    model.eval()
    lora = out_dir / "skills" / skill / "adapter.gguf" if skill else None
    llm = llama_cpp.Llama(model_path=str(out_dir / "base.gguf"), lora_path=str(lora) if lora else None,
                          n_ctx=1024, n_threads=max(1, min(4, os.cpu_count() or 1)), seed=0, verbose=False)
    eos = lm.tokenizer.eos_token_id
    runs = []
    for prompt in prompts:
        ids = lm.tokenizer(prompt)["input_ids"]
        with torch.no_grad():
            out = model.generate(input_ids=torch.tensor([ids]), do_sample=False, max_new_tokens=new_tokens,
                                 eos_token_id=eos, pad_token_id=lm.tokenizer.pad_token_id)
        expected = out[0, len(ids):].tolist()
        expected = expected[: expected.index(eos)] if eos in expected else expected
        got: list[int] = []
        for token in llm.generate(ids, top_k=1, top_p=1.0, temp=0.0, repeat_penalty=1.0, reset=True):
            if token == llm.token_eos() or len(got) == new_tokens:
                break
            got.append(token)
        split = llm.tokenize(prompt.encode(), add_bos=True, special=False) == ids
        runs.append(GreedyRun(prompt, expected, got, split))
    llm.close()
    return runs
