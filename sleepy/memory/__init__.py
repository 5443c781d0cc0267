"""External memory: the experience store, verified fixes, exact and similarity recall."""
