"""Batched generation with stop sequences, token counts and latency: the model call of every step."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sleepy.model.loader import LoadedModel
from sleepy.tasks.edit import END


@dataclass
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    token_ids: list[int]
    seconds: float  # wall time of the batch this completion came from, shared by its batch


@dataclass
class GenerationConfig:
    max_new_tokens: int = 96
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 0.95
    n: int = 1  # samples per prompt
    stop: tuple[str, ...] = (END,)
    batch_size: int = 16
    seed: int = 0
    copy_anchors: bool = True  # '-' lines may only be program text (sleepy.model.constrain); needs sources
    copy_names: bool = True  # names in '+' lines only from the prompt or the model's names.json; needs sources


def _cut(text: str, stops: tuple[str, ...]) -> str:
    cut = len(text)
    for s in stops:
        i = text.find(s)
        if i != -1:
            cut = min(cut, i)
    return text[:cut]


def _constrainable(lm: LoadedModel) -> bool:
    """Constraints need a tokenizer whose tokens decode exactly one by one; otherwise they are off (logged)."""
    from sleepy.model.constrain import constraints_usable

    return constraints_usable(lm.tokenizer, lm.name)


def generate(lm: LoadedModel, prompts: list[str], cfg: GenerationConfig | None = None,
             streamer=None, sources: list[str] | None = None) -> list[list[Completion]]:
    """``cfg.n`` completions for each prompt, in prompt order; stop sequences are cut off.

    ``sources`` (the program each prompt is about) lets ``cfg.copy_anchors`` keep every ``-`` line
    of an edit to text that is in the program, and ``cfg.copy_names`` every name in a ``+`` line to
    the prompt's names and those the model's training introduced (models with ``names.json`` only).

    ``streamer`` (a transformers streamer: ``put(ids)``/``end()``) sees the tokens as they are made;
    it only makes sense for one prompt and ``n == 1``."""
    import torch

    cfg = cfg or GenerationConfig()
    tok, model = lm.tokenizer, lm.model
    flat = [lm.format_prompt(p) for p in prompts for _ in range(cfg.n)]
    if sources is not None and len(sources) != len(prompts):
        raise ValueError(f"generate: {len(sources)} sources for {len(prompts)} prompts")
    flat_sources = [s for s in sources for _ in range(cfg.n)] if sources else None
    names = cfg.copy_names and flat_sources is not None and lm.introduced is not None
    # Batches of similar length waste less on padding (prefill is compute-bound on a CPU); answers
    # go back in prompt order.
    order = sorted(range(len(flat)), key=lambda i: len(flat[i])) if cfg.batch_size > 1 else list(range(len(flat)))
    done: dict[int, Completion] = {}
    torch.manual_seed(cfg.seed)
    for start in range(0, len(flat), cfg.batch_size):
        rows = order[start:start + cfg.batch_size]
        batch = [flat[i] for i in rows]
        enc = tok(batch, return_tensors="pt", padding=True, add_special_tokens=not lm.chat).to(lm.device)
        width = enc["input_ids"].shape[1]
        processors = None
        if flat_sources is not None and (cfg.copy_anchors or names) and _constrainable(lm):
            from transformers import LogitsProcessorList

            from sleepy.model.constrain import AnchorCopy, NameCopy

            processors = LogitsProcessorList()
            if cfg.copy_anchors:
                processors.append(AnchorCopy(tok, [flat_sources[i] for i in rows], width))
            if names:
                processors.append(NameCopy(tok, [prompts[i // cfg.n] if flat_sources[i] else "" for i in rows],
                                           lm.introduced, width))
        began = time.perf_counter()
        with torch.inference_mode():
            ids = model.generate(**enc, max_new_tokens=cfg.max_new_tokens, do_sample=cfg.temperature > 0,
                                 temperature=cfg.temperature if cfg.temperature > 0 else None,
                                 top_p=cfg.top_p if cfg.temperature > 0 else None,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                                 stop_strings=list(cfg.stop) or None, tokenizer=tok, streamer=streamer,
                                 logits_processor=processors)
        seconds = time.perf_counter() - began
        for row in range(len(batch)):
            new = ids[row, width:].tolist()
            new = [t for t in new if t not in (tok.pad_token_id, tok.eos_token_id)]
            text = _cut(tok.decode(new, skip_special_tokens=True), cfg.stop)
            n_in = int(enc["attention_mask"][row].sum())
            done[rows[row]] = Completion(text, n_in, len(new), new, seconds)
    out = [done[i] for i in range(len(flat))]
    return [out[i * cfg.n:(i + 1) * cfg.n] for i in range(len(prompts))]
