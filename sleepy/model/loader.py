"""Load a causal LM and its tokenizer from a path or hub id, with one-line errors.

The bundled model (``sleepy-tiny-coder``) and, say, ``Qwen/Qwen2.5-Coder-1.5B-Instruct`` on a GPU box
go through the same code path. Offline (``HF_HUB_OFFLINE=1``, or no network) a hub id that is not
in the local cache fails with a message that says so instead of a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BUNDLED_NAME = "sleepy-tiny-coder"
BUNDLED_DIR = Path(__file__).parent / "bundled" / BUNDLED_NAME


class ModelLoadError(RuntimeError):
    """A model that cannot be loaded; the message is one line naming the model and the fix."""


@dataclass
class LoadedModel:
    name: str
    path: str
    model: object  # transformers PreTrainedModel
    tokenizer: object  # transformers PreTrainedTokenizerBase
    device: str
    dtype: str
    introduced: dict[str, frozenset[str]] | None = None  # per pack, names its training edits brought in
    # (names.json, written by ``sleepy pretrain``); None: a model that spells names on its own

    def introduce(self, more: dict[str, list[str]]) -> None:
        """Allow the names a skill's training edits introduced too (a night can teach new ones)."""
        if self.introduced is not None:
            self.introduced = {p: self.introduced.get(p, frozenset()) | frozenset(more.get(p, ()))
                               for p in {*self.introduced, *more}}

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    @property
    def chat(self) -> bool:
        """Instruct models (a chat template) get the prompt as one user message; base models get it raw."""
        return bool(getattr(self.tokenizer, "chat_template", None))

    def format_prompt(self, prompt: str) -> str:
        return format_for(self.tokenizer, prompt)

    def generate(self, prompts: list[str], cfg=None, sources: list[str] | None = None) -> list:
        """:func:`sleepy.model.generation.generate` on these weights: the call every backend answers
        (:class:`sleepy.model.remote.RemoteLM` too), so the agent never asks which one it has."""
        from sleepy.model.generation import generate

        return generate(self, prompts, cfg, sources=sources)


def format_for(tokenizer, prompt: str) -> str:
    """The prompt as the model reads it: one user message through the chat template where the tokenizer has
    one (instruct models), raw otherwise (base models). Generation and skill training both use it, so a
    skill learns the very format it is served in."""
    if not getattr(tokenizer, "chat_template", None):
        return prompt
    return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)


def pick_device(device: str = "auto") -> tuple[str, str]:
    """(device, dtype): CUDA with bf16 when present, else CPU with float32."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = "bfloat16" if device.startswith("cuda") and torch.cuda.is_bf16_supported() else "float32"
    return device, dtype


def resolve(model_ref: str | None) -> str:
    """``None``/``"bundled"`` -> the shipped model's folder; anything else is a path or a hub id."""
    if model_ref in (None, "", "bundled", BUNDLED_NAME):
        if not (BUNDLED_DIR / "config.json").is_file():
            raise ModelLoadError(f"the bundled model is missing at {BUNDLED_DIR}: run 'sleepy pretrain' to build it")
        return str(BUNDLED_DIR)
    return model_ref


def model_hash(path: str) -> str:
    """Content hash of a local model folder (config, tokenizer and weights), or the hub id itself."""
    folder = Path(path)
    if not folder.is_dir():
        return hashlib.sha256(path.encode()).hexdigest()[:16]
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file() and f.suffix in (".json", ".safetensors", ".txt", ".model"):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def load_model(model_ref: str | None = None, device: str = "auto", fresh: bool = False) -> LoadedModel:
    """Load (cached per path and device); ``fresh`` gives a private copy that adapters may modify."""
    path = resolve(model_ref)
    return _load_uncached(path, device) if fresh else _load(path, device)


@cache
def _load(path: str, device: str) -> LoadedModel:
    return _load_uncached(path, device)


def _load_uncached(path: str, device: str) -> LoadedModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()

    dev, dtype = pick_device(device)
    local = Path(path).is_dir()
    if not local and ("/" not in path or path.startswith((".", "/"))):
        raise ModelLoadError(f"model {path!r}: no such folder (and not a hub id like 'org/name')")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local or _offline())
        model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype),
                                                     local_files_only=local or _offline())
    except OSError as exc:
        hint = " (offline: the hub cannot be reached; pass a local folder)" if not local else ""
        raise ModelLoadError(f"cannot load model {path!r}{hint}: {str(exc).splitlines()[0]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    model.to(dev).eval()
    return LoadedModel(name=Path(path).name if local else path, path=path, model=model,
                       tokenizer=tokenizer, device=dev, dtype=dtype, introduced=read_names(path))


def read_names(path: str) -> dict[str, frozenset[str]] | None:
    """A model folder's ``names.json`` (per pack, the names its training edits introduced), or None."""
    from sleepy.model.constrain import NAMES_FILE

    file = Path(path) / NAMES_FILE
    if not file.is_file():
        return None
    return {pack: frozenset(names) for pack, names in json.loads(file.read_text()).items()}


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("TRANSFORMERS_OFFLINE") == "1"
