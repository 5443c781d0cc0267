"""The learning loop: agent steps, day, night, gate, deploy."""
