"""Telemetry: one wide event per attempt."""
