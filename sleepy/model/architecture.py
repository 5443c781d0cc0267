"""What differs between causal-LM architectures, read off the model itself instead of listed per family.

Why: ``--model`` takes any Hugging Face causal LM, and the families name (and build) their projections
differently: Llama, Qwen2/3, Mistral and Gemma have ``q_proj`` ... ``down_proj``; Phi-3 fuses them
(``qkv_proj``, ``gate_up_proj``); GPT-2 has ``c_attn``/``c_proj``/``c_fc`` as transformers' ``Conv1D``
(weight stored in x out); GPT-NeoX has ``query_key_value``/``dense``/``dense_h_to_4h``/``dense_4h_to_h``;
StarCoder2 mixes Llama attention names with GPT-2's MLP names. A fixed list of Llama names adapts nothing
on half of them, so the LoRA targets are discovered: every linear projection inside the model's repeated
blocks (attention and MLP), never the embeddings or the output head. On a Llama-style model this is
exactly ``q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj``, what sleepy always adapted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sleepy.model.loader import ModelLoadError

if TYPE_CHECKING:
    from torch import nn


class NoTargets(ModelLoadError):
    """A model with no linear projections in its blocks: LoRA has nothing to adapt. A ``ModelLoadError``, so
    the commands that already report an unusable model in one line (a night aborts, production untouched)
    report this one too."""


def _conv1d_type():
    """transformers' GPT-2 style ``Conv1D`` (a linear layer with its weight stored in x out), if importable."""
    try:
        from transformers.pytorch_utils import Conv1D
    except ImportError:  # pragma: no cover - every supported transformers has it
        return None
    return Conv1D


def is_conv1d(module: nn.Module) -> bool:
    conv = _conv1d_type()
    return conv is not None and isinstance(module, conv)


def is_linear(module: nn.Module) -> bool:
    """A dense projection LoRA can adapt: ``nn.Linear`` or transformers' ``Conv1D`` (PEFT handles both)."""
    from torch import nn

    return isinstance(module, nn.Linear) or is_conv1d(module)


def features(module: nn.Module) -> tuple[int, int]:
    """(in, out) of a linear-like module: ``Conv1D`` keeps its weight as in x out, ``nn.Linear`` as out x in."""
    rows, cols = module.weight.shape
    return (rows, cols) if is_conv1d(module) else (cols, rows)


def block_projections(model: nn.Module) -> list[str]:
    """Full names of the linear-like modules inside the model's numbered blocks (``...layers.3.mlp.up_proj``).

    A numbered path part is what a ``ModuleList`` of decoder layers gives every family; the output head
    is excluded by identity, since some families keep it beside the blocks under a name of their own."""
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    return [name for name, module in model.named_modules()
            if is_linear(module) and module is not head and any(part.isdigit() for part in name.split("."))]


def lora_targets(model: nn.Module) -> tuple[str, ...]:
    """The short module names (PEFT's and vLLM's ``target_modules``) of every projection in the blocks,
    in model order; :class:`NoTargets` when there are none."""
    names = block_projections(model)
    if not names:
        config = getattr(model, "config", None)
        kind = getattr(config, "model_type", type(model).__name__)
        where = getattr(config, "_name_or_path", "") or "in memory"
        raise NoTargets(f"model {where!r} (type {kind!r}): no linear projections found in its layers, "
                        "so LoRA cannot adapt it")
    return tuple(dict.fromkeys(name.rsplit(".", 1)[-1] for name in names))


def fan_in_fan_out(model: nn.Module, targets: tuple[str, ...]) -> bool:
    """Whether the targeted projections are ``Conv1D`` (GPT-2): PEFT must then be told their weight is
    stored transposed (it would otherwise correct the flag itself, with a warning)."""
    wanted = set(targets)
    return any(is_conv1d(m) for n, m in model.named_modules() if n.rsplit(".", 1)[-1] in wanted)
