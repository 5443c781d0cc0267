"""Core weights: load any Hugging Face causal LM; build and pretrain the bundled tiny coder."""
