"""Adapters: LoRA and shared-subspace skills, per-signature routing, the release registry."""
