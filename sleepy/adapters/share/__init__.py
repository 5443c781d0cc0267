"""Shared-subspace skills (Share, arXiv 2602.06043): one evolving low-rank basis, tiny per-skill coefficients.

A LoRA skill costs ``r * (in + out)`` parameters per module; a share skill costs ``(k_B + k_A) * p``
coefficients on a basis shared by every skill, so it can be orders of magnitude smaller, and a merge
keeps all skills in one subspace instead of piling up adapters. Skills stay separate: the router
picks one per task; coefficients are never averaged.

Modules (PEFT's one-folder-per-tuner layout):

* ``config``: :class:`ShareConfig` (k fixed or by explained variance, pseudo-rank, init, training, merge policy);
* ``basis``: :func:`build_basis`, :class:`Basis` (save/load with its variance report), :class:`ShareSkill`,
  :func:`project`, :func:`reconstruct`, :func:`reconstruction_error`, :func:`load_lora_factors`;
* ``layer``: :class:`ShareLinear` (frozen linear + basis x coefficients delta, PEFT's alpha / r scaling), ``inject``;
* ``model``: :func:`train_share`, :func:`merge` / :func:`merge_release_folder` / :func:`should_merge`,
  :func:`export_skill` / :func:`export_release` / :func:`peft_folders` (PEFT LoRA export).

Storage formats are described in ``basis`` (basis folder, skill folder) and ``model`` (release layout).
"""

from sleepy.adapters.share.basis import (
    Basis,
    LoraFactors,
    ShareError,
    ShareSkill,
    build_basis,
    is_share_skill,
    load_lora_factors,
    project,
    reconstruct,
    reconstruction_error,
)
from sleepy.adapters.share.config import ShareConfig
from sleepy.adapters.share.model import (
    BASIS_DIR,
    MergeReport,
    MergeResult,
    average_skills,
    basis_dir,
    copy_basis,
    export_release,
    export_skill,
    lora_equivalent_parameters,
    merge,
    merge_release_folder,
    outside_error,
    peft_folders,
    read_skills,
    should_merge,
    train_share,
    write_peft,
)

__all__ = [
    "BASIS_DIR", "Basis", "LoraFactors", "MergeReport", "MergeResult", "ShareConfig", "ShareError", "ShareSkill",
    "average_skills", "basis_dir", "build_basis", "copy_basis", "export_release", "export_skill", "is_share_skill",
    "load_lora_factors", "lora_equivalent_parameters", "merge", "merge_release_folder", "outside_error",
    "peft_folders", "project", "read_skills", "reconstruct", "reconstruction_error", "should_merge", "train_share",
    "write_peft",
]
