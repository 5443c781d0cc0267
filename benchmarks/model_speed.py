"""Generation speed of the bundled model on real koan prompts: latency at batch 1, throughput at 16.

Run: python benchmarks/model_speed.py [--model PATH]   (writes benchmarks/results/model_speed.json)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile, write_result  # noqa: E402

from sleepy.context.prompt import ContextBuilder  # noqa: E402
from sleepy.loop.agent import diagnose  # noqa: E402
from sleepy.model.generation import GenerationConfig, generate  # noqa: E402
from sleepy.model.loader import load_model  # noqa: E402
from sleepy.tasks.packs import get_pack  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    lm = load_model(args.model)
    tasks = get_pack("rust").frozen()[:32]
    builder = ContextBuilder(lm.count_tokens)
    prompts = [builder.build("rust", t.source, r.primary).text for t, r in zip(tasks, diagnose(tasks), strict=True)]
    cfg1 = GenerationConfig(batch_size=1)
    generate(lm, prompts[:2], cfg1)  # warm up
    single = []
    out_tokens = 0
    for p in prompts[:16]:
        t = time.perf_counter()
        out = generate(lm, [p], cfg1)
        single.append(time.perf_counter() - t)
        out_tokens += out[0][0].output_tokens
    # The agent's path: '-' lines constrained to program text (sleepy.model.constrain); the rest is bare.
    constrained = []
    for p, task in zip(prompts[:16], tasks, strict=False):
        t = time.perf_counter()
        generate(lm, [p], cfg1, sources=[task.source])
        constrained.append(time.perf_counter() - t)
    t = time.perf_counter()
    batched = generate(lm, prompts, GenerationConfig(batch_size=16))
    batch_s = time.perf_counter() - t
    # Where the time goes: one forward pass over the prompts (prefill) at batch 1 and at batch 16. If a
    # prompt's prefill costs as much inside a batch as alone, the CPU is compute-bound and batching
    # cannot multiply throughput (prompts are ~500 tokens, edits ~15).
    import torch

    def prefill(batch: list[str]) -> float:
        enc = lm.tokenizer([lm.format_prompt(p) for p in batch], return_tensors="pt", padding=True,
                           add_special_tokens=not lm.chat).to(lm.device)
        t = time.perf_counter()
        with torch.inference_mode():
            lm.model(**enc)
        return time.perf_counter() - t

    prefill(prompts[:1])
    prefill1 = percentile([prefill([p]) for p in prompts[:16]], 50)
    prefill16 = min(prefill(prompts[:16]) for _ in range(2)) / 16
    params = sum(p.numel() for p in lm.model.parameters())
    write_result("model_speed", {
        "command": "python benchmarks/model_speed.py", "model": lm.name, "parameters": params,
        "prompt_tokens_mean": round(sum(c[0].input_tokens for c in batched) / len(batched), 1),
        "batch1_seconds_per_edit": {"p50": round(percentile(single, 50), 4), "p95": round(percentile(single, 95), 4)},
        "batch1_output_tokens_mean": round(out_tokens / 16, 1),
        "batch1_constrained_seconds_per_edit": {"p50": round(percentile(constrained, 50), 4),
                                                "p95": round(percentile(constrained, 95), 4)},
        "batch16_seconds_per_edit": round(batch_s / len(prompts), 4),
        "throughput_gain_batch16_vs_1": round(percentile(single, 50) / (batch_s / len(prompts)), 2),
        "prefill_seconds_per_prompt": {"batch1_p50": round(prefill1, 4), "batch16": round(prefill16, 4)},
        "prefill_share_of_batch1_edit": round(prefill1 / percentile(single, 50), 3),
    })


if __name__ == "__main__":
    main()
