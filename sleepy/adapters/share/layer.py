"""The Share layer: a frozen linear layer plus a delta built from the frozen basis and trainable coefficients.

The linear layer is an ``nn.Linear`` or GPT-2's ``Conv1D`` (the same x -> y map, its weight stored
transposed), whatever the architecture's projections are (:mod:`sleepy.model.architecture`).

``y = base(x) + (alpha / rank) * B @ A @ x`` with ``B = [U_B | E_B] @ C_B`` (out x rank) and
``A.T = [U_A | E_A] @ C_A`` (in x rank): PEFT's LoRA formula and scaling, so the reconstructed
factors exported as a PEFT LoRA (``r=rank, lora_alpha=alpha``) give the same outputs.

Only ``C_B``, ``C_A`` (and, if asked, the temporary extra vectors ``E_B``, ``E_A`` and their
coefficient rows) are parameters; the basis ``U`` is a non-persistent buffer, so it never trains and
never lands in a model's state dict. Both coefficient sets start small and random: if either side
were zero the other would get no gradient, and with both zero neither would (the saddle the
original Sleepy Coder started in). Extra vectors start as random unit directions orthogonal to the
basis, i.e. directions the shared subspace lacks.

:func:`inject` swaps the adapted linear modules of a model for :class:`ShareLinear` in
place and returns them by module name; the base weights are frozen by the caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from sleepy.model.architecture import features, is_linear

if TYPE_CHECKING:
    from sleepy.adapters.share.basis import Basis, ShareSkill
    from sleepy.adapters.share.config import ShareConfig


class ShareLinear(nn.Module):
    """A frozen linear layer with a shared-subspace delta; ``coef_*`` (and ``extra_*``) are the only parameters."""

    def __init__(self, base: nn.Module, basis_b: torch.Tensor, basis_a: torch.Tensor, rank: int, alpha: float,
                 extra_vectors: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        n_in, n_out = features(base)  # nn.Linear, or GPT-2's Conv1D (same x -> y map, weight stored transposed)
        if basis_b.shape[0] != n_out or basis_a.shape[0] != n_in:
            raise ValueError(f"basis {tuple(basis_b.shape)}/{tuple(basis_a.shape)} does not fit a "
                             f"{n_in}->{n_out} linear layer")
        self.base = base
        device = base.weight.device
        self.register_buffer("basis_b", basis_b.detach().float().to(device), persistent=False)
        self.register_buffer("basis_a", basis_a.detach().float().to(device), persistent=False)
        self.rank, self.alpha, self.scaling = rank, alpha, alpha / rank
        e = extra_vectors
        self.coef_b = nn.Parameter(torch.zeros(basis_b.shape[1] + e, rank, device=device))
        self.coef_a = nn.Parameter(torch.zeros(basis_a.shape[1] + e, rank, device=device))
        self.extra_b = nn.Parameter(torch.zeros(n_out, e, device=device)) if e else None
        self.extra_a = nn.Parameter(torch.zeros(n_in, e, device=device)) if e else None
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    # ------------------------------------------------------------------ state
    def reset(self, init_scale: float, init_scale_b: float, generator: torch.Generator | None = None) -> None:
        """Small random coefficients on both sides; extra vectors orthogonal to the basis and to each other."""
        with torch.no_grad():
            self.coef_a.copy_(torch.randn(self.coef_a.shape, generator=generator) * init_scale)
            self.coef_b.copy_(torch.randn(self.coef_b.shape, generator=generator) * init_scale_b)
            if self.extra_b is not None:
                self.extra_b.copy_(_orthogonal_complement(self.basis_b, self.extra_b.shape[1], generator))
                self.extra_a.copy_(_orthogonal_complement(self.basis_a, self.extra_a.shape[1], generator))

    def load(self, coef_b: torch.Tensor, coef_a: torch.Tensor, extra_b: torch.Tensor | None = None,
             extra_a: torch.Tensor | None = None) -> None:
        with torch.no_grad():
            self.coef_b.copy_(coef_b)
            self.coef_a.copy_(coef_a)
            if self.extra_b is not None:
                self.extra_b.copy_(extra_b)
                self.extra_a.copy_(extra_a)

    def factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(B [out x rank], A.T [in x rank]) in float32, differentiable in the coefficients."""
        ub, ua = self.basis_b, self.basis_a
        if self.extra_b is not None:
            ub, ua = torch.cat([ub, self.extra_b], dim=1), torch.cat([ua, self.extra_a], dim=1)
        return ub @ self.coef_b, ua @ self.coef_a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        b, at = self.factors()
        h = self.dropout(x)
        return out + self.scaling * ((h @ at.to(h.dtype)) @ b.T.to(h.dtype)).to(out.dtype)


def _orthogonal_complement(basis: torch.Tensor, count: int, generator: torch.Generator | None) -> torch.Tensor:
    """``count`` random unit columns orthogonal to ``basis`` and to each other (QR of [basis | noise])."""
    n, k = basis.shape
    if k + count > n:
        raise ValueError(f"{count} extra vectors do not fit beside {k} basis vectors in {n} dimensions")
    noise = torch.randn(n, count, generator=generator).double()
    q, _ = torch.linalg.qr(torch.cat([basis.detach().cpu().double(), noise], dim=1))
    return q[:, k:k + count].float()


def adapted_modules(model: nn.Module, basis: Basis, target_modules) -> list[str]:
    """Names of the linear modules that the basis covers and ``target_modules`` (short names) selects; empty
    ``target_modules``: every one the basis covers (the basis was built from skills on the architecture's own
    projections, :func:`sleepy.model.architecture.lora_targets`)."""
    targets = set(target_modules)
    return [name for name, mod in model.named_modules()
            if is_linear(mod) and name in basis.modules and (not targets or name.rsplit(".", 1)[-1] in targets)]


def inject(model: nn.Module, basis: Basis, config: ShareConfig, skill: ShareSkill | None = None,
           generator: torch.Generator | None = None) -> dict[str, ShareLinear]:
    """Replace every adapted linear layer of ``model`` by a :class:`ShareLinear`, in place.

    Without ``skill`` the coefficients are freshly initialised (training); with it they are loaded
    (inference, tests), and the skill's own rank, alpha and extra vectors are used.
    """
    if skill is None:
        names = adapted_modules(model, basis, config.target_modules)
    else:
        names = [n for n, m in model.named_modules() if is_linear(m) and n in skill.coefficients]
        if len(names) != len(skill.coefficients):
            raise ValueError("the skill adapts modules this model does not have as linear layers")
    if not names:
        raise ValueError("no linear layer of the model is both targeted and covered by the basis")
    rank, alpha = (skill.rank, skill.alpha) if skill else (config.rank, config.alpha)
    extra = skill.extra_vectors if skill else config.extra_vectors
    layers: dict[str, ShareLinear] = {}
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        ub, ua = basis.modules[name]
        layer = ShareLinear(getattr(parent, child), ub, ua, rank, alpha, extra, config.dropout)
        if skill is None:
            layer.reset(config.init_scale, config.init_scale_b, generator)
        else:
            eb, ea = skill.extras.get(name, (None, None))
            layer.load(*skill.coefficients[name], eb, ea)
        setattr(parent, child, layer)
        layers[name] = layer
    return layers
