"""GGUF export for llama.cpp and Ollama: the files read back to the model's own weights, and llama.cpp (through
llama-cpp-python, built from source by install.sh) generates the same greedy tokens as transformers."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from sleepy.adapters.gguf import GGUFExportError, _to_pairs, export_gguf, greedy_round_trip, koan_prompts
from sleepy.adapters.registry import Registry, SkillInfo
from sleepy.model.loader import load_model, resolve

gguf = pytest.importorskip("gguf", reason="the gguf package is not installed (pip install gguf)")
PROMPT_COUNT = 20
NEW_TOKENS = 12


def _lora(model, folder, seed: int, **config) -> None:
    """A PEFT LoRA with random factors (scaled down so the model still writes code), saved as PEFT saves it."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    peft_model = get_peft_model(model, LoraConfig(init_lora_weights=False, **config))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.mul_(0.5)
    peft_model.save_pretrained(str(folder))
    peft_model.unload()  # puts the base modules back, unmerged


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A release of the bundled model with two LoRA skills: one plain (rank 4 everywhere), one with a rank
    pattern and rsLoRA (its scale differs per module, so it is folded into B)."""
    work = tmp_path_factory.mktemp("gguf-release")
    staging = work / "staging"
    model = load_model(None, fresh=True).model
    _lora(model, staging / "skills" / "plain", 1, r=4, lora_alpha=8,
          target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    _lora(model, staging / "skills" / "mixed", 2, r=4, lora_alpha=4, use_rslora=True, rank_pattern={"q_proj": 2},
          target_modules=["q_proj", "k_proj", "v_proj"])
    skills = [SkillInfo("plain", "lora", ["rust:E0308:x"], "skills/plain"),
              SkillInfo("mixed", "lora", ["rust:E0382:y"], "skills/mixed")]
    router = {"rust:E0308:x": "plain", "rust:E0382:y": "mixed"}
    return Registry(work / "registry").create(staging, resolve(None), "hash", router, skills, None)


@pytest.fixture(scope="module")
def exported(release, tmp_path_factory):
    out = tmp_path_factory.mktemp("gguf-out") / "export"
    router = export_gguf(release, release.base_model, out)
    return out, router


def _tensors(path) -> dict[str, np.ndarray]:
    reader = gguf.GGUFReader(str(path))
    return {t.name: np.array(t.data, dtype=np.float32).reshape(tuple(reversed(t.shape.tolist())))
            for t in reader.tensors}


def _field(path, key):
    field = gguf.GGUFReader(str(path)).fields[key]
    return field.contents()


def test_export_writes_base_adapters_modelfiles_and_router(exported, release):
    out, router = exported
    assert sorted(p.name for p in out.iterdir()) == ["Modelfile", "README.md", "base.gguf", "router.json", "skills"]
    assert json.loads((out / "router.json").read_text()) == router
    assert router["router"] == release.router and router["architecture"] == "llama"
    for name in ("plain", "mixed"):
        modelfile = (out / "skills" / name / "Modelfile").read_text()
        assert "FROM ../../base.gguf" in modelfile and "ADAPTER ./adapter.gguf" in modelfile
        assert (out / "skills" / name / "adapter.gguf").is_file()
    assert _field(out / "base.gguf", "general.type") == "model"
    assert _field(out / "base.gguf", "tokenizer.ggml.pre") == "starcoder"  # digits one by one, then GPT-2's split
    assert _field(out / "skills" / "plain" / "adapter.gguf", "general.type") == "adapter"
    assert not list(out.parent.glob(".*partial*"))


def test_base_tensors_are_the_models_weights_with_query_and_key_rows_in_pair_order(exported):
    out, _ = exported
    lm = load_model(None)
    config = lm.model.config
    state = {k: v.float().numpy() for k, v in lm.model.state_dict().items()}
    tensors = _tensors(out / "base.gguf")
    assert "output.weight" not in tensors  # tied: llama.cpp reuses the token embedding
    assert np.allclose(tensors["token_embd.weight"], state["model.embed_tokens.weight"], atol=1e-3)
    q = state["model.layers.1.self_attn.q_proj.weight"]
    k = state["model.layers.1.self_attn.k_proj.weight"]
    assert np.allclose(tensors["blk.1.attn_q.weight"], _to_pairs(q, config.num_attention_heads), atol=1e-3)
    assert np.allclose(tensors["blk.1.attn_k.weight"], _to_pairs(k, config.num_key_value_heads), atol=1e-3)
    assert not np.allclose(tensors["blk.1.attn_q.weight"], q, atol=1e-3)  # the reordering did happen
    assert np.allclose(tensors["blk.1.ffn_down.weight"], state["model.layers.1.mlp.down_proj.weight"], atol=1e-3)
    assert np.array_equal(tensors["blk.1.attn_norm.weight"], state["model.layers.1.input_layernorm.weight"])


def _peft_delta(folder, module: str, heads: int | None) -> np.ndarray:
    """What PEFT adds to ``module``'s weight: scale * B @ A, rows reordered like the base's when ``heads``."""
    from safetensors.numpy import load_file

    config = json.loads((folder / "adapter_config.json").read_text())
    weights = load_file(str(folder / "adapter_model.safetensors"))
    a = weights[f"base_model.model.{module}.lora_A.weight"].astype(np.float32)
    b = weights[f"base_model.model.{module}.lora_B.weight"].astype(np.float32)
    rank = a.shape[0]
    scale = config["lora_alpha"] / (rank ** 0.5 if config.get("use_rslora") else rank)
    delta = scale * b @ a
    return _to_pairs(delta, heads) if heads else delta


@pytest.mark.parametrize("skill", ["plain", "mixed"])
def test_adapter_deltas_equal_pefts_for_every_module(exported, release, skill):
    out, router = exported
    path = out / "skills" / skill / "adapter.gguf"
    tensors = _tensors(path)
    alpha = float(_field(path, "adapter.lora.alpha"))
    assert alpha == router["skills"][skill]["alpha"]
    assert (alpha == 8.0) if skill == "plain" else (alpha == 0.0)  # one scale: kept; per-module scales: folded
    config = load_model(None).model.config
    for layer in range(config.num_hidden_layers):
        for hf, name, heads in (("self_attn.q_proj", "attn_q", config.num_attention_heads),
                                ("self_attn.k_proj", "attn_k", config.num_key_value_heads),
                                ("self_attn.v_proj", "attn_v", None)):
            a = tensors[f"blk.{layer}.{name}.weight.lora_a"]
            b = tensors[f"blk.{layer}.{name}.weight.lora_b"]
            scale = alpha / a.shape[0] if alpha else 1.0  # what llama.cpp applies
            expected = _peft_delta(release.folder / "skills" / skill, f"model.layers.{layer}.{hf}", heads)
            assert np.allclose(scale * b @ a, expected, atol=1e-5)


def test_an_existing_folder_or_an_architecture_llama_cpp_cannot_take_is_refused_writing_nothing(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="taken exists"):
        export_gguf(None, resolve(None), taken)
    assert [p.name for p in taken.iterdir()] == ["mine.txt"]

    gpt2 = tmp_path / "gpt2"
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=3072)).save_pretrained(gpt2)
    load_model(None).tokenizer.save_pretrained(gpt2)
    with pytest.raises(GGUFExportError, match="'gpt2'"):
        export_gguf(None, str(gpt2), tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpt2", "taken"]


def test_cli_exports_the_base_alone_and_refuses_a_bad_format(tmp_path):
    from typer.testing import CliRunner

    from sleepy.cli import app

    ws = ["--workspace", str(tmp_path / "ws")]
    done = CliRunner().invoke(app, ["export", *ws, "--format", "gguf", str(tmp_path / "base")])
    assert done.exit_code == 0, done.output
    assert "0 skill(s) of the base model" in done.output and (tmp_path / "base" / "base.gguf").is_file()
    again = CliRunner().invoke(app, ["export", *ws, "--format", "gguf", str(tmp_path / "base")])
    assert again.exit_code == 2 and "exists" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    bad = CliRunner().invoke(app, ["export", *ws, "--format", "onnx", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "unknown export format 'onnx'" in bad.stderr


# ---------------------------------------------------------------------------------------------- llama.cpp
def test_llama_cpp_generates_the_same_greedy_tokens_as_transformers(exported, release):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (install.sh builds it from source)")
    out, _ = exported
    texts = koan_prompts(PROMPT_COUNT)
    base = greedy_round_trip(out, release.base_model, texts, NEW_TOKENS)
    assert sum(r.same_split for r in base) >= 0.95 * len(texts)  # llama.cpp splits text as the model's tokenizer
    assert sum(r.same_tokens for r in base) >= 0.95 * len(texts)
    # one skill through llama.cpp (the other's factors are checked exactly above)
    plain = release.folder / "skills" / "plain"
    skilled = greedy_round_trip(out, release.base_model, texts, NEW_TOKENS, "plain", plain)
    changed = sum(s.transformers != b.transformers for s, b in zip(skilled, base, strict=True))
    assert changed >= 0.25 * len(texts)  # the skill does change what the model writes
    assert sum(r.same_tokens for r in skilled) >= 0.95 * len(texts)


def test_a_day_generates_through_llama_cpps_server_on_the_export(exported, tmp_path):
    """Issue 21's llama.cpp path end to end: the export served by llama.cpp's own server, a real day against it."""
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed (install.sh builds it)")
    from test_remote_backend import DAY_CONFIG, day_events, sleepy
    from test_serve_teacher import free_port

    out, _ = exported
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(out / "base.gguf"),
                               "--model_alias", "tiny-gguf", "--host", "127.0.0.1", "--port", str(port),
                               "--n_ctx", "2048", "--n_threads", "2"], stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        ws = tmp_path / "ws"
        ws.mkdir()
        (ws / "config.toml").write_text(DAY_CONFIG)
        wait_for(url + "/v1/models", server)
        run = sleepy("day", "--pack", "python", "-n", "4", "--seed", "1", "-w", str(ws), "--backend", "openai",
                     "--base-url", url, "--model", "tiny-gguf")
        assert run.returncode == 0, run.stdout + run.stderr
        events = day_events(ws)
        model_calls = [e for e in events if e["sleepy.edit.origin"] == "model"]
        assert model_calls and all(e["gen_ai.request.model"] == "tiny-gguf" for e in events)
        assert all(e["gen_ai.usage.output_tokens"] > 0 for e in model_calls)  # llama.cpp wrote every answer
        assert any(e["sleepy.verifier.passed"] and e["sleepy.edit.origin"].startswith("tool:") for e in events)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def wait_for(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while True:
        assert server.poll() is None, "llama.cpp's server exited while starting"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            assert time.time() < deadline, "llama.cpp's server never answered"
            time.sleep(0.3)
