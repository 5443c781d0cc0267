"""The Python koan pack: frozen hand-written koans and a template generator of day tasks."""
