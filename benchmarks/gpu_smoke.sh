#!/usr/bin/env bash
# GPU smoke test (issue 21, item 6), for the day a CUDA GPU is lent: the bundled model on CUDA in bf16 trains
# one LoRA skill on verified Python fixes (the pack's reference fixes) and generates edits, with and without
# the skill, printing the figures: training time, steps/s, loss first -> last, generation tokens/s, peak memory.
#
# Run:  bash benchmarks/gpu_smoke.sh [STEPS]          (default 40 steps, the night's lora_steps)
#
# Without a CUDA device it prints one line and exits 2 before loading anything. Nothing in sleepy or its
# tests depends on this script; it only reads the library, and writes to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "${1:-40}" <<'PY'
import json
import sys
import tempfile
import time
from pathlib import Path

try:
    import torch
except ImportError:
    print("gpu_smoke: torch is not installed (pip install 'sleepy[model]'); nothing measured")
    sys.exit(2)
if not torch.cuda.is_available():
    print("gpu_smoke: no CUDA device (torch.cuda.is_available() is False; torch " + torch.__version__
          + "); nothing measured")
    sys.exit(2)
if not torch.cuda.is_bf16_supported():
    print(f"gpu_smoke: {torch.cuda.get_device_name(0)} has no bf16; nothing measured")
    sys.exit(2)

from sleepy.adapters.lora import LoraParams, TrainExample, train_lora
from sleepy.context.prompt import ContextBuilder
from sleepy.loop.agent import diagnose
from sleepy.model.generation import GenerationConfig, generate
from sleepy.model.loader import load_model
from sleepy.tasks.edit import END, diff_to_edit
from sleepy.tasks.packs import get_pack

steps = int(sys.argv[1])
device = torch.cuda.get_device_name(0)
pack = get_pack("python")
tasks = [pack.generate(fam, 700_000 + i) for fam in pack.families for i in range(8)]  # 48, never the holdout's
verdicts = diagnose(tasks)
lm = load_model(None, device="cuda")
assert lm.device.startswith("cuda") and lm.dtype == "bfloat16", (lm.device, lm.dtype)
builder = ContextBuilder(lm.count_tokens)
prompts = [builder.build("python", t.source, v.primary).text for t, v in zip(tasks, verdicts, strict=True)]
examples = [TrainExample(p, diff_to_edit(t.source, t.fix).render() + END, "reference", t.id, v.signature or "")
            for p, t, v in zip(prompts, tasks, verdicts, strict=True) if t.fix]


def timed(fn):
    torch.cuda.synchronize()
    began = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return out, time.perf_counter() - began


def tokens_per_s(model_lm, label: str) -> dict:
    cfg = GenerationConfig(max_new_tokens=96, batch_size=16)
    generate(model_lm, prompts[:16], cfg)  # warm-up: kernels, caches
    out, seconds = timed(lambda: generate(model_lm, prompts, cfg))
    made = sum(c.output_tokens for row in out for c in row)
    row = {"generation": label, "prompts": len(prompts), "tokens": made, "seconds": round(seconds, 3),
           "tokens_per_s": round(made / seconds, 1)}
    print(f"generate ({label}): {len(prompts)} prompts at batch 16, {made} tokens in {seconds:.2f} s: "
          f"{made / seconds:.0f} tokens/s", flush=True)
    return row


torch.cuda.reset_peak_memory_stats()
figures = {"device": device, "torch": torch.__version__, "model": lm.name, "dtype": lm.dtype}
figures["base"] = tokens_per_s(lm, "base")
with tempfile.TemporaryDirectory() as tmp:
    training, seconds = timed(lambda: train_lora(lm.path, examples, LoraParams(steps=steps), Path(tmp) / "skill"))
    losses = training.losses
    figures["train"] = {"steps": len(losses), "examples": training.examples, "seconds": round(seconds, 2),
                        "steps_per_s": round(len(losses) / seconds, 2), "loss_first": losses[0],
                        "loss_last": losses[-1], "trainable_parameters": training.trainable_parameters}
    print(f"train one LoRA skill (bf16 weights on {device}): {len(losses)} steps on {training.examples} examples in "
          f"{seconds:.1f} s ({len(losses) / seconds:.2f} steps/s), loss {losses[0]:.3f} -> {losses[-1]:.3f}",
          flush=True)
    from peft import PeftModel

    skilled = load_model(None, device="cuda", fresh=True)
    skilled.model = PeftModel.from_pretrained(skilled.model, str(Path(tmp) / "skill")).eval()
    figures["skill"] = tokens_per_s(skilled, "with the skill")
figures["peak_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
print(f"peak CUDA memory {figures['peak_memory_mib']:.0f} MiB")
print(json.dumps(figures))
PY
