"""The shared basis: built from LoRA factors by SVD, stored with its variance report; projection and reconstruction.

Method (Share, arXiv 2602.06043; checked against its authors' EigenFlux code). For every adapted
module, each side is handled separately:

* B side: every skill's ``B`` (out x r) as is; A side: every skill's ``A.T`` (in x r). That is, each
  factor oriented with its long side as rows, the skills' rank columns side by side: ``M`` is
  n x (sum of ranks).
* mean-centre ``M`` over its columns, SVD, keep the top-k left singular vectors (fixed k, or by
  explained variance within bounds: :class:`ShareConfig`).
* The mean is a sum of the data columns, so centring removes one direction of their span. When
  every centred direction is kept and k asks for more, the mean's residual is appended as one more
  unit column, so a basis with enough room spans its skills exactly (projection error ~0). There is
  no mean offset in reconstruction: a skill is a pure product ``B @ A`` whose zero must stay
  representable, and the authors' code projects the raw factors too.

Projection is analytic: the least-squares coefficients of each side, ``C_B = (U_B.T U_B)^-1 U_B.T @ B``
(``U_B.T @ B`` for the orthonormal columns the SVD gives; the normal equations also keep a basis that
was rounded to float16 for storage exact on what it spans), and likewise ``C_A`` for ``A.T``. Reconstruction is
``B = U_B @ C_B``, ``A = (U_A @ C_A).T`` (plus a skill's temporary extra vectors, if any).
Errors are measured on what matters, the weight delta ``(alpha / r) B A``, exactly and cheaply
through traces of r x r matrices, never forming the out x in matrix.

Storage (a folder, normally ``<release>/basis/``):
* ``basis.safetensors``: ``<module>.B`` (out x k_B) and ``<module>.A`` (in x k_A), in the config's
  ``storage_dtype`` (float32 unless set; the night uses ``Settings.share_dtype``, float16);
* ``basis.json``: ``{"id", "sources", "config", "modules": {module: {"out", "in", "k_B", "k_A"}}}``;
* ``variance.json``: the variance report (per module and side: singular values, explained-variance
  ratios, k kept, cumulative explained variance at k, whether the mean direction was appended).
The basis ``id`` is a hash of its tensors; every share skill records the id of the basis its
coefficients refer to, and loading a skill against another basis is refused.

A share skill folder (normally ``<release>/skills/<name>/``):
* ``share.json``: ``{"kind": "share", "basis_id", "rank", "alpha", "target_modules", "modules",
  "extra_vectors", "trainable_parameters", ...}``;
* ``coefficients.safetensors``: ``<module>.coef_B`` ((k_B + e) x rank), ``<module>.coef_A``
  ((k_A + e) x rank) and, when the skill has e temporary vectors, ``<module>.extra_B`` (out x e) and
  ``<module>.extra_A`` (in x e).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sleepy.adapters.share.config import STORAGE_DTYPES, ShareConfig, stored, torch_dtype

if TYPE_CHECKING:
    from torch import Tensor

BASIS_FILE = "basis.safetensors"
BASIS_META = "basis.json"
VARIANCE_FILE = "variance.json"
SKILL_META = "share.json"
SKILL_FILE = "coefficients.safetensors"
_NULL = 1e-6  # singular values below this fraction of the largest are numerical noise, not directions


class ShareError(RuntimeError):
    """A basis or share skill that cannot be used as asked; the message is one line."""


# ---------------------------------------------------------------------------------------------- LoRA factors
@dataclass
class LoraFactors:
    """One skill as plain LoRA factors: module -> (B [out x r], A [r x in]); delta = alpha / r * B @ A."""

    rank: int
    alpha: float
    factors: dict[str, tuple[Tensor, Tensor]]
    target_modules: tuple[str, ...] = ()

    @property
    def scaling(self) -> float:
        return self.alpha / self.rank

    def delta(self, module: str) -> Tensor:
        b, a = self.factors[module]
        return self.scaling * (b.double() @ a.double())


def module_suffixes(modules) -> tuple[str, ...]:
    """The short names (``q_proj``...) of full module paths: PEFT's and vLLM's ``target_modules``."""
    return tuple(sorted({m.rsplit(".", 1)[-1] for m in modules}))


def load_lora_factors(folder: Path) -> LoraFactors:
    """Read a PEFT LoRA folder (``adapter_config.json`` + ``adapter_model.safetensors``) as factors.

    Refuses the LoRA variants whose delta is not ``alpha / r * B @ A`` with one r (rsLoRA, DoRA,
    per-module rank or alpha patterns): projecting them as plain LoRA would be silently wrong.
    ``fan_in_fan_out`` (GPT-2's ``Conv1D`` layers) is plain LoRA: A still reads the input and B writes the
    output, the flag only says the base weight is stored transposed.
    """
    from safetensors.torch import load_file

    cfg = json.loads((folder / "adapter_config.json").read_text())
    if cfg.get("peft_type", "LORA") != "LORA":
        raise ShareError(f"{folder}: not a LoRA adapter ({cfg.get('peft_type')})")
    for flag in ("use_rslora", "use_dora"):
        if cfg.get(flag):
            raise ShareError(f"{folder}: {flag} adapters are not supported by the shared basis")
    if cfg.get("rank_pattern") or cfg.get("alpha_pattern"):
        raise ShareError(f"{folder}: per-module rank/alpha patterns are not supported by the shared basis")
    sd = load_file(str(folder / "adapter_model.safetensors"))
    found: dict[str, dict[str, Tensor]] = {}
    for key, value in sd.items():
        for side in ("lora_A", "lora_B"):
            marker = f".{side}."
            if marker in key:
                module = key.split(marker)[0].removeprefix("base_model.model.")
                found.setdefault(module, {})[side] = value.float()
    factors = {m: (s["lora_B"], s["lora_A"]) for m, s in sorted(found.items()) if len(s) == 2}
    if not factors:
        raise ShareError(f"{folder}: no LoRA factors found")
    targets = cfg.get("target_modules") or module_suffixes(factors)
    targets = (targets,) if isinstance(targets, str) else tuple(sorted(targets))
    return LoraFactors(int(cfg["r"]), float(cfg["lora_alpha"]), factors, targets)


# ---------------------------------------------------------------------------------------------- the basis
@dataclass
class Basis:
    """Per module the frozen (orthonormal up to storage rounding) columns U_B [out x k_B], U_A [in x k_A],
    and the variance report."""

    modules: dict[str, tuple[Tensor, Tensor]]
    report: dict = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)

    @cached_property
    def id(self) -> str:
        """A content hash of the tensors: a skill's coefficients are only meaningful against this exact basis.

        Computed once (a basis is never modified after it is built or loaded; build a new one instead).
        """
        h = hashlib.sha256()
        for module in sorted(self.modules):
            for side, u in zip("BA", self.modules[module], strict=True):
                h.update(f"{module}.{side}:{tuple(u.shape)}".encode())
                h.update(u.detach().float().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]

    def parameters(self) -> int:
        return sum(b.numel() + a.numel() for b, a in self.modules.values())

    @property
    def storage_dtype(self) -> str:
        return self.config.get("storage_dtype", "float32")

    @property
    def dtype(self):
        return torch_dtype(self.storage_dtype)

    def save(self, folder: Path) -> Path:
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        tensors = {}
        for module, (b, a) in self.modules.items():
            tensors[f"{module}.B"] = b.to(self.dtype).contiguous()
            tensors[f"{module}.A"] = a.to(self.dtype).contiguous()
        save_file(tensors, str(folder / BASIS_FILE))
        meta = {"id": self.id, "sources": self.sources, "config": self.config,
                "modules": {m: {"out": b.shape[0], "in": a.shape[0], "k_B": b.shape[1], "k_A": a.shape[1]}
                            for m, (b, a) in sorted(self.modules.items())}}
        (folder / BASIS_META).write_text(json.dumps(meta, indent=2, sort_keys=True))
        (folder / VARIANCE_FILE).write_text(json.dumps(self.report, indent=2, sort_keys=True))
        return folder

    @classmethod
    def load(cls, folder: Path) -> Basis:
        from safetensors.torch import load_file

        if not (folder / BASIS_FILE).is_file():
            raise ShareError(f"no shared basis at {folder}")
        meta = json.loads((folder / BASIS_META).read_text())
        dtype = meta.get("config", {}).get("storage_dtype", "float32")
        if dtype not in STORAGE_DTYPES:
            raise ShareError(f"basis at {folder}: unknown storage_dtype {dtype!r}")
        sd = load_file(str(folder / BASIS_FILE))
        modules = {m: (sd[f"{m}.B"].float(), sd[f"{m}.A"].float()) for m in meta["modules"]}
        report = json.loads((folder / VARIANCE_FILE).read_text()) if (folder / VARIANCE_FILE).is_file() else {}
        basis = cls(modules, report, meta.get("sources", []), meta.get("config", {}))
        if meta.get("id") and meta["id"] != basis.id:
            raise ShareError(f"basis at {folder}: content does not match its recorded id {meta['id']}")
        return basis


def _side_basis(columns: Tensor, config: ShareConfig) -> tuple[Tensor, dict]:
    """Orthonormal columns for one side of one module, and that side's variance report."""
    import torch

    m = columns.double()
    mean = m.mean(dim=1, keepdim=True)
    u, s, _ = torch.linalg.svd(m - mean, full_matrices=False)
    energy = (s**2).sum().item()
    ratios = [(v**2).item() / energy for v in s] if energy > 0 else [0.0] * len(s)
    available = int((s > _NULL * s[0]).sum().item()) if energy > 0 else 0
    wanted = config.choose_k(ratios[:available])
    k = min(wanted, available)
    kept = u[:, :k]
    mean_direction = False
    if wanted > k:  # room left after every centred direction: complete the span with the mean's residual
        residual = mean[:, 0] - kept @ (kept.T @ mean[:, 0])
        if residual.norm() > _NULL * max(mean.norm().item(), 1e-30) and residual.norm() > 0:
            kept = torch.cat([kept, (residual / residual.norm())[:, None]], dim=1)
            mean_direction = True
    report = {"rows": m.shape[0], "columns": m.shape[1], "k": kept.shape[1], "k_centred": k,
              "mean_direction": mean_direction, "explained_at_k": round(sum(ratios[:k]), 6),
              "explained": [round(r, 6) for r in ratios[:available]],
              "singular_values": [round(v, 6) for v in s[:available].tolist()]}
    return kept.float().contiguous(), report


def build_basis(adapters: Mapping[str, LoraFactors], config: ShareConfig) -> Basis:
    """Stack each module's factors of ``adapters`` (name -> factors) per side, centre, SVD, keep the top k."""
    import torch

    if not adapters:
        raise ShareError("a shared basis needs at least one adapter")
    modules = sorted({m for f in adapters.values() for m in f.factors})
    out: dict[str, tuple[Tensor, Tensor]] = {}
    report: dict = {"modules": {}}
    for module in modules:
        pairs = [f.factors[module] for f in adapters.values() if module in f.factors]
        b_cols = torch.cat([b for b, _ in pairs], dim=1)
        a_cols = torch.cat([a.T for _, a in pairs], dim=1)
        ub, rep_b = _side_basis(b_cols, config)
        ua, rep_a = _side_basis(a_cols, config)
        ub, ua = stored(ub, config.storage_dtype), stored(ua, config.storage_dtype)
        if ub.shape[1] == 0 or ua.shape[1] == 0:
            continue  # all-zero factors (an untrained side): nothing to span
        out[module] = (ub, ua)
        report["modules"][module] = {"B": rep_b, "A": rep_a}
    sides = [s for rep in report["modules"].values() for s in rep.values()]
    report["summary"] = {
        "modules": len(out), "sources": sorted(adapters),
        "parameters": sum(b.numel() + a.numel() for b, a in out.values()),
        "k_mean": round(sum(s["k"] for s in sides) / max(len(sides), 1), 3),
        "explained_at_k_mean": round(sum(s["explained_at_k"] for s in sides) / max(len(sides), 1), 6),
        "explained_at_k_min": round(min((s["explained_at_k"] for s in sides), default=0.0), 6),
    }
    return Basis(out, report, sorted(adapters), asdict(config))


# ---------------------------------------------------------------------------------------------- share skills
@dataclass
class ShareSkill:
    """A skill as coefficients on a basis: module -> (C_B [(k_B+e) x rank], C_A [(k_A+e) x rank]).

    ``extras`` holds the temporary extra basis vectors a skill trained with (module -> (E_B [out x e],
    E_A [in x e])); the last e rows of each coefficient matrix belong to them. A merge folds them into
    the shared basis and the skill comes back without extras.
    """

    rank: int
    alpha: float
    basis_id: str
    coefficients: dict[str, tuple[Tensor, Tensor]]
    extras: dict[str, tuple[Tensor, Tensor]] = field(default_factory=dict)
    target_modules: tuple[str, ...] = ()
    storage_dtype: str = "float32"

    def __post_init__(self) -> None:
        # rounded once here, so the skill in memory is exactly the one its file holds
        self.coefficients = {m: (stored(cb, self.storage_dtype), stored(ca, self.storage_dtype))
                             for m, (cb, ca) in self.coefficients.items()}
        self.extras = {m: (stored(eb, self.storage_dtype), stored(ea, self.storage_dtype))
                       for m, (eb, ea) in self.extras.items()}

    @property
    def scaling(self) -> float:
        return self.alpha / self.rank

    @property
    def extra_vectors(self) -> int:
        return next((eb.shape[1] for eb, _ in self.extras.values()), 0)

    def trainable_parameters(self) -> int:
        """What this skill adds on top of the shared basis (coefficients, plus extra vectors while it has them)."""
        n = sum(cb.numel() + ca.numel() for cb, ca in self.coefficients.values())
        return n + sum(eb.numel() + ea.numel() for eb, ea in self.extras.values())

    def save(self, folder: Path, manifest: dict | None = None) -> Path:
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        dtype = torch_dtype(self.storage_dtype)
        tensors = {}
        for module, (cb, ca) in self.coefficients.items():
            tensors[f"{module}.coef_B"] = cb.detach().to(dtype).contiguous()
            tensors[f"{module}.coef_A"] = ca.detach().to(dtype).contiguous()
        for module, (eb, ea) in self.extras.items():
            tensors[f"{module}.extra_B"] = eb.detach().to(dtype).contiguous()
            tensors[f"{module}.extra_A"] = ea.detach().to(dtype).contiguous()
        save_file(tensors, str(folder / SKILL_FILE))
        meta = {"kind": "share", "basis_id": self.basis_id, "rank": self.rank, "alpha": self.alpha,
                "target_modules": list(self.target_modules), "modules": sorted(self.coefficients),
                "extra_vectors": self.extra_vectors, "trainable_parameters": self.trainable_parameters(),
                "storage_dtype": self.storage_dtype,
                **(manifest or {})}
        (folder / SKILL_META).write_text(json.dumps(meta, indent=2, sort_keys=True))
        return folder

    @classmethod
    def load(cls, folder: Path, basis: Basis | None = None) -> ShareSkill:
        """Read a skill folder; with ``basis``, refuse it unless its coefficients refer to that basis."""
        from safetensors.torch import load_file

        if not (folder / SKILL_META).is_file():
            raise ShareError(f"no share skill at {folder}")
        meta = json.loads((folder / SKILL_META).read_text())
        if meta.get("storage_dtype", "float32") not in STORAGE_DTYPES:
            raise ShareError(f"share skill {folder.name}: unknown storage_dtype {meta['storage_dtype']!r}")
        if basis is not None and meta["basis_id"] != basis.id:
            raise ShareError(f"share skill {folder.name} refers to basis {meta['basis_id']}, not {basis.id}: "
                             "re-project it (merge) before use")
        sd = load_file(str(folder / SKILL_FILE))
        coefs = {m: (sd[f"{m}.coef_B"], sd[f"{m}.coef_A"]) for m in meta["modules"]}
        extras = {m: (sd[f"{m}.extra_B"], sd[f"{m}.extra_A"]) for m in meta["modules"] if f"{m}.extra_B" in sd}
        return cls(int(meta["rank"]), float(meta["alpha"]), meta["basis_id"], coefs, extras,
                   tuple(meta.get("target_modules", ())), meta.get("storage_dtype", "float32"))


def is_share_skill(folder: Path) -> bool:
    return (folder / SKILL_META).is_file()


def project(basis: Basis, adapter: LoraFactors) -> ShareSkill:
    """The analytic coefficients of ``adapter`` on ``basis``: the least-squares projection of each side.

    Normal equations rather than ``U.T @ X``: a basis rounded to its storage precision is only nearly
    orthonormal, and a delta it spans must still come back exactly.
    """
    # a module whose delta is exactly zero (an untrained side) may be absent from the basis: it is dropped
    kept = {m: f for m, f in adapter.factors.items() if m in basis.modules or bool(f[0].any() and f[1].any())}
    missing = sorted(set(kept) - set(basis.modules))
    if missing:
        raise ShareError(f"modules not in the basis: {', '.join(missing[:3])}{'...' if len(missing) > 3 else ''}")
    coefs = {}
    for module, (b, a) in kept.items():
        ub, ua = basis.modules[module]
        coefs[module] = (_least_squares(ub, b), _least_squares(ua, a.T))
    return ShareSkill(adapter.rank, adapter.alpha, basis.id, coefs, {},
                      adapter.target_modules or module_suffixes(adapter.factors), basis.storage_dtype)


def _least_squares(u: Tensor, x: Tensor) -> Tensor:
    """argmin_C ||u C - x||: (u.T u)^-1 u.T x, in double (u has full column rank: built by an SVD)."""
    import torch

    ud = u.double()
    return torch.linalg.solve(ud.T @ ud, ud.T @ x.double()).float()


def reconstruct(basis: Basis, skill: ShareSkill) -> LoraFactors:
    """The skill's plain LoRA factors: ``B = [U_B | E_B] @ C_B``, ``A = ([U_A | E_A] @ C_A).T``."""
    import torch

    if skill.basis_id != basis.id:
        raise ShareError(f"skill coefficients refer to basis {skill.basis_id}, not {basis.id}")
    factors = {}
    for module, (cb, ca) in skill.coefficients.items():
        ub, ua = basis.modules[module]
        if module in skill.extras:
            eb, ea = skill.extras[module]
            ub, ua = torch.cat([ub, eb.to(ub.dtype)], dim=1), torch.cat([ua, ea.to(ua.dtype)], dim=1)
        factors[module] = ((ub.double() @ cb.double()).float(), (ua.double() @ ca.double()).T.float().contiguous())
    return LoraFactors(skill.rank, skill.alpha, factors, skill.target_modules or module_suffixes(factors))


def _delta_inner(x: LoraFactors, y: LoraFactors, module: str) -> float:
    """<dW_x, dW_y> (Frobenius) through r x r traces: tr(B_x.T B_y A_y A_x.T) * scalings."""
    bx, ax = (t.double() for t in x.factors[module])
    by, ay = (t.double() for t in y.factors[module])
    return x.scaling * y.scaling * float(((bx.T @ by) * (ax @ ay.T)).sum())


def reconstruction_error(reference: LoraFactors, approx: LoraFactors) -> dict:
    """Relative Frobenius errors of ``approx`` against ``reference``: the weight delta overall and per module.

    ``delta`` is ``sqrt(sum ||dW - dW'||^2 / sum ||dW||^2)`` over all modules; ``delta_max`` the worst
    module; ``B``/``A`` the factor errors per side when both have the same rank (after a projection).
    A module missing from ``approx`` counts as entirely lost.
    """
    num = den = 0.0
    worst = 0.0
    side_num = {"B": 0.0, "A": 0.0}
    side_den = {"B": 0.0, "A": 0.0}
    for module in reference.factors:
        ref = _delta_inner(reference, reference, module)
        if module in approx.factors:
            err = ref + _delta_inner(approx, approx, module) - 2 * _delta_inner(reference, approx, module)
        else:
            err = ref
        err = max(err, 0.0)
        num, den = num + err, den + ref
        worst = max(worst, (err / ref) ** 0.5 if ref > 0 else 0.0)
        if module in approx.factors and reference.rank == approx.rank:
            for i, side in enumerate("BA"):
                r, a = reference.factors[module][i].double(), approx.factors[module][i].double()
                side_num[side] += float(((r - a) ** 2).sum())
                side_den[side] += float((r**2).sum())
    out = {"delta": round((num / den) ** 0.5 if den > 0 else 0.0, 8), "delta_max": round(worst, 8)}
    if side_den["B"] > 0 or side_den["A"] > 0:
        out.update({s: round((side_num[s] / side_den[s]) ** 0.5 if side_den[s] > 0 else 0.0, 8) for s in "BA"})
    return out
