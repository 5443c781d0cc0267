"""Settings of shared-subspace (Share) skills: basis size, coefficient shape, training, merge policy.

One dataclass for everything a night needs to decide, so a release can record exactly how its
basis and skills were made (``asdict(config)`` goes into ``basis/basis.json`` and each skill's
``share.json``).

Basis size. The paper's own scripts keep a fixed number of principal components per module
(``k``); the paper's text picks k by explained variance (60%). Both are here: ``explained_variance``
set -> the smallest k reaching it, clamped to ``[k_min, k_max]``; unset -> ``k`` as given. Either
way k never exceeds the number of directions the stacked factors actually hold.

Coefficient shape. A share skill's factors are ``B = U_B @ C_B`` (out x rank) and
``A = (U_A @ C_A).T`` (rank x in), where U are the frozen basis columns and C the trainable
coefficients (k x rank). ``rank`` is the paper's pseudo-rank p (1 is its usual choice); the delta is
scaled ``alpha / rank`` exactly as PEFT scales LoRA, so an exported skill is a plain LoRA with
``r=rank, lora_alpha=alpha``.

Storage precision. ``storage_dtype`` is the precision of the basis and coefficient files. Tensors are
rounded to it when they are made (``stored``), not only when written, so the basis or skill the night
evaluates is bit-for-bit the one it saves, and a basis keeps its content id across a save and a load.
Projection solves the normal equations, so a rounded (no longer exactly orthonormal) basis still
reproduces a delta it spans. float16 halves the files; its relative rounding (~5e-4) is far below what
a small k loses.

Initialisation. Both coefficient sets start small and random (never both zero: zero on both sides is
a saddle where every gradient vanishes, the original Sleepy Coder's bug). ``init_scale`` is the std
of the A side (which sets how strongly the input is read at the start) and ``init_scale_b`` of the B
side (which sets the size of the initial delta: small, so a fresh skill starts near the base model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sleepy.adapters.lora import DEFAULT_TARGETS

if TYPE_CHECKING:
    from torch import Tensor


@dataclass
class ShareConfig:
    # ---- basis
    k: int = 8  # components kept per module and side when explained_variance is None
    explained_variance: float | None = None  # e.g. 0.6: smallest k reaching it, within [k_min, k_max]
    k_min: int = 1
    k_max: int = 32
    storage_dtype: Literal["float32", "float16", "bfloat16"] = "float32"  # basis and coefficient files
    # ---- a coefficient-only skill
    rank: int = 1  # pseudo-rank p: columns of each coefficient matrix
    alpha: float = 2.0  # delta scaled alpha / rank, PEFT's LoRA convention
    extra_vectors: int = 0  # temporary trainable basis vectors per module and side (folded in at merge)
    init_scale: float = 0.1  # std of the A-side coefficients (and of extra-vector coefficients)
    init_scale_b: float = 0.01  # std of the B-side coefficients: a small initial delta, never zero
    dropout: float = 0.0
    target_modules: tuple[str, ...] = DEFAULT_TARGETS  # only modules the basis covers; empty: all it covers
    lr: float = 1e-2  # coefficients are few and unit-scaled by the orthonormal basis: a larger lr than LoRA
    steps: int = 40
    batch_tokens: int = 4096
    seed: int = 0
    # ---- merge policy (the night decides when to call merge; should_merge applies this)
    merge_policy: Literal["nightly", "on_error"] = "nightly"
    merge_max_error: float = 0.05  # on_error: merge when a skill's delta lies this far outside the basis

    def __post_init__(self) -> None:
        if self.rank < 1 or self.k < 1 or self.k_min < 1 or self.k_max < self.k_min:
            raise ValueError(f"bad share sizes: rank={self.rank} k={self.k} k_min={self.k_min} k_max={self.k_max}")
        if self.explained_variance is not None and not 0.0 < self.explained_variance <= 1.0:
            raise ValueError(f"explained_variance must be in (0, 1], got {self.explained_variance}")
        if self.extra_vectors < 0:
            raise ValueError("extra_vectors must be >= 0")
        if self.init_scale <= 0 or self.init_scale_b <= 0:
            raise ValueError("init scales must be > 0: zero coefficients on a side give it no gradient")
        if self.merge_policy not in ("nightly", "on_error"):
            raise ValueError(f"merge_policy must be 'nightly' or 'on_error', got {self.merge_policy!r}")
        if self.storage_dtype not in STORAGE_DTYPES:
            raise ValueError(f"storage_dtype must be one of {', '.join(STORAGE_DTYPES)}, got {self.storage_dtype!r}")
        self.target_modules = tuple(self.target_modules)

    def choose_k(self, ratios: list[float]) -> int:
        """Components wanted given one side's explained-variance ratios (descending); the caller caps it
        at the directions the data actually holds."""
        if self.explained_variance is None:
            return self.k
        total, k = 0.0, 0
        for r in ratios:
            k += 1
            total += r
            if total >= self.explained_variance - 1e-9:
                break
        return max(self.k_min, min(self.k_max, k))


STORAGE_DTYPES = ("float32", "float16", "bfloat16")


def torch_dtype(name: str):
    """The torch dtype of a ``storage_dtype`` name."""
    import torch

    return getattr(torch, name)


def stored(t: Tensor, dtype: str) -> Tensor:
    """``t`` as float32 holding exactly the values a ``dtype`` file keeps (computation stays in float32)."""
    import torch

    out = t.detach().to(torch_dtype(dtype)).float().contiguous()
    if not torch.isfinite(out).all():
        raise ValueError(f"a share tensor does not fit {dtype} (max |value| {t.abs().max().item():.3g})")
    return out
