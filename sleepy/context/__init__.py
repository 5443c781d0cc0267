"""Context manager: rebuilds a focused prompt for every model call."""
