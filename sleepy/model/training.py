"""Training primitives shared by pretraining and skill (LoRA/Share) training.

Examples are (prompt, completion) pairs, encoded the way inference sees them: the prompt tokenized
alone (with BOS, or through an instruct model's chat template), the completion after it, then EOS.
The loss is cross-entropy weighted per token (completion 1.0, prompt ``prompt_weight``), so one loop
serves from-scratch training (some prompt weight teaches code) and adapters (completion only).
"""

from __future__ import annotations

import os
import random
from pathlib import Path


def encode(tokenizer, examples, max_len: int, prompt_weight: float):
    """Token ids and per-target weights of each example (objects with ``prompt`` and ``completion``)."""
    rows = []
    for e in examples:
        p = prompt_ids(tokenizer, e.prompt)
        c = tokenizer(e.completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        ids = p + c
        if len(ids) > max_len:
            continue
        rows.append((ids, [prompt_weight] * (len(p) - 1) + [1.0] * len(c)))
    return rows


def prompt_ids(tokenizer, prompt: str) -> list[int]:
    """A prompt's ids exactly as generation feeds them: through the chat template (which writes its own
    special tokens) where the tokenizer has one, else raw with the tokenizer's BOS."""
    if getattr(tokenizer, "chat_template", None):
        from sleepy.model.loader import format_for

        return tokenizer(format_for(tokenizer, prompt), add_special_tokens=False)["input_ids"]
    return tokenizer(prompt)["input_ids"]


def length_batches(rows, batch_tokens: int, seed: int) -> list[list[int]]:
    """Indices grouped by similar length so padding stays small; order seeded and reproducible."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    batches, current, longest = [], [], 0
    for i in order:
        longest_if = max(longest, len(rows[i][0]))
        if current and longest_if * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, longest_if = [], len(rows[i][0])
        current.append(i)
        longest = longest_if
    if current:
        batches.append(current)
    random.Random(seed).shuffle(batches)
    return batches


def collate(rows, idx, pad_id):
    import torch

    width = max(len(rows[i][0]) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    weights = torch.zeros((len(idx), width - 1), dtype=torch.float32)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for r, i in enumerate(idx):
        seq, w = rows[i]
        ids[r, :len(seq)] = torch.tensor(seq)
        mask[r, :len(seq)] = 1
        weights[r, :len(w)] = torch.tensor(w)
    return ids, mask, weights


def weighted_loss(model, ids, mask, weights, total: float | None = None):
    """Weighted mean cross-entropy; ``total`` divides instead of these rows' own weight (a process of a
    data-parallel run holds part of a batch, and the batch's mean is over all of it)."""
    import torch.nn.functional as F

    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    ce = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), ids[:, 1:].reshape(-1), reduction="none")
    ce = ce.view_as(weights)
    return (ce * weights).sum() / (weights.sum().clamp(min=1e-6) if total is None else max(total, 1e-6))


def atomic_save(obj, path: Path) -> None:
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def bf16_ok() -> bool:
    """bf16 autocast on CPUs with native bf16 (1.6x faster here); float32 elsewhere, or everywhere when
    ``SLEEPY_TRAIN_DTYPE=float32``: bf16 rounds each matmul to 8 bits of mantissa, so two runs that split
    a batch differently (one process or several) agree only to ~1e-3, and a check that they compute the
    same gradient needs float32."""
    import torch

    if os.environ.get("SLEEPY_TRAIN_DTYPE", "").lower() == "float32":
        return False

    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags or torch.cuda.is_available()


def evaluate_loss(model, rows, pad_id: int) -> float:
    import torch

    if not rows:
        return float("nan")
    model.eval()
    total, weight = 0.0, 0.0
    with torch.no_grad():
        for start in range(0, len(rows), 8):
            idx = list(range(start, min(start + 8, len(rows))))
            ids, mask, w = collate(rows, idx, pad_id)
            total += weighted_loss(model, ids, mask, w).item() * w.sum().item()
            weight += w.sum().item()
    return total / max(weight, 1e-6)


